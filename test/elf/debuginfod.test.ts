/**
 * Programs without their debug info (issue 22), with real parts: Debian's debuginfod server over
 * a folder of `objcopy --only-keep-debug` files of stripped fixtures, the CLI (in-thread tracer)
 * and record() (the worker that trace() uses), a debuglink-only program, a MiniDebugInfo program
 * made as Fedora's find-debuginfo makes it, and servers that are down, silent, answer 404 or serve
 * another build's file. The unstripped build traced the same way is the oracle, gdb its oracle.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Capture, Frame } from '../../src/capture/types';
import { DebuginfodClient } from '../../src/elf/debuginfod-client';
import { debugSearchFrom } from '../../src/elf/debug-search';
import { ElfFile } from '../../src/elf/elf-file';
import { record } from '../../src/record';
import { shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { FIXTURES } from '../helpers/fixtures';
import { NoDebugInfoError } from '../../src/errors';
import { createKernelBuildStub } from '../../src/stap/kernel-stub';
import { planStapScript } from '../../src/stap/script';
import { translateStapScript } from '../../src/stap/stap-backend';
import { whichSync } from '../../src/stap/diagnose';
import { gdbBacktraces, namesUpToMain } from '../helpers/gdb';
import { JestProject } from '../e2e/jest-project';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
let tmp: string;
let full: string; // unstripped app + libdbgd.so
let stripped: string; // the same files, --strip-all
let debugFiles: string; // what the server serves
let emptyDebugDir: string; // no debug files: stands in for a machine without debug packages
let server: ChildProcess | null = null;
let serverUrl = '';
const extraServers: http.Server[] = [];

function sh(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function startDebuginfod(dir: string): Promise<void> {
  const port = await freePort();
  const db = path.join(tmp, `debuginfod-${port}.sqlite`);
  const child = spawn('debuginfod', ['-F', dir, '-p', String(port), '-d', db, '-t', '0', '-g', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  server = child;
  // afterAll stops it; should the test process end another way, the server goes with it
  process.once('exit', () => child.exitCode === null && child.kill('SIGKILL'));
  let log = '';
  server.stderr!.on('data', (d) => (log += d));
  serverUrl = `http://127.0.0.1:${port}`;
  // ready when it serves the program's debug file (the scan of -F runs in the background)
  const id = ElfFile.open(path.join(full, 'app')).buildId!;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`debuginfod exited: ${log}`);
    try {
      const res = await fetch(`${serverUrl}/buildid/${id}/debuginfo`);
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopDebuginfod(): Promise<void> {
  const s = server;
  server = null;
  if (!s || s.exitCode !== null) return;
  const exited = new Promise((r) => s.once('exit', r));
  s.kill('SIGTERM');
  const t = setTimeout(() => s.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

/** A local HTTP server answering every request with `handler` (no debuginfod: silent, wrong file). */
async function httpServer(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  extraServers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-debuginfod-'));
  full = path.join(tmp, 'full');
  stripped = path.join(tmp, 'stripped');
  debugFiles = path.join(tmp, 'served');
  emptyDebugDir = path.join(tmp, 'no-debug');
  for (const d of [full, stripped, debugFiles, emptyDebugDir]) fs.mkdirSync(d);
  sh('gcc', ['-O2', '-g', '-shared', '-fPIC', '-Wl,-soname,libdbgd.so', '-o', path.join(full, 'libdbgd.so'), path.join(FIXTURES, 'debuginfod_lib.c')]);
  sh('gcc', ['-O2', '-g', '-o', path.join(full, 'app'), path.join(FIXTURES, 'debuginfod_app.c'), `-L${full}`, '-ldbgd', '-Wl,-rpath,$ORIGIN']);
  for (const f of ['app', 'libdbgd.so']) {
    sh('objcopy', ['--only-keep-debug', path.join(full, f), path.join(debugFiles, `${f}.debug`)]);
    sh('strip', ['--strip-all', '-o', path.join(stripped, f), path.join(full, f)]);
  }
  await startDebuginfod(debugFiles);
}, 120_000);

afterAll(async () => {
  await stopDebuginfod();
  for (const s of extraServers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await shutdownTracer();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** What a stack shows a person: names, file:line and inline marks (no addresses or module paths). */
function shown(capture: Capture): string[][] {
  return capture.stacks.map((s) => s.frames.map((f: Frame) => `${f.symbol}${f.inlined ? ' [inlined]' : ''} ${f.file ? path.basename(f.file) : '?'}:${f.line ?? '?'}`));
}

function cliJson(dir: string, env: Record<string, string>, extra: string[] = []): { capture: Capture; stderr: string; status: number | null } {
  const out = path.join(tmp, `out-${Math.random().toString(36).slice(2)}.json`);
  try {
    const r = spawnSync(process.execPath, [CLI, 'record', '--hook', 'lib_leaf', '--hook', 'app_helper', '--format', 'json', '--output', out, ...extra, '--', path.join(dir, 'app')], {
      env: { ...process.env, USTACK_DEBUG_DIRS: emptyDebugDir, ...env },
      encoding: 'utf8',
    });
    const capture = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, 'utf8')) as Capture) : (null as unknown as Capture);
    return { capture, stderr: r.stderr, status: r.status };
  } finally {
    fs.rmSync(out, { force: true });
  }
}

test('the unstripped build: its stacks have the names, lines and inline frames gdb shows', () => {
  const { capture, status } = cliJson(full, {});
  expect(status).toBe(0);
  const leaf = capture.stacks.find((s) => s.frames[0].symbol === 'lib_leaf')!;
  const gdb = gdbBacktraces([path.join(full, 'app')], { breakpoints: ['lib_leaf'], maxStops: 1 })[0];
  expect(namesUpToMain(leaf.frames.map((f) => ({ func: f.symbol ?? '??' })))).toEqual(namesUpToMain(gdb));
  expect(namesUpToMain(gdb)).toEqual(['lib_leaf', 'lib_mid', 'lib_entry', 'app_helper', 'app_inline', 'main']);
});

test('stripped, no debug info anywhere: exit 2 naming the module, its build-id, that its debug info is missing, and how to get it', () => {
  const { status, stderr } = cliJson(stripped, {});
  expect(status).toBe(2);
  const id = ElfFile.open(path.join(stripped, 'app')).buildId!;
  expect(stderr).toContain(path.join(stripped, 'app'));
  expect(stderr).toContain(`build-id ${id}`);
  expect(stderr).toContain('debug info is missing');
  expect(stderr).toContain('DEBUGINFOD_URLS');
  expect(stderr).toContain('-g');
});

test('stripped program and library with DEBUGINFOD_URLS: the CLI and record() give the unstripped stacks; a second run gets them from the cache with the server stopped', async () => {
  const cache = path.join(tmp, 'cache-1');
  const env = { DEBUGINFOD_URLS: serverUrl, DEBUGINFOD_CACHE_PATH: cache };
  const oracle = shown(cliJson(full, {}).capture);
  const viaCli = cliJson(stripped, env);
  expect(viaCli.status).toBe(0);
  expect(shown(viaCli.capture)).toEqual(oracle);
  for (const f of ['app', 'libdbgd.so']) {
    const id = ElfFile.open(path.join(stripped, f)).buildId!;
    expect(ElfFile.open(path.join(cache, id, 'debuginfo')).buildId).toBe(id); // where gdb and perf look too
  }
  // record() runs in the worker thread trace() uses; a fresh cache makes it download again
  const cache2 = path.join(tmp, 'cache-2');
  const viaApi = await record([path.join(stripped, 'app')], { hooks: ['lib_leaf', 'app_helper'], env: { ...env, DEBUGINFOD_CACHE_PATH: cache2 }, debugDirs: [emptyDebugDir] });
  expect(shown(viaApi.capture)).toEqual(oracle);
  expect(fs.existsSync(path.join(cache2, ElfFile.open(path.join(stripped, 'libdbgd.so')).buildId!, 'debuginfo'))).toBe(true);

  await stopDebuginfod();
  try {
    const again = cliJson(stripped, env);
    expect(again.status).toBe(0);
    expect(shown(again.capture)).toEqual(oracle);
    const againApi = await record([path.join(stripped, 'app')], { hooks: ['lib_leaf', 'app_helper'], env: { ...env, DEBUGINFOD_CACHE_PATH: cache2 }, debugDirs: [emptyDebugDir] });
    expect(shown(againApi.capture)).toEqual(oracle);
  } finally {
    await startDebuginfod(debugFiles);
  }
}, 120_000);

test('trace() in a Jest project gives the unstripped stacks, and announces the download once per test file', () => {
  const oracle = shown(cliJson(full, {}).capture);
  const project = new JestProject('debuginfod');
  const out = path.join(tmp, 'jest-capture.json');
  const r = project.run([], {
    USTACK_DEBUG_DIRS: emptyDebugDir,
    DEBUGINFOD_URLS: serverUrl,
    DEBUGINFOD_CACHE_PATH: path.join(tmp, 'cache-jest'),
    DEBUGINFOD_PROGRESS: '1',
    DEBUGINFOD_TEST_APP: path.join(stripped, 'app'),
    DEBUGINFOD_TEST_OUT: out,
  });
  expect(r.output).toMatch(/Tests:\s+2 passed/);
  expect(r.status).toBe(0);
  expect(shown(JSON.parse(fs.readFileSync(out, 'utf8')) as Capture)).toEqual(oracle);
  expect(r.output.match(/jest-ustack: downloading debuginfo of/g)).toHaveLength(1);
  fs.rmSync(project.dir, { recursive: true, force: true });
}, 120_000);

test('ustack doctor BIN and ustack symbols BIN say the same: missing without a server (with the fix), found through debuginfod', () => {
  const bin = path.join(stripped, 'app');
  const id = ElfFile.open(bin).buildId!;
  const cli = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, USTACK_DEBUG_DIRS: emptyDebugDir, ...env }, encoding: 'utf8' });
  const bare = cli(['doctor', bin], { DEBUGINFOD_URLS: '' });
  expect(bare.stdout).toContain(`debug info of ${bin} (build-id ${id}):`);
  expect(bare.stdout).toMatch(/symbol table none; DWARF none/);
  expect(bare.stdout).toContain('debug info is missing');
  const bareSymbols = cli(['symbols', bin, 'app_helper'], { DEBUGINFOD_URLS: '' });
  expect(bareSymbols.status).toBe(2);
  expect(bareSymbols.stderr).toContain(`build-id ${id}`);

  const env = { DEBUGINFOD_URLS: serverUrl, DEBUGINFOD_CACHE_PATH: path.join(tmp, 'cache-doctor') };
  const found = cli(['doctor', bin], env);
  expect(found.stdout).toContain(`DWARF in ${path.join(tmp, 'cache-doctor', id, 'debuginfo')}`);
  expect(found.stdout).not.toContain('debug info is missing');
  const symbols = cli(['symbols', bin, 'lib_leaf'], env);
  expect(symbols.status).toBe(0);
  expect(symbols.stdout).toContain('lib_leaf');
  // --debug-dir: a folder of build-id links, as a debug package lays them out
  const dir = path.join(tmp, 'linked-debug');
  for (const f of ['app', 'libdbgd.so']) {
    const fid = ElfFile.open(path.join(stripped, f)).buildId!;
    fs.mkdirSync(path.join(dir, '.build-id', fid.slice(0, 2)), { recursive: true });
    fs.symlinkSync(path.join(debugFiles, `${f}.debug`), path.join(dir, '.build-id', fid.slice(0, 2), `${fid.slice(2)}.debug`));
  }
  const viaDir = cli(['symbols', bin, 'app_helper', '--debug-dir', dir], { DEBUGINFOD_URLS: '' });
  expect(viaDir.status).toBe(0);
  expect(viaDir.stdout).toContain('app_helper');
  const recorded = cliJson(stripped, { DEBUGINFOD_URLS: '' }, ['--debug-dir', dir]);
  expect(shown(recorded.capture)).toEqual(shown(cliJson(full, {}).capture));
});

test('a library loaded by dlopen (not known before the run): fetched when it is loaded, its frames as the unstripped build\'s', async () => {
  const dir = path.join(tmp, 'dlopen');
  fs.mkdirSync(dir);
  const host = path.join(dir, 'host');
  sh('gcc', ['-O0', '-g', '-o', host, path.join(FIXTURES, 'dlopen_host.c'), '-ldl']);
  const plugin = path.join(dir, 'plugin.so');
  sh('gcc', ['-O0', '-g', '-shared', '-fPIC', '-o', plugin, path.join(FIXTURES, 'dlopen_plugin.c')]);
  const oracle = shown((await record([host, plugin, '2'], { hooks: ['plugin_helper@plugin.so'], debugDirs: [emptyDebugDir] })).capture);
  expect(oracle[0].slice(0, 2)).toEqual(['plugin_helper dlopen_plugin.c:2', 'plugin_fn dlopen_plugin.c:3']);

  sh('objcopy', ['--only-keep-debug', plugin, path.join(debugFiles, 'plugin.so.debug')]);
  sh('strip', ['--strip-all', plugin]);
  const id = ElfFile.open(plugin).buildId!;
  for (;;) {
    server!.kill('SIGUSR1'); // rescan the -F folder
    const res = await fetch(`${serverUrl}/buildid/${id}/debuginfo`);
    await res.body?.cancel();
    if (res.status === 200) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const cache = path.join(tmp, 'cache-dlopen');
  const run = await record([host, plugin, '2'], { hooks: ['plugin_helper@plugin.so'], debugDirs: [emptyDebugDir], env: { DEBUGINFOD_URLS: serverUrl, DEBUGINFOD_CACHE_PATH: cache } });
  expect(shown(run.capture)).toEqual(oracle);
  expect(ElfFile.open(path.join(cache, id, 'debuginfo')).buildId).toBe(id);
}, 60_000);

test('a build-id the server does not have: 404, cached as libdebuginfod caches it (an empty file), and the missing info is named', async () => {
  const solo = path.join(tmp, 'solo');
  sh('gcc', ['-O2', '-g', '-o', solo, path.join(FIXTURES, 'debuginfod_solo.c')]);
  sh('strip', ['--strip-all', solo]);
  const id = ElfFile.open(solo).buildId!;
  const cache = path.join(tmp, 'cache-404');
  const client = new DebuginfodClient(debugSearchFrom({ DEBUGINFOD_URLS: serverUrl, DEBUGINFOD_CACHE_PATH: cache })!.debuginfod!);
  expect(await client.fetch(id, 'debuginfo')).toEqual({ kind: 'missing' });
  expect(fs.statSync(path.join(cache, id, 'debuginfo')).size).toBe(0);
  expect(client.cached(id, 'debuginfo')).toBe('negative');
  const r = spawnSync(process.execPath, [CLI, 'record', '--hook', 'solo_static', '--', solo], {
    env: { ...process.env, USTACK_DEBUG_DIRS: emptyDebugDir, DEBUGINFOD_URLS: serverUrl, DEBUGINFOD_CACHE_PATH: cache },
    encoding: 'utf8',
  });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain(`build-id ${id}`);
  expect(r.stderr).toContain(`DEBUGINFOD_URLS (${serverUrl}) do not have it`);
});

test('the /executable artifact by build-id: the stripped program the server indexed', async () => {
  const id = ElfFile.open(path.join(stripped, 'app')).buildId!;
  // served beside the debug files: debuginfod indexes it as the executable of its build-id
  fs.copyFileSync(path.join(stripped, 'app'), path.join(debugFiles, 'app'));
  const client = new DebuginfodClient(debugSearchFrom({ DEBUGINFOD_URLS: serverUrl, DEBUGINFOD_CACHE_PATH: path.join(tmp, 'cache-exe') })!.debuginfod!);
  for (;;) {
    // the server rescans its -F folder on SIGUSR1; until then the executable is a 404 (not cached: retried)
    server!.kill('SIGUSR1');
    const res = await fetch(`${serverUrl}/buildid/${id}/executable`);
    await res.body?.cancel();
    if (res.status === 200) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const got = await client.fetch(id, 'executable');
  expect(got.kind).toBe('found');
  expect(fs.readFileSync((got as { file: string }).file).equals(fs.readFileSync(path.join(stripped, 'app')))).toBe(true);
  expect((got as { file: string }).file).toBe(path.join(tmp, 'cache-exe', id, 'executable'));
});

test('a server that is down, one that never answers (DEBUGINFOD_TIMEOUT), one serving another build: refused, said in the warnings, nothing cached', async () => {
  const id = ElfFile.open(path.join(stripped, 'libdbgd.so')).buildId!;
  const down = `http://127.0.0.1:${await freePort()}`;
  const silent = await httpServer(() => {
    /* never answers */
  });
  const otherDebug = fs.readFileSync(path.join(debugFiles, 'app.debug'));
  const wrong = await httpServer((_req, res) => {
    res.writeHead(200, { 'Content-Length': otherDebug.length });
    res.end(otherDebug);
  });
  for (const [url, detail] of [
    [down, /ECONNREFUSED/],
    [silent, /DEBUGINFOD_TIMEOUT=1s/],
    [wrong, /served a file of build-id \w+ for build-id/],
  ] as const) {
    const cache = path.join(tmp, `cache-bad-${Math.random().toString(36).slice(2)}`);
    const client = new DebuginfodClient(debugSearchFrom({ DEBUGINFOD_URLS: url, DEBUGINFOD_CACHE_PATH: cache, DEBUGINFOD_TIMEOUT: '1' })!.debuginfod!);
    const got = await client.fetch(id, 'debuginfo');
    expect(got.kind).toBe('failed');
    expect((got as { detail: string }).detail).toMatch(detail);
    expect(fs.existsSync(path.join(cache, id))).toBe(false);
  }
  // the CLI says on stderr what it waits for and why it gave up (DEBUGINFOD_PROGRESS: every request is announced)
  const cli = cliJson(stripped, { DEBUGINFOD_URLS: silent, DEBUGINFOD_TIMEOUT: '1', DEBUGINFOD_PROGRESS: '1', DEBUGINFOD_CACHE_PATH: path.join(tmp, 'cache-silent-cli') });
  expect(cli.status).toBe(2); // and then the hook's module has no symbols: USTACK_NO_DEBUGINFO
  expect(cli.stderr).toContain(`ustack: downloading debuginfo of ${path.join(stripped, 'app')}`);
  expect(cli.stderr).toContain(`ustack: no debuginfo of ${path.join(stripped, 'app')} from ${silent}: ${silent}: no answer within DEBUGINFOD_TIMEOUT=1s`);
  // through a run: the failure is a capture warning, and the good server beside the bad one still wins
  const cache = path.join(tmp, 'cache-mixed');
  const run = await record([path.join(stripped, 'app')], { hooks: ['lib_leaf'], env: { DEBUGINFOD_URLS: `${wrong} ${serverUrl}`, DEBUGINFOD_CACHE_PATH: cache, DEBUGINFOD_TIMEOUT: '5' }, debugDirs: [emptyDebugDir] });
  expect(shown(run.capture)[0][0]).toMatch(/^lib_leaf debuginfod_lib\.c:3$/);
  const failing = await record([path.join(stripped, 'app')], { hooks: ['lib_entry'], env: { DEBUGINFOD_URLS: down, DEBUGINFOD_CACHE_PATH: path.join(tmp, 'cache-down') }, debugDirs: [emptyDebugDir] });
  expect(failing.capture.warnings!.join('\n')).toMatch(/debuginfod: no debug info for .*app \(build-id \w+\): .*ECONNREFUSED/);
}, 60_000);

test('a failing server is asked once per build-id, not once per trace', async () => {
  const asked: string[] = [];
  const failing = await httpServer((req, res) => {
    asked.push(req.url!);
    res.writeHead(503);
    res.end();
  });
  const env = { DEBUGINFOD_URLS: failing, DEBUGINFOD_CACHE_PATH: path.join(tmp, 'cache-503') };
  for (let i = 0; i < 3; i++) {
    const run = await record([path.join(stripped, 'app')], { hooks: ['lib_entry'], env, debugDirs: [emptyDebugDir] });
    if (i === 0) expect(run.capture.warnings!.join('\n')).toMatch(/HTTP 503/);
  }
  expect(asked.length).toBeGreaterThanOrEqual(2); // the program and its library at least
  expect(new Set(asked).size).toBe(asked.length);
  expect(asked).toContain(`/buildid/${ElfFile.open(path.join(stripped, 'libdbgd.so')).buildId}/debuginfo`);
});

test('a debuglink-only program: its debug file next to it, CRC-checked; a debug file of another build at its build-id path is refused with a warning', async () => {
  const dir = path.join(tmp, 'linked');
  fs.mkdirSync(dir);
  const prog = path.join(dir, 'solo');
  sh('gcc', ['-O2', '-g', '-Wl,--build-id=none', '-o', prog, path.join(FIXTURES, 'debuginfod_solo.c')]);
  const oracle = shown((await record([prog], { hooks: ['solo_static'], debugDirs: [emptyDebugDir] })).capture);
  sh('objcopy', ['--only-keep-debug', prog, path.join(dir, 'solo.dbg')]);
  sh('strip', ['--strip-all', prog]);
  sh('objcopy', ['--add-gnu-debuglink=solo.dbg', prog], dir);
  expect(ElfFile.open(prog).buildId).toBeNull();
  const run = await record([prog], { hooks: ['solo_static'], debugDirs: [emptyDebugDir] });
  expect(shown(run.capture)).toEqual(oracle);
  expect(oracle[0][0]).toBe('solo_static debuginfod_solo.c:5');

  // another build's debug file where the build-id says the stripped app's should be
  const root = path.join(tmp, 'wrong-root');
  const id = ElfFile.open(path.join(stripped, 'app')).buildId!;
  fs.mkdirSync(path.join(root, '.build-id', id.slice(0, 2)), { recursive: true });
  fs.copyFileSync(path.join(debugFiles, 'libdbgd.so.debug'), path.join(root, '.build-id', id.slice(0, 2), `${id.slice(2)}.debug`));
  const refused = await record([path.join(stripped, 'app')], { hooks: ['lib_entry'], debugDirs: [root] });
  expect(refused.capture.warnings!.join('\n')).toContain(`its build-id is ${ElfFile.open(path.join(stripped, 'libdbgd.so')).buildId}, the module's is ${id}`);
});

test('MiniDebugInfo made as find-debuginfo makes it: the static function is hooked and named, with no debug file anywhere', async () => {
  const dir = path.join(tmp, 'mini');
  fs.mkdirSync(dir);
  const prog = path.join(dir, 'solo');
  sh('gcc', ['-O2', '-g', '-o', prog, path.join(FIXTURES, 'debuginfod_solo.c')]);
  sh('objcopy', ['--only-keep-debug', prog, path.join(dir, 'solo.debug')]);
  sh('strip', ['--strip-all', prog]);
  // find-debuginfo's add_minidebug: the function symbols .dynsym lacks, from the debug file, xz'ed into .gnu_debugdata
  const names = (text: string) => text.split('\n').filter(Boolean).map((l) => l.split(' '));
  const dynsyms = new Set(names(sh('nm', ['-D', prog, '--format=posix', '--defined-only'])).map((f) => f[0]));
  const keep = names(sh('nm', [path.join(dir, 'solo.debug'), '--format=posix', '--defined-only']))
    .filter((f) => ['T', 't', 'D'].includes(f[1]) && !dynsyms.has(f[0]))
    .map((f) => f[0]);
  expect(keep).toContain('solo_static');
  fs.writeFileSync(path.join(dir, 'keep'), keep.join('\n') + '\n');
  sh('objcopy', ['-S', '--remove-section', '.gdb_index', '--remove-section', '.comment', `--keep-symbols=${path.join(dir, 'keep')}`, path.join(dir, 'solo.debug'), path.join(dir, 'mini')]);
  sh('xz', ['-k', path.join(dir, 'mini')]);
  sh('objcopy', [`--add-section`, `.gnu_debugdata=${path.join(dir, 'mini.xz')}`, prog]);
  fs.rmSync(path.join(dir, 'solo.debug'));
  expect(ElfFile.open(prog).hasSection('.symtab')).toBe(false);

  const cacheHome = path.join(tmp, 'xdg');
  const r = spawnSync(process.execPath, [CLI, 'record', '--hook', 'solo_static', '--format', 'json', '--', prog], {
    env: { ...process.env, USTACK_DEBUG_DIRS: emptyDebugDir, XDG_CACHE_HOME: cacheHome },
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  const capture = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as Capture;
  expect(capture.stacks.reduce((n, st) => n + st.count, 0)).toBe(2);
  for (const st of capture.stacks) {
    expect(st.frames.map((f) => f.symbol).slice(0, 2)).toEqual(['solo_static', 'main']);
    expect(st.frames[0].file).toBeNull(); // names only: MiniDebugInfo has no DWARF
  }
  // gdb reads the same section: the oracle for the name
  const gdb = gdbBacktraces([prog], { breakpoints: ['solo_static'], maxStops: 1 })[0];
  expect(gdb[0].func).toBe('solo_static');
});

test('the seed\'s case: `ustack record --hook xmalloc -- ls /` names ls, its build-id, its package\'s -dbgsym and DEBUGINFOD_URLS', () => {
  const ls = execFileSync('sh', ['-c', 'command -v ls'], { encoding: 'utf8' }).trim();
  const elf = ElfFile.open(ls);
  if (elf.hasSection('.symtab')) return; // an unstripped ls names xmalloc itself: nothing is missing
  const r = spawnSync(process.execPath, [CLI, 'record', '--hook', 'xmalloc', '--', 'ls', '/'], {
    env: { ...process.env, USTACK_DEBUG_DIRS: emptyDebugDir, DEBUGINFOD_URLS: '' },
    encoding: 'utf8',
  });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain(ls);
  expect(r.stderr).toContain(`build-id ${elf.buildId}`);
  expect(r.stderr).toContain('debug info is missing');
  expect(r.stderr).toContain('DEBUGINFOD_URLS');
  let owner: string | null = null;
  try {
    owner = execFileSync('dpkg', ['-S', fs.realpathSync(ls).replace(/^\/usr\/bin\//, '/bin/')], { encoding: 'utf8' }).split(':')[0];
  } catch {
    owner = null; // not a dpkg system
  }
  if (owner) expect(r.stderr).toContain(`install ${owner}-dbgsym`);
});

(whichSync('stap') ? test : test.skip)('stap is handed the same debug files: its translator resolves the stripped program\'s and library\'s static functions from the debuginfod download', async () => {
  const stub = createKernelBuildStub(fs.mkdtempSync(path.join(tmp, 'stub-')));
  const bin = path.join(stripped, 'app');
  const plan = planStapScript(bin, ['app_helper', 'lib_leaf'], { maxFrames: 64 });
  const env = { USTACK_DEBUG_DIRS: emptyDebugDir, DEBUGINFOD_URLS: serverUrl, DEBUGINFOD_CACHE_PATH: path.join(tmp, 'cache-stap') };
  const r = await translateStapScript(bin, plan, { pass: 2, kernelBuildDir: stub, env });
  expect(r.stdout).toMatch(new RegExp(`process\\("${bin}"\\)\\.function\\("app_helper@[^"]*debuginfod_app\\.c:\\d+"\\)`));
  expect(r.stdout).toMatch(new RegExp(`process\\("${path.join(stripped, 'libdbgd.so')}"\\)\\.function\\("lib_leaf@[^"]*debuginfod_lib\\.c:\\d+"\\)`));
  // without a server, the same words as the ptrace backend's
  const err = await translateStapScript(bin, plan, { pass: 2, kernelBuildDir: stub, env: { USTACK_DEBUG_DIRS: emptyDebugDir, DEBUGINFOD_URLS: '' } }).then(
    () => null,
    (e) => e,
  );
  expect(err).toBeInstanceOf(NoDebugInfoError);
  expect(err.message).toContain(`build-id ${ElfFile.open(bin).buildId}`);
}, 120_000);
