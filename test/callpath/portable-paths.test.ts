/**
 * The same call paths on every machine (issue 21): a program that sorts with a callback, allocates
 * and prints gives byte-identical call paths with glibc's separate debug file (libc6-dbg) and
 * without it (the debug-file search pointed at an empty folder with USTACK_DEBUG_DIRS); system
 * library frames collapse to the function the program called; hits outside the program's own run
 * are left out by default; globs never hook glibc or ld.so unless a module is named.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatMergedCallPath, mergeCallPaths } from '../../src/callpath/merge';
import type { NormalizeOptions } from '../../src/callpath/normalize';
import type { Capture } from '../../src/capture/types';
import { findSeparateDebugFile } from '../../src/elf/debuginfo';
import { ElfFile } from '../../src/elf/elf-file';
import { calledSymbol } from '../../src/elf/call-targets';
import { hookModule, planHook } from '../../src/symbolize/hook-resolver';
import { parseHookSpec } from '../../src/symbolize/hook-spec';
import { isSystemLibrary } from '../../src/symbolize/system-libraries';
import { parseHookSpec as parseStapHook, probePointsFor, sharedLibrariesOf } from '../../src/stap/hook-probes';
import { buildFixture } from '../helpers/fixtures';
import { buildCfgtool } from '../report/example-build';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
const NO_DEBUG = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-no-debug-'));
const HOOKS = ['compare_keys', 'malloc', 'puts', 'note'];

function libraryOf(binary: string, soname: RegExp): string {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const m = out.split('\n').map((l) => /=>\s+(\/\S+)/.exec(l)?.[1] ?? /^\s+(\/\S+)/.exec(l)?.[1]).find((p) => p && soname.test(path.basename(p)));
  return fs.realpathSync(m!);
}

function record(binary: string, debugDirs?: string): Capture {
  const out = path.join(NO_DEBUG, `capture-${path.basename(binary)}-${debugDirs ? 'without' : 'with'}.json`);
  const args = [CLI, 'record', '--format', 'json', '--output', out, ...HOOKS.flatMap((h) => ['--hook', h]), '--', binary];
  const env = { ...process.env };
  if (debugDirs !== undefined) env.USTACK_DEBUG_DIRS = debugDirs;
  else delete env.USTACK_DEBUG_DIRS;
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env, timeout: 120000 });
  expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
  return JSON.parse(fs.readFileSync(out, 'utf8')) as Capture;
}

/** What run.callPaths() prints, as one text. */
function callPaths(capture: Capture, options: NormalizeOptions = {}): string {
  return mergeCallPaths([...capture.stacks].sort((a, b) => a.first - b.first), options).map((m) => `${m.hook}: ${formatMergedCallPath(m)}`).join('\n');
}

const glibc = buildFixture('portable_paths.c', { libs: ['-lpthread'] });
const LIBC = libraryOf(glibc, /^libc\.so/);

describe('call paths with and without libc6-dbg', () => {
  test('precondition: glibc has its separate debug file here (libc6-dbg), and the empty folder hides it', () => {
    const elf = ElfFile.open(LIBC);
    expect(findSeparateDebugFile(elf)).not.toBeNull();
    expect(findSeparateDebugFile(elf, { debugRoots: [NO_DEBUG] })).toBeNull();
  });

  const expected = [
    'compare_keys: 11× main > qsort > compare_keys',
    'malloc: 1× main > malloc',
    'puts: 7× main > puts',
    'malloc: 1× main > puts > malloc',
    'note: 1× main > note',
    'malloc: 1× worker > malloc',
    'puts: 1× worker > puts',
    'note: 1× worker > note',
  ].join('\n');

  test.each([
    ['-O0, calls through the PLT', ['-O0', '-g']],
    ['-O2 -fno-plt, calls through the GOT', ['-O2', '-g', '-fno-plt']],
  ])('%s: byte-identical paths, library frames collapsed to what the program called', (_name, flags) => {
    const binary = buildFixture('portable_paths.c', { flags, libs: ['-lpthread'], variant: flags.join('') });
    const withDebug = record(binary);
    const withoutDebug = record(binary, NO_DEBUG);
    const want = flags.includes('-O2') ? expected.split('\n').filter((l) => l !== 'malloc: 1× main > malloc').join('\n') : expected; // -O2 drops main's unused malloc
    expect(callPaths(withDebug)).toBe(want);
    expect(callPaths(withoutDebug)).toBe(want);
    // the debug file really changed what was unwound and named: every frame differs (glibc's internal names)
    expect(callPaths(withDebug, { libraryFrames: 'all' })).toContain('__GI_');
    expect(callPaths(withoutDebug, { libraryFrames: 'all' })).not.toContain('__GI_');
  });

  test('a program function that ends in `jmp qsort@plt` (-O2) stays, also when only the program has DWARF', () => {
    const binary = buildFixture('qsort_tail.c', { flags: ['-O2', '-g'], variant: 'O2' });
    const run = (debugDirs: string | undefined, ...args: string[]) => {
      const out = path.join(NO_DEBUG, `qsort-tail-${debugDirs ? 'without' : 'with'}-${args.join('')}.json`);
      const env = { ...process.env };
      if (debugDirs !== undefined) env.USTACK_DEBUG_DIRS = debugDirs;
      else delete env.USTACK_DEBUG_DIRS;
      const r = spawnSync(process.execPath, [CLI, 'record', '--format', 'json', '--output', out, '--hook', 'by_value', '--', binary, '8', ...args], { encoding: 'utf8', env });
      expect(r.status).toBe(0);
      return JSON.parse(fs.readFileSync(out, 'utf8')) as Capture;
    };
    for (const [args, want] of [[['wrap'], 'by_value: 17× main > sort_items > qsort > by_value'], [[], 'by_value: 17× main > qsort > by_value']] as const) {
      const withDebug = run(undefined, ...args);
      const withoutDebug = run(NO_DEBUG, ...args);
      expect(callPaths(withDebug)).toBe(want);
      expect(callPaths(withoutDebug)).toBe(want);
    }
  });

  test('hits outside the program\'s run (ld.so start-up, a constructor, an exit handler) count only with phase "all"', () => {
    const withDebug = record(glibc);
    const all = callPaths(withDebug, { phase: 'all' });
    // ld.so's own malloc (its inlined copies, visible through libc6-dbg) before main, the constructor and the exit handler
    expect(callPaths(withDebug, { phase: 'all', libraryFrames: 'all' })).toMatch(/^malloc: \d+× _dl_start > /m);
    expect(all).toMatch(/^malloc: \d+× malloc$/m); // collapsed: a library run entered from no caller of the program
    expect(all).toMatch(/^note: 1× .*before_main > note$/m);
    expect(all).toMatch(/^note: 1× .*at_exit > note$/m);
    expect(callPaths(withDebug)).not.toMatch(/_dl_start|before_main|at_exit/);
  });
});

describe('the called function is read from the caller\'s code and relocations', () => {
  test('a PLT call and a GOT call both name qsort (objdump as the oracle)', () => {
    for (const flags of [['-O0', '-g'], ['-O2', '-g', '-fno-plt']]) {
      const binary = buildFixture('portable_paths.c', { flags, libs: ['-lpthread'], variant: flags.join('') });
      const dis = execFileSync('objdump', ['-d', '--no-show-raw-insn', binary], { encoding: 'utf8' });
      // the address after each call/jmp that objdump names qsort (qsort@plt, or *...<qsort@GLIBC_2.2.5>)
      const lines = dis.split('\n');
      const after: number[] = [];
      for (let i = 0; i < lines.length - 1; i++) {
        if (/\s(call|jmp)\s.*[<*].*qsort[@>]/.test(lines[i]) && !/^0000/.test(lines[i])) after.push(parseInt(lines[i + 1].trim().split(':')[0], 16));
      }
      expect(after.length).toBeGreaterThan(0);
      const elf = ElfFile.open(binary);
      for (const ra of after) expect(calledSymbol(elf, ra)).toBe('qsort');
    }
  });
});

describe('globs hook only the program\'s own code', () => {
  const cfgtool = buildCfgtool(); // example-project's program, in a private folder

  function modulesOf(binary: string) {
    const LD = fs.realpathSync(ElfFile.open(binary).interpreter!);
    const paths = [binary, libraryOf(binary, /^libc\.so/), LD];
    return { LD, modules: paths.map((p, i) => hookModule(p, ElfFile.open(p), i === 0)) };
  }

  test('glibc and ld.so are system libraries, the program is not', () => {
    const { LD } = modulesOf(cfgtool);
    expect(isSystemLibrary(LIBC)).toBe(true);
    expect(isSystemLibrary(LD)).toBe(true);
    expect(isSystemLibrary(cfgtool)).toBe(false);
  });

  test.each(['lookup_*', 'init_*', 'parse_*'])('%s hooks no function of glibc or ld.so unless a module is named', (glob) => {
    const { modules } = modulesOf(cfgtool);
    const own = planHook(parseHookSpec(glob), modules).locations;
    expect(own.every((l) => l.module === cfgtool)).toBe(true);
    // named modules are searched: the same glob finds functions there (through libc6-dbg's symbols)
    const everywhere = planHook(parseHookSpec(`${glob}@*`), modules).locations;
    expect(everywhere.some((l) => l.module !== cfgtool)).toBe(true);
    expect(everywhere.filter((l) => l.module === cfgtool).map((l) => l.address)).toEqual(own.map((l) => l.address));
  });

  test('lookup_*@ld-linux-x86-64.so.2 hooks ld.so\'s lookup_malloc_symbol (libc6-dbg)', () => {
    const { LD, modules } = modulesOf(cfgtool);
    const found = planHook(parseHookSpec('lookup_*@ld-linux-x86-64.so.2'), modules).locations;
    expect(found.map((l) => [l.module, l.symbol])).toContainEqual([LD, 'lookup_malloc_symbol']);
  });

  test('ustack record: a glob only ld.so defines is an error that says how to name ld.so; named, it is hit (4 times, as the issue measured)', () => {
    const fixture = path.resolve(__dirname, '..', '..', 'example-project', 'fixtures', 'service.cfg');
    const own = spawnSync(process.execPath, [CLI, 'record', '--hook', 'lookup_malloc*', '--', cfgtool, 'get', fixture, 'listen.backlog'], { encoding: 'utf8' });
    expect(own.status).toBe(2);
    expect(own.stderr).toContain('a glob does not search system libraries unless it names them: lookup_malloc*@libc.so.6, or every module: lookup_malloc*@*');
    const named = spawnSync(process.execPath, [CLI, 'record', '--hook', 'lookup_malloc*@ld-linux-x86-64.so.2', '--', cfgtool, 'get', fixture, 'listen.backlog'], { encoding: 'utf8' });
    expect(named.status).toBe(3);
    expect(named.stderr).toMatch(/^-- 4 hit\(s\)/m);
  });

  test('the stap backend probes a glob in the program only, and in a named module when asked', () => {
    const libraries = sharedLibrariesOf(cfgtool);
    const own = probePointsFor(cfgtool, parseStapHook('lookup_*'), libraries);
    expect(own.points).toEqual([`process("${cfgtool}").function("lookup_*")`]);
    expect(own.locations.every((l) => l.module === cfgtool)).toBe(true);
    const named = probePointsFor(cfgtool, parseStapHook('lookup_*@*'), libraries);
    expect(named.points.some((p) => p.includes('.library('))).toBe(true);
  });
});

const musl = spawnSync('musl-gcc', ['--version']).status === 0;

describe('a program linked against musl (musl-tools)', () => {
  test('runs under the tracer; musl is a system library; its paths through the program match glibc\'s', () => {
    expect(musl).toBe(true); // .ci/run installs musl-tools
    const binary = buildFixture('portable_paths.c', { compiler: 'musl-gcc', variant: 'musl' });
    const capture = record(binary);
    expect(capture.exit).toEqual({ code: 0, signal: null });
    const libc = capture.stacks.flatMap((s) => s.frames).find((f) => f.module !== null && /musl.*\/libc\.so$/.test(f.module))?.module;
    expect(libc).toBeDefined();
    expect(isSystemLibrary(libc!)).toBe(true);
    const paths = callPaths(capture);
    // glibc's paths, but puts allocates nothing in musl (its stdout buffer is static)
    for (const line of ['malloc: 1× main > malloc', 'puts: 7× main > puts', 'note: 1× main > note', 'malloc: 1× worker > malloc', 'puts: 1× worker > puts', 'note: 1× worker > note']) {
      expect(paths.split('\n')).toContain(line);
    }
    // musl's malloc and puts have no CFI: at a hooked entry the return address is at [rsp] (the rbp chain would skip main)
    // musl's libc.so has no unwind tables for its C code (Debian's musl 1.2.3: .eh_frame covers a few
    // assembly functions), so no unwinder gets from the comparator, deep inside qsort, to main (gdb neither)
    expect(paths).toMatch(/^compare_keys: 11× compare_keys$/m);
  });
});
