/**
 * `ustack record` as a user runs it: the compiled CLI in dist/, real binaries, real exit codes.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFixture, FIXTURES } from '../helpers/fixtures';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

function ustack(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const chain = buildFixture('chain.c');
/** Line of a function's definition in a fixture source (the tests do not hard-code line numbers). */
function lineOf(source: string, text: string): number {
  return fs.readFileSync(path.join(FIXTURES, source), 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
}

describe('ustack record', () => {
  test('text output reads like print_usyms(ubacktrace()), one header per distinct stack with its count, and file:line', () => {
    const r = ustack(['record', '--hook', 'leaf', '--', chain, '1']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('total=26'); // the program's own stdout comes first, untouched
    expect(lines[1]).toMatch(/^stack 0: leaf, 1 hit \(first: hit 0, pid \d+, tid \d+\)$/);
    expect(lines[2]).toMatch(new RegExp(`^ 0x[0-9a-f]+ : leaf\\+0x0/0x[0-9a-f]+ \\[${chain.replace(/[.]/g, '\\.')}\\] at .*chain\\.c:${lineOf('chain.c', 'long leaf(')}$`));
    expect(lines[3]).toMatch(new RegExp(`^ 0x[0-9a-f]+ : mid\\+0x[0-9a-f]+/0x[0-9a-f]+ \\[.*\\] at .*chain\\.c:${lineOf('chain.c', 'long mid(')}$`));
    expect(r.stdout).toMatch(/^stack 1: leaf, 1 hit \(first: hit 1, pid \d+, tid \d+\)$/m); // leaf via the second mid() call in top
    // the summary goes to stderr, never between the program's output and the stacks
    expect(r.stdout).not.toMatch(/hit\(s\)/);
    expect(r.stderr).toMatch(/^-- 2 hit\(s\), 2 distinct stack\(s\), 2 recorded, exit code 0/);
  });

  test('stacks go to --output or stdout; summary and warnings to stderr', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-cli-')), 'stacks.txt');
    const r = ustack(['record', '--hook', 'read@libc.so.6', '--max-hits', '1', '--output', out, '--', '/bin/cat'], 'hi\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hi\n'); // the program's output only
    const stacks = fs.readFileSync(out, 'utf8');
    expect(stacks).toMatch(/^stack 0: /);
    expect(stacks).not.toMatch(/warning:|hit\(s\)/);
    expect(r.stderr).toMatch(/-- 2 hit\(s\), \d+ distinct stack\(s\), 1 recorded, exit code 0, .*1 not kept as hit records past maxHits \(counted\)/);
    expect(r.stderr).toMatch(/warning: No debug information for \/usr\/bin\/cat/);
  });

  test('with a glob, the header names the function that was hit', () => {
    const r = ustack(['record', '--hook', 'l?af', '--', chain, '1']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[1]).toMatch(/^stack 0: leaf \(hook l\?af\), 1 hit \(first: hit 0, pid \d+, tid \d+\)$/);
  });

  test('record --help states the default of every option', () => {
    const help = ustack(['record', '--help']).stdout;
    // one block per option: its line and the indented lines under it
    const blocks = help.split(/\n(?=  --)/).slice(1);
    const flags = blocks.map((b) => b.trim().split(/\s/)[0]);
    expect(flags).toEqual(['--hook', '--format', '--output', '--max-frames', '--max-hits', '--timeout', '--no-follow', '--backend', '--args', '--returns', '--debug-dir']);
    for (const b of blocks) expect([b.trim().split(/\s/)[0], /Default: /.test(b)]).toEqual([b.trim().split(/\s/)[0], true]);
    expect(help).toMatch(/--max-hits N[\s\S]*Default: every hit/);
    expect(help).toMatch(/--max-frames N[\s\S]*Default: 1024/);
  });

  test('json output is the Capture model, and --output writes it to a file', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-cli-')), 'c.json');
    const r = ustack(['record', '--hook', 'mid', '--format', 'json', '--output', out, '--max-frames', '3', '--', chain, '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('total=26\n');
    const c = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(c).toMatchObject({ schema: 2, backend: 'ptrace', command: [chain, '1'], exit: { code: 0, signal: null }, crash: null });
    expect(c.hooks).toEqual([{ spec: 'mid', resolved: [{ module: chain, symbol: 'mid', address: expect.stringMatching(/^0x[0-9a-f]+$/) }] }]);
    // mid is called from two places in top: two distinct stacks, each hit once, each stored once
    expect(c.stacks).toHaveLength(2);
    expect(c.stacks.map((s: { hook: string; count: number; first: number }) => [s.hook, s.count, s.first])).toEqual([['mid', 1, 0], ['mid', 1, 1]]);
    expect(c.stacks[0].frames).toHaveLength(3);
    expect(c.stacks[0].frames[0]).toMatchObject({ symbol: 'mid', symbolOffset: 0, inlined: false, module: chain, offset: c.hooks[0].resolved[0].address });
    expect(c.hits).toMatchObject({ length: 2, seq: [0, 1], hook: [0, 0], stack: [0, 1] });
    expect(c.hits.pid[0]).toBe(c.hits.tid[0]);
    expect(c.hits.ns[1]).toBeGreaterThan(c.hits.ns[0]);
    expect(c.stats).toMatchObject({ hits: 2, recorded: 2, dropped: 0 });
    // one line per hit column, not one per number
    expect(fs.readFileSync(out, 'utf8')).toMatch(/\n {4}"seq": \[0,1\],\n/);
  });

  test('stdin passes through to the program', () => {
    const cat = '/bin/cat';
    const r = ustack(['record', '--hook', 'read@libc.so.6', '--max-hits', '1', '--', cat], 'hello\n');
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('hello\n')).toBe(true);
    // the header names the function hit (libc's DWARF name for read) and the hook
    expect(r.stdout).toMatch(/stack 0: \S+read \(hook read@libc\.so\.6\), \d+ hits? \(first: hit 0/);
  });

  test('the exit code is the program\'s, 128+signal when it was killed', () => {
    const crash = buildFixture('crash_null.c');
    const r = ustack(['record', '--', crash]);
    expect(r.code).toBe(139);
    expect(r.stdout).toMatch(/crash: SIGSEGV at 0x0/);
    expect(r.stdout).toMatch(new RegExp(`inner\\+0x[0-9a-f]+/0x[0-9a-f]+ .* at .*crash_null\\.c:${lineOf('crash_null.c', 'int inner(')}`));
    const hostile = buildFixture('hostile.c');
    expect(ustack(['record', '--', hostile, 'traceme']).code).toBe(3);
  });
});

describe('bad input: a clear error and exit code 2', () => {
  test('missing file', () => {
    const r = ustack(['record', '--hook', 'f', '--', '/no/such/program']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Cannot run "\/no\/such\/program": no such file/);
  });

  test('a bare name not in $PATH', () => {
    const r = ustack(['record', '--', 'no-such-program-xyz']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not found in \$PATH/);
  });

  test('not an ELF file (a shell script)', () => {
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-cli-')), 'run.sh');
    fs.writeFileSync(script, '#!/bin/sh\necho hi\n', { mode: 0o755 });
    const r = ustack(['record', '--', script]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is a script (#!/bin/sh), not an ELF file');
    expect(r.stderr).toContain(`Trace its interpreter with the script as argument (\`/bin/sh ${script}\`)`);
  });

  test('unknown hook names near matches and never runs main', () => {
    const r = ustack(['record', '--hook', 'lef', '--', chain, '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Hook "lef" matches no function/);
    expect(r.stderr).toMatch(/Did you mean: "leaf"/);
    expect(r.stdout).not.toContain('total=');
  });

  test('unknown option and missing command', () => {
    expect(ustack(['record', '--hooks', 'x', '--', chain]).stderr).toMatch(/Unknown option --hooks .* Known options: --hook/);
    expect(ustack(['record', '--hook', 'leaf']).stderr).toMatch(/No command to run/);
    expect(ustack(['record', '--format', 'xml', '--', chain]).code).toBe(2);
    expect(ustack(['frobnicate']).code).toBe(2);
  });
});

test('an environment too large to exec is a clear error, not a missing file', async () => {
  const { recordWithPtrace, shutdownTracer } = await import('../../src/ptrace/ptrace-backend');
  try {
    await expect(recordWithPtrace([chain, '1'], { hooks: [], env: { BIG: 'x'.repeat(200000) } })).rejects.toMatchObject({
      code: 'USTACK_SPAWN',
      message: expect.stringMatching(/too large \(E2BIG/),
    });
    // 100 KB is fine (the strings go through a malloc'ed block past the arena)
    const { capture } = await recordWithPtrace([chain, '1'], { hooks: ['leaf'], env: { BIG: 'x'.repeat(100000) } });
    expect(capture.hits).toHaveLength(2);
  } finally {
    await shutdownTracer();
  }
});
