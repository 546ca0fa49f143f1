/**
 * Where a hook goes, against gdb's `break F` on real -O2 binaries: its location count and addresses
 * (`info breakpoints`), its hit count, and the stack at every stop (`bt`: names, inline frames,
 * file:line). The cases GCC produces at -O2: a body split off by partial inlining (F.part.0, entered
 * from inlined heads), a `.cold` fragment (never entered by a call), `.constprop`/`.isra` clones,
 * C++ names found by their last components, and an inlined function whose first instruction is
 * another inlined call. Built -no-pie so gdb's addresses are the link-time ones without a run.
 */
import { expandHits } from '../../src/capture/model';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ElfFile } from '../../src/elf/elf-file';
import { UnknownHookError } from '../../src/errors';
import { hookModule, planHook, unknownHookError } from '../../src/symbolize/hook-resolver';
import { parseHookSpec } from '../../src/symbolize/hook-spec';
import { demangle } from '../../src/symbolize/demangle';
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import type { Frame } from '../../src/capture/types';
import { buildFixture, buildWithLibrary } from '../helpers/fixtures';
import { gdbPythonStacks, runGdbScript, type GdbPyFrame } from '../helpers/gdb';

jest.setTimeout(180000);
afterAll(() => shutdownTracer());

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const LD = '/lib64/ld-linux-x86-64.so.2';

/**
 * The addresses of every location of gdb's `break <name>`, sorted. `afterStart`: planted once the
 * program runs, so libraries are mapped (their addresses are then run-time ones).
 */
function gdbLocations(binary: string, name: string, afterStart = false): number[] {
  const out = runGdbScript([binary], afterStart ? ['start', `break ${name}`, 'info breakpoints', 'kill'] : ['set breakpoint pending off', `break ${name}`, 'info breakpoints']);
  const table = out.slice(out.indexOf('Num '));
  return [...new Set([...table.matchAll(/\b0x([0-9a-f]+) in /g)].map((m) => parseInt(m[1], 16)))].sort((a, b) => a - b);
}

function plan(binary: string, spec: string) {
  const elf = ElfFile.open(binary);
  return planHook(parseHookSpec(spec), [hookModule(binary, elf, true)], demangle);
}

function nmNames(binary: string): { name: string; address: number }[] {
  return execFileSync('nm', ['--defined-only', binary], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^([0-9a-f]+) [Tt] (\S+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[2], address: parseInt(m[1], 16) }));
}

/** One frame as a comparable row: name without parameters, inline flag, file basename:line. */
function row(name: string, inlined: boolean, file: string | null, line: number | null): string {
  return `${name.replace(/\(.*$/, '')}${inlined ? ' [inlined]' : ''} ${file ? path.basename(file) : '?'}:${line ?? '?'}`;
}

function ours(frames: Frame[]): string[] {
  const out: string[] = [];
  for (const f of frames) {
    out.push(row(f.symbol ?? '??', f.inlined, f.file, f.line));
    if (f.symbol === 'main') break;
  }
  return out;
}

function theirs(frames: GdbPyFrame[]): string[] {
  return frames.map((f) => row(f.func, f.inlined, f.file, f.line));
}

/** Records `hook` and compares hit count and every stack with gdb's `break gdbName`. */
async function sameAsGdb(argv: string[], hook: string, gdbName = hook) {
  const { capture } = await recordWithPtrace(argv, { hooks: [hook], maxHits: 100000 });
  const gdb = gdbPythonStacks(argv, [gdbName]);
  expect(gdb.length).toBeGreaterThan(0);
  expect(expandHits(capture).length).toBe(gdb.length);
  expect(expandHits(capture).map((h) => ours(h.frames))).toEqual(gdb.map(theirs));
  return capture;
}

describe('a body split off by partial inlining (split_body.c -O2)', () => {
  const bin = buildFixture('split_body.c', { flags: ['-O2', '-g', '-no-pie'], variant: 'O2-nopie' });

  test('gcc made grow.part.0 and no out-of-line grow', () => {
    const names = nmNames(bin).map((s) => s.name);
    expect(names).toContain('grow.part.0');
    expect(names).not.toContain('grow');
  });

  test('the hook plants at the .part.0 body and at each inlined head: gdb break grow\'s locations', () => {
    const p = plan(bin, 'grow');
    expect(p.locations.map((l) => l.address)).toEqual(gdbLocations(bin, 'grow'));
    const part = nmNames(bin).find((s) => s.name === 'grow.part.0')!;
    expect(p.locations.filter((l) => l.kind === 'part').map((l) => [l.symbol, l.address])).toEqual([['grow.part.0', part.address]]);
    expect(p.locations.filter((l) => l.kind === 'inlined').length).toBeGreaterThanOrEqual(2);
    expect(p.skipped).toEqual([]);
  });

  test('hit count and every stack (names, inline frames, file:line) equal gdb\'s', async () => {
    const capture = await sameAsGdb([bin, '20'], 'grow');
    // a call that grows stops at its inlined head, then in the part body called from there
    const partHits = expandHits(capture).filter((h) => !h.frames[0].inlined);
    expect(partHits.length).toBeGreaterThan(0);
    expect(partHits[0].frames[1]).toMatchObject({ symbol: 'grow', inlined: true });
    expect(capture.hooks[0].resolved.filter((r) => r.kind === 'part').map((r) => r.symbol)).toEqual(['grow.part.0']);
  });
});

describe('.cold fragments and clones (elf_clones.c -O2)', () => {
  const bin = buildFixture('elf_clones.c', { flags: ['-O2', '-g', '-no-pie'], variant: 'O2-nopie' });

  test('validate: one entry, as gdb; validate.cold is skipped, not a location', () => {
    const cold = nmNames(bin).find((s) => s.name === 'validate.cold')!;
    expect(cold).toBeDefined();
    const p = plan(bin, 'validate');
    expect(p.locations.map((l) => l.address)).toEqual(gdbLocations(bin, 'validate'));
    expect(p.locations.map((l) => l.kind)).toEqual(['entry']);
    expect(p.skipped).toEqual([{ module: bin, symbol: 'validate.cold', address: cold.address }]);
    // a glob does the same; naming the fragment itself still hooks it
    expect(plan(bin, 'valid*').locations.map((l) => l.address)).toEqual(p.locations.map((l) => l.address));
    expect(plan(bin, 'validate.cold').locations.map((l) => [l.address, l.kind])).toEqual([[cold.address, 'cold']]);
  });

  test('.constprop and .isra clones stay hooked, at gdb\'s locations', () => {
    for (const name of ['apply', 'sum_pair']) {
      const p = plan(bin, name);
      expect(p.locations.map((l) => l.address)).toEqual(gdbLocations(bin, name));
      expect(p.locations.every((l) => l.kind === 'entry' && /\.(constprop|isra)\.\d+$/.test(l.symbol))).toBe(true);
    }
  });

  test('hit counts and stacks of validate and apply equal gdb\'s', async () => {
    await sameAsGdb([bin], 'validate');
    await sameAsGdb([bin], 'apply');
  });
});

describe('C++ names (resolver_calc.cc -O2)', () => {
  const bin = buildFixture('resolver_calc.cc', { flags: ['-O2', '-g', '-no-pie'], variant: 'O2-nopie' });

  test('calc::node_alloc has a .cold fragment; the hook has gdb\'s one location and skips it', () => {
    const cold = nmNames(bin).find((s) => s.name === '_ZN4calc10node_allocEv.cold');
    expect(cold).toBeDefined();
    for (const spec of ['calc::node_alloc', 'node_alloc']) {
      const p = plan(bin, spec);
      expect(p.locations.map((l) => l.address)).toEqual(gdbLocations(bin, spec));
      expect(p.locations).toHaveLength(1);
      expect(p.skipped.map((s) => s.address)).toEqual([cold!.address]);
    }
  });

  test.each(['node_alloc', 'next', 'Lexer::ident', 'make_node', 'calc::make_node', 'expr'])('plain name %s matches the last components of qualified names, at gdb\'s locations', (spec) => {
    const p = plan(bin, spec);
    expect(p.locations.length).toBeGreaterThan(0);
    expect(p.locations.map((l) => l.address)).toEqual(gdbLocations(bin, spec));
  });

  test('a throwing call is one hit, as in gdb (the .cold path is not a second entry)', async () => {
    const capture = await sameAsGdb([bin, '1 + 2', '0'], 'node_alloc');
    expect(expandHits(capture)).toHaveLength(1);
    expect(capture.exit.code).toBe(1);
    const all = await sameAsGdb([bin, '1 + 2 + 30 - 4'], 'calc::node_alloc');
    expect(expandHits(all)).toHaveLength(7);
  });

  test.each([
    ['calc::node_aloc', 'calc::node_alloc'],
    ['calc::Lexer::idnet', 'calc::Lexer::ident'],
    ['calc::Parser::exp', 'calc::Parser::expr'],
    ['node_aloc', 'calc::node_alloc'],
    ['Parser::trem', 'calc::Parser::term'],
  ])('a typo %s suggests the demangled qualified name %s', (typo, near) => {
    const elf = ElfFile.open(bin);
    const mods = [hookModule(bin, elf, true)];
    expect(planHook(parseHookSpec(typo), mods, demangle).locations).toEqual([]);
    const err = unknownHookError(parseHookSpec(typo), mods, demangle);
    expect(err).toBeInstanceOf(UnknownHookError);
    expect(err.suggestions[0]).toBe(near);
    for (const s of err.suggestions) expect(s).not.toMatch(/^_Z/);
  });
});

describe('an inlined function that starts with another inlined call (inline_entry.c -O2)', () => {
  const bin = buildFixture('inline_entry.c', { flags: ['-O2', '-g', '-no-pie'], variant: 'O2-nopie' });

  test('prepare begins at the very address where call_native begins (the case under test)', () => {
    expect(gdbLocations(bin, 'call_native')).toEqual(gdbLocations(bin, 'prepare'));
  });

  test('a hook on call_native has call_native as frame 0, with gdb\'s frames and lines', async () => {
    const capture = await sameAsGdb([bin], 'call_native');
    expect(expandHits(capture)[0].frames[0]).toMatchObject({ symbol: 'call_native', inlined: true });
  });

  test('a hook on prepare has prepare as frame 0, inside call_native', async () => {
    const capture = await sameAsGdb([bin], 'prepare');
    expect(expandHits(capture)[0].frames.slice(0, 2).map((f) => f.symbol)).toEqual(['prepare', 'call_native']);
  });
});

describe("an inlined function inside glibc, whose DWARF is libc6-dbg's separate debug file (libc_calls.c)", () => {
  const bin = buildFixture('libc_calls.c');

  test("its locations are gdb's `break IO_validate_vtable` locations, each one an inlined copy in libc", () => {
    const modules = [bin, LIBC, LD].map((p) => hookModule(p, ElfFile.open(p), p === bin));
    const ours = planHook(parseHookSpec('IO_validate_vtable'), modules, demangle).locations;
    expect(new Set(ours.map((l) => `${l.module} ${l.kind}`))).toEqual(new Set([`${LIBC} inlined`]));
    // gdb plants once libc is mapped: its addresses are ours plus libc's load bias
    const theirs = gdbLocations(bin, 'IO_validate_vtable', true);
    expect(theirs.length).toBeGreaterThan(50);
    expect(ours.map((l) => l.address)).toHaveLength(theirs.length);
    expect(new Set(theirs.map((a, i) => a - ours[i].address)).size).toBe(1);
  });

  test("its hits and every stack equal gdb's, frame 0 the inlined IO_validate_vtable inside libc's stdio", async () => {
    const capture = await sameAsGdb([bin], 'IO_validate_vtable');
    const first = expandHits(capture)[0].frames;
    expect(first[0]).toMatchObject({ symbol: 'IO_validate_vtable', inlined: true });
    expect(first.some((f) => f.symbol === 'main')).toBe(true);
  });
});

describe('a plain name defined in the program and in a library it loads (same_name.c, same_name_lib.c)', () => {
  const { binary, library } = buildWithLibrary('same_name.c', 'same_name_lib.c', { flags: ['-O2', '-g'], variant: 'O2' });

  test("step is planned in every module that defines one, as gdb's `break step` (glibc has a static step too)", () => {
    const modules = [binary, library, LIBC, LD].map((p) => hookModule(p, ElfFile.open(p), p === binary));
    const ours = planHook(parseHookSpec('step'), modules, demangle).locations;
    // libc's is the old regexp.h `step`, a compat symbol (`step@GLIBC_2.2.5` in its .symtab)
    expect(ours.map((l) => [l.module, l.symbol.replace(/@.*$/, ''), l.kind])).toEqual([
      [binary, 'step', 'entry'],
      [library, 'step', 'entry'],
      [LIBC, 'step', 'entry'],
    ]);
    const out = runGdbScript([binary, '2'], ['start', 'break step', 'info breakpoints', 'kill']);
    const where = [...out.matchAll(/^2\.\d+ .* in step at (\S+):\d+$/gm)].map((m) => path.basename(m[1])).sort();
    expect(where).toEqual(['regexp.c', 'same_name.c', 'same_name_lib.c']);
  });

  test("hits in both modules, in the program's order, each stack equal to gdb's", async () => {
    const capture = await sameAsGdb([binary, '3'], 'step');
    const modules = expandHits(capture).map((h) => h.frames[0].module);
    expect(modules).toEqual([binary, binary, binary, library, library, library]);
  });
});

describe("a function of the dynamic linker, hit while it loads the program's libraries (dlopen_host.c)", () => {
  const host = buildFixture('dlopen_host.c', { libs: ['-ldl'] });
  const plugin = buildFixture('dlopen_plugin.c', { shared: true });

  test("_dl_map_object: libc and ld.so at start-up, then the plugin's dlopen, every stack equal to gdb's", async () => {
    const argv = [host, plugin, '1'];
    const { capture } = await recordWithPtrace(argv, { hooks: ['_dl_map_object'] });
    const gdb = gdbPythonStacks(argv, ['_dl_map_object']);
    // before main the outermost frame is ld.so's _start, an assembly label without CFI: gdb unwinds
    // on past it into stack garbage ("??" frames), ustack stops there; both are compared up to _start
    const upToStart = (rows: string[]) => rows.slice(0, rows.findIndex((r) => r.startsWith('_start ')) + 1 || rows.length);
    const hits = expandHits(capture);
    expect(hits).toHaveLength(3);
    expect(gdb).toHaveLength(3);
    expect(hits.map((h) => upToStart(ours(h.frames)))).toEqual(gdb.map((f) => upToStart(theirs(f))));
    // the first two are before main, ld.so mapping the program's needed libraries, down to its _start
    expect(hits.slice(0, 2).map((h) => h.frames.some((f) => f.symbol === 'main'))).toEqual([false, false]);
    expect(hits[0].frames[hits[0].frames.length - 1].symbol).toBe('_start');
    expect(hits[2].frames.some((f) => f.symbol === 'load_and_call')).toBe(true);
  });
});
