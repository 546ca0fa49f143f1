/**
 * Whole-process tracing with real programs: crashes, fork/exec, dlopen, signal handlers,
 * timeouts, leftover daemons. Stacks are compared with gdb where gdb can follow the same path.
 */
import { expandHits } from '../../src/capture/model';
import { execFileSync } from 'node:child_process';
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import type { Frame } from '../../src/capture/types';
import { buildFixture } from '../helpers/fixtures';
import { gdbBacktraces, namesUpToMain } from '../helpers/gdb';

afterAll(() => shutdownTracer());

const names = (frames: Frame[]) => namesUpToMain(frames.map((f) => ({ func: f.symbol ?? '??' })));

function survivors(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(marker) && !/\sZ/.test(l));
}

describe('crash catcher', () => {
  const bin = buildFixture('crash_null.c');

  test('a null dereference three frames deep: crash stack with fault address, program killed as without us', async () => {
    const { capture, stdout } = await recordWithPtrace([bin], { hooks: [] });
    expect(stdout).toBe('starting\n');
    expect(capture.exit).toEqual({ code: null, signal: 'SIGSEGV' });
    expect(capture.crash).not.toBeNull();
    expect(capture.crash!.signal).toBe('SIGSEGV');
    expect(capture.crash!.faultAddress).toBe('0x0');
    expect(names(capture.crash!.frames)).toEqual(['inner', 'middle', 'outer', 'main']);
    expect(capture.crash!.frames[0]).toMatchObject({ file: expect.stringMatching(/crash_null\.c$/), line: 9 });
  });

  test('abort() from a failed assertion: SIGABRT with the stack through libc back to the caller', async () => {
    const { capture, stderr } = await recordWithPtrace([bin, 'abort'], { hooks: [] });
    expect(stderr).toMatch(/Assertion .* failed/);
    expect(capture.exit.signal).toBe('SIGABRT');
    expect(capture.crash!.faultAddress).toBeNull();
    const n = names(capture.crash!.frames);
    // libc's internal aliases (__GI___assert_fail) are what gdb prints too
    expect(n.slice(-2)).toEqual(['check_positive', 'main']);
    expect(n[n.length - 3]).toMatch(/__assert_fail$/);
    expect(n.some((x) => /abort$/.test(x))).toBe(true);
  });
});

describe('fork and exec', () => {
  const parent = buildFixture('fork_exec.c');
  const chain = buildFixture('chain.c');

  test('hooks fire in the parent, in the forked child, and in the image the child execs', async () => {
    const { capture, stdout } = await recordWithPtrace([parent, chain, '2'], {
      hooks: ['parent_work', 'child_work', 'leaf@chain'],
    });
    expect(stdout).toContain('total=');
    expect(capture.exit).toEqual({ code: 0, signal: null });
    const by = (hook: string) => expandHits(capture).filter((h) => h.hook === hook);
    expect(by('parent_work')).toHaveLength(2);
    expect(by('child_work')).toHaveLength(1);
    expect(by('leaf@chain')).toHaveLength(4);
    const parentPid = by('parent_work')[0].pid;
    expect(by('child_work')[0].pid).not.toBe(parentPid);
    expect(by('leaf@chain')[0].pid).toBe(by('child_work')[0].pid);
    expect(names(by('leaf@chain')[0].frames)).toEqual(['leaf', 'mid', 'top', 'main']);
    expect(names(by('child_work')[0].frames)).toEqual(['child_work', 'main']);
  });

  test('with followChildren off, only the parent is traced and the child runs untouched', async () => {
    const { capture } = await recordWithPtrace([parent, chain, '2'], {
      hooks: ['parent_work', 'child_work', 'leaf@chain'],
      followChildren: false,
    });
    expect(capture.exit).toEqual({ code: 0, signal: null });
    expect(expandHits(capture).map((h) => h.hook)).toEqual(['parent_work', 'parent_work']);
  });
});

describe('dlopen', () => {
  const host = buildFixture('dlopen_host.c', { libs: ['-ldl'] });
  const plugin = buildFixture('dlopen_plugin.c', { shared: true });

  test('a hook in a library loaded late is planted when it appears, with stacks equal to gdb', async () => {
    const { capture } = await recordWithPtrace([host, plugin, '3'], { hooks: ['plugin_helper@libdlopen_plugin.so'] });
    expect(expandHits(capture)).toHaveLength(3);
    expect(capture.hooks[0].resolved[0].module).toBe(plugin);
    const oracle = gdbBacktraces([host, plugin, '3'], { breakpoints: ['plugin_helper'] });
    expect(expandHits(capture).map((h) => names(h.frames))).toEqual(oracle.map((s) => namesUpToMain(s)));
  });

  test('a module that is never loaded leaves a warning, not a silent zero', async () => {
    const { capture } = await recordWithPtrace([host, plugin, '1'], { hooks: ['nothing@libnever.so'] });
    expect(expandHits(capture)).toHaveLength(0);
    expect(capture.warnings?.join('\n')).toMatch(/libnever\.so was never loaded/);
  });
});

describe('signals', () => {
  const bin = buildFixture('signals.c');

  test('a hooked function called from a signal handler unwinds through the trampoline into the interrupted code', async () => {
    const { capture, stdout } = await recordWithPtrace([bin], { hooks: ['on_signal_work'] });
    expect(stdout).toBe('handled=11\n'); // SIGUSR1 delivered unchanged, handler ran
    const n = names(expandHits(capture)[0].frames);
    expect(n.slice(0, 3)).toEqual(['on_signal_work', 'handler', '__restore_rt']);
    expect(n.slice(-2)).toEqual(['busy', 'main']);
    expect(n[n.length - 3]).toMatch(/raise$/);
  });

  test('SIGTERM sent to the program is delivered unchanged', async () => {
    const ac = new AbortController();
    const run = recordWithPtrace([bin, 'term'], { hooks: ['on_signal_work'] });
    // the program pauses after its own signal; find it and terminate it like a user would
    await new Promise((r) => setTimeout(r, 1500));
    const pid = survivors(bin).map((l) => Number(l.trim().split(/\s+/)[0]))[0];
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGTERM');
    const { capture } = await run;
    ac.abort();
    expect(capture.exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(capture.crash).toBeNull();
  });
});

describe('limits and leftovers', () => {
  test('a timeout kills the whole traced tree and returns the stacks captured so far', async () => {
    const bin = buildFixture('hang.c');
    const { capture } = await recordWithPtrace([bin], { hooks: ['tick'], timeout: 800, maxHits: 5 });
    expect(capture.stats.timedOut).toBe(true);
    expect(capture.exit.signal).toBe('SIGKILL');
    expect(expandHits(capture)).toHaveLength(5);
    expect(capture.stats.hits).toBeGreaterThan(5);
    expect(capture.stats.dropped).toBe(capture.stats.hits - 5);
    expect(names(expandHits(capture)[0].frames)).toEqual(['tick', 'main']);
    expect(survivors(bin)).toEqual([]);
  });

  test('an AbortSignal stops the run the same way', async () => {
    const bin = buildFixture('hang.c');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 500);
    const { capture } = await recordWithPtrace([bin], { hooks: ['tick'], signal: ac.signal });
    expect(capture.exit.signal).toBe('SIGKILL');
    expect(expandHits(capture).length).toBeGreaterThan(0);
    expect(survivors(bin)).toEqual([]);
  });

  test('a double-fork daemon is killed when the program ends, and the capture says so', async () => {
    const bin = buildFixture('daemon.c');
    const { capture } = await recordWithPtrace([bin], { hooks: ['daemon_tick'], maxHits: 3 });
    expect(capture.exit).toEqual({ code: 0, signal: null });
    expect(capture.stats.killedLeftovers).toBe(1);
    expect(capture.warnings?.join('\n')).toMatch(/outlived the program and were killed/);
    expect(expandHits(capture).length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(survivors(bin)).toEqual([]);
  });

  test('unique stacks are counted even past maxHits', async () => {
    const chain = buildFixture('chain.c');
    const { capture } = await recordWithPtrace([chain, '50'], { hooks: ['leaf'], maxHits: 1 });
    expect(expandHits(capture)).toHaveLength(1);
    expect(capture.stats.hits).toBe(100);
    expect(capture.stats.uniqueStacks).toBe(2); // leaf via the first and the second mid() call in top
  });
});

describe('hostile programs', () => {
  const bin = buildFixture('hostile.c');

  test('a program that closes fds 0-2 is traced normally', async () => {
    const { capture } = await recordWithPtrace([bin, 'close-fds'], { hooks: ['work'] });
    expect(capture.exit).toEqual({ code: 0, signal: null });
    expect(names(expandHits(capture)[0].frames)).toEqual(['work', 'main']);
  });

  test.each(['new-pgrp', 'block-all'])('a program in mode %s still dies at the timeout, leaving nothing behind', async (mode) => {
    const { capture } = await recordWithPtrace([bin, mode], { hooks: ['work'], timeout: 700 });
    expect(capture.stats.timedOut).toBe(true);
    expect(capture.exit.signal).toBe('SIGKILL');
    expect(expandHits(capture)).toHaveLength(1);
    expect(survivors(`${bin} ${mode}`)).toEqual([]);
  });

  test('PTRACE_TRACEME in the program fails with EPERM, as under gdb, and the run goes on', async () => {
    const { capture, stdout } = await recordWithPtrace([bin, 'traceme'], { hooks: ['work'] });
    expect(stdout).toBe('traceme failed: Operation not permitted\n');
    expect(capture.exit.code).toBe(3);
    expect(expandHits(capture)).toHaveLength(1);
  });

  test('exec of a static binary: hooks are planted in the new image without a dynamic linker', async () => {
    const staticChain = buildFixture('chain.c', { flags: ['-O0', '-g', '-static'], variant: 'static' });
    const { capture } = await recordWithPtrace([bin, 'exec', staticChain, '2'], { hooks: ['work', 'leaf@chain-static'] });
    expect(capture.exit).toEqual({ code: 0, signal: null });
    expect(expandHits(capture).filter((h) => h.hook === 'work')).toHaveLength(1);
    const leafHits = expandHits(capture).filter((h) => h.hook === 'leaf@chain-static');
    expect(leafHits).toHaveLength(4);
    expect(names(leafHits[0].frames)).toEqual(['leaf', 'mid', 'top', 'main']);
  });
});

describe('signals the program gets from its own doing', () => {
  test('SIGINT with a handler, SIGCHLD of its own child, and SIGPIPE with the default action', async () => {
    const bin = buildFixture('sigpipe.c');
    const { capture, stdout } = await recordWithPtrace([bin], { hooks: [] });
    expect(stdout).toBe('int=1 chld=1 child=7\n');
    expect(capture.exit).toEqual({ code: null, signal: 'SIGPIPE' });
    expect(capture.crash).toBeNull(); // SIGPIPE is not a crash
  });
});

describe('the tracer dies', () => {
  test('SIGKILL of ustack itself takes the traced program with it (PTRACE_O_EXITKILL)', async () => {
    const bin = buildFixture('hang.c');
    const cli = require('node:path').resolve(__dirname, '..', '..', 'dist', 'cli.js');
    const child = require('node:child_process').spawn(process.execPath, [cli, 'record', '--hook', 'tick', '--', bin], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(survivors(bin).length).toBeGreaterThan(0); // it is running, traced
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    await new Promise((r) => setTimeout(r, 300));
    expect(survivors(bin)).toEqual([]);
  });
});

describe('dlclose', () => {
  test('breakpoints of an unloaded library are forgotten; the same library loaded again is hooked again', async () => {
    const host = buildFixture('dlopen_host.c', { libs: ['-ldl'] });
    const plugin = buildFixture('dlopen_plugin.c', { shared: true });
    const { capture, stdout } = await recordWithPtrace([host, plugin, '2', 'twice'], { hooks: ['plugin_helper@libdlopen_plugin.so'] });
    expect(stdout).toBe('total=7\ntotal=7\n');
    expect(capture.exit).toEqual({ code: 0, signal: null });
    expect(expandHits(capture)).toHaveLength(4);
  });
});
