/**
 * Source-level stacks through the real tracer, against gdb's `bt` at the same pcs: function
 * names (C, C++ demangled, Rust module paths), inline frames, and file:line of every frame up to
 * main. gdb stops with `break *ADDRESS` at the exact entry our hooks use (gdb runs without ASLR,
 * so a PIE executable sits at 0x555555554000).
 */
import { expandHits } from '../../src/capture/model';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import type { Capture, Frame } from '../../src/capture/types';
import { stripParameters } from '../../src/symbolize/demangle';
import { buildFixture } from '../helpers/fixtures';
import { gdbStops, type GdbStopFrame } from '../dwarf/source-oracles';

afterAll(() => shutdownTracer());

const PIE_BASE = 0x555555554000;

interface Row {
  name: string;
  file: string | null;
  line: number | null;
  /** First frame of a physical frame's group (gdb prints an address on it, except for #0). */
  startsGroup: boolean;
}

/** Template arguments and parameter lists aside, names as both tools print them. */
function comparable(name: string): string {
  let s = stripParameters(name);
  let out = '';
  let depth = 0;
  for (const ch of s) {
    if (ch === '<') depth++;
    if (depth === 0) out += ch;
    if (ch === '>') depth--;
  }
  s = out.replace(/ \[clone [^\]]*\]/g, '');
  return s;
}

function ours(frames: Frame[]): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    rows.push({ name: comparable(f.symbol ?? '??'), file: f.file ? path.basename(f.file) : null, line: f.line, startsGroup: i === 0 || !frames[i - 1].inlined });
    if (f.symbol === 'main' || f.symbol?.endsWith('::main')) break;
  }
  return rows;
}

/**
 * gdb's rows at a hook: with `break *ADDRESS` gdb also enters calls inlined at the function's very
 * first instruction, where a hook (like `break FUNC`) reports the hooked function as frame 0.
 */
function theirs(frames: GdbStopFrame[], hooked: string): Row[] {
  const rows: Row[] = [];
  const first = frames.findIndex((f) => comparable(f.func) === hooked);
  frames = first > 0 ? frames.slice(first) : frames;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    rows.push({ name: comparable(f.func), file: f.file ? path.basename(f.file) : null, line: f.line, startsGroup: i === 0 || !f.inlined });
    if (f.func === 'main' || f.func.endsWith('::main')) break;
  }
  return rows;
}

/** gdb names a lambda's call operator plain `operator()`; ours is qualified (main::{lambda(int, int)#1}::operator()). */
function alignLambdas(gdbRows: Row[], ourRows: Row[]): Row[] {
  return gdbRows.map((r, i) =>
    r.name === 'operator()' && ourRows[i] && /::\{lambda\(.*\)#\d+\}::operator\(\)$/.test(ourRows[i].name) ? { ...r, name: ourRows[i].name } : r,
  );
}

function isPie(bin: string): boolean {
  return /DYN/.test(execFileSync('readelf', ['-hW', bin], { encoding: 'utf8' }).split('\n').find((l) => l.includes('Type:')) ?? '');
}

async function compare(argv: string[], hooks: string[], maxStops = 12): Promise<Capture> {
  const { capture } = await recordWithPtrace(argv, { hooks, maxHits: maxStops });
  const base = isPie(argv[0]) ? PIE_BASE : 0;
  const addresses = capture.hooks.flatMap((h) => h.resolved.filter((r) => r.module === argv[0]).map((r) => `*0x${(parseInt(r.address, 16) + base).toString(16)}`));
  expect(addresses.length).toBeGreaterThan(0);
  const stops = gdbStops(argv, addresses, maxStops);
  expect(stops.length).toBeGreaterThan(0);
  const mine = expandHits(capture).slice(0, stops.length).map((h) => ours(h.frames));
  expect(mine).toEqual(stops.map((s, i) => alignLambdas(theirs(s, mine[i]?.[0]?.name ?? ''), mine[i] ?? [])));
  return capture;
}

describe('C at -O2 -g: static helpers inlined into their callers', () => {
  test.each([
    ['DWARF 5', ['-O2', '-g']],
    ['DWARF 4', ['-O2', '-gdwarf-4']],
    ['compressed debug sections', ['-O2', '-g', '-gz=zlib']],
  ])('inline frames and file:line equal gdb (%s)', async (variant, flags) => {
    const bin = buildFixture('src_inline.c', { flags, variant: variant.replace(/\W+/g, '') });
    const capture = await compare([bin, '3'], ['leaf']);
    const frames = expandHits(capture)[0].frames;
    expect(frames.slice(0, 5).map((f) => [f.symbol, f.inlined])).toEqual([
      ['leaf', false],
      ['scale', true],
      ['accumulate', true],
      ['run', false],
      ['main', false],
    ]);
    // inline frames share the pc of their physical frame
    expect(frames[1].pc).toBe(frames[3].pc);
  });
});

describe('C++: namespaces, templates, overloads, lambdas, exceptions', () => {
  test.each([
    ['-O0', ['-O0', '-g']],
    ['-O2', ['-O2', '-g']],
  ])('stacks of namespaced, overloaded and template functions equal gdb (%s)', async (variant, flags) => {
    const bin = buildFixture('src_cpp.cc', { flags, variant: variant.replace(/\W+/g, '') });
    // At -O2 Shape::area(int) tail-calls clamp_value: its frame is rebuilt from DW_TAG_call_site data, as gdb does
    const hooks = ['geo::detail::clamp_value', 'geo::Shape::area', 'geo::Stack::push', 'by_descending'];
    const capture = await compare([bin, '4'], hooks, 30);
    const hooked = new Set(expandHits(capture).map((h) => comparable(h.frames[0].symbol!)));
    expect(hooked).toEqual(new Set(hooks));
    // both overloads of area and both instances of the template are hooked
    expect(capture.hooks.find((h) => h.spec === 'geo::Shape::area')!.resolved).toHaveLength(2);
    expect(capture.hooks.find((h) => h.spec === 'geo::Stack::push')!.resolved).toHaveLength(2);
    const lambda = expandHits(capture).find((h) => h.hook === 'by_descending')!;
    if (variant === '-O0') {
      // a real frame: named from its mangled ELF symbol, fully qualified
      expect(lambda.frames[1].symbol).toMatch(/^main::\{lambda\(int, int\)#1\}::operator\(\)/);
      expect(lambda.frames[1].linkage).toMatch(/^_Z/);
    } else {
      // inlined into libstdc++'s comparator wrapper: DWARF's name, as gdb prints it
      expect(lambda.frames[1]).toMatchObject({ symbol: 'operator()', inlined: true });
      const clamp = expandHits(capture).find((h) => h.hook === 'geo::detail::clamp_value')!;
      // one rule for every frame DWARF names: gdb's name, without the parameter list
      expect(clamp.frames[1]).toMatchObject({ symbol: 'geo::Shape::area', tailCall: true });
    }
  });

  test('__cxa_throw as a hook in libstdc++: the stack reaches back to the throwing method', async () => {
    const bin = buildFixture('src_cpp.cc', { flags: ['-O0', '-g'] });
    const { capture, stdout } = await recordWithPtrace([bin, '4'], { hooks: ['__cxa_throw@libstdc++.so.6'] });
    expect(stdout).toContain('caught: too many sides');
    expect(expandHits(capture)).toHaveLength(1);
    const names = expandHits(capture)[0].frames.map((f) => comparable(f.symbol ?? '??'));
    expect(names.slice(0, 3)).toEqual(['__cxa_throw', 'geo::Shape::check', 'main']);
  });
});

describe('Rust: module paths, generics, closures', () => {
  test.each([
    ['opt-level=0', ['-g', '-C', 'opt-level=0']],
    ['opt-level=2', ['-g', '-C', 'opt-level=2']],
  ])('stacks of #[inline(never)] functions equal gdb (%s)', async (variant, flags) => {
    const bin = buildFixture('src_rust.rs', { flags, variant: variant.replace(/\W+/g, '') });
    const capture = await compare([bin], ['src_rust::parser::parse_value', 'src_rust::parser::lexer::next_token'], 20);
    expect(expandHits(capture)[0].frames[0].symbol).toMatch(/^src_rust::parser::/);
  });
});

describe('separate debug info and stripped binaries', () => {
  test('a binary stripped with objcopy --only-keep-debug + --add-gnu-debuglink symbolizes like the original', async () => {
    const original = buildFixture('src_inline.c', { flags: ['-O2', '-g'], variant: 'for-strip' });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-strip-'));
    const bin = path.join(dir, 'app');
    fs.copyFileSync(original, bin);
    execFileSync('objcopy', ['--only-keep-debug', bin, `${bin}.debug`]);
    execFileSync('strip', ['--strip-all', bin]);
    execFileSync('objcopy', [`--add-gnu-debuglink=${bin}.debug`, bin], { cwd: dir });
    const viaDebugLink = await recordWithPtrace([bin, '2'], { hooks: ['leaf'] });
    const direct = await recordWithPtrace([original, '2'], { hooks: ['leaf'] });
    const strip = (c: Capture) => expandHits(c).map((h) => h.frames.map((f) => [f.symbol, f.file, f.line, f.inlined]));
    expect(strip(viaDebugLink.capture)).toEqual(strip(direct.capture));
    expect(viaDebugLink.capture.warnings ?? []).not.toContainEqual(expect.stringContaining(bin));
  });

  test('without any debug info: .dynsym names, module+offset, and one warning naming the fix', async () => {
    const original = buildFixture('src_inline.c', { flags: ['-O2', '-g'], variant: 'for-strip' });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-strip-'));
    const bin = path.join(dir, 'app');
    fs.copyFileSync(original, bin);
    execFileSync('strip', ['--strip-all', bin]);
    // no symbol is left for `leaf`: hook it by address-free means is impossible, so trace a libc function instead
    const { capture } = await recordWithPtrace([bin, '2'], { hooks: ['printf@libc.so.6'] });
    expect(expandHits(capture)).toHaveLength(1);
    const caller = expandHits(capture)[0].frames[1];
    expect(caller.module).toBe(bin);
    expect(caller.symbol === null || caller.symbol === 'main').toBe(true);
    expect(caller.offset).toMatch(/^0x[0-9a-f]+$/);
    const warning = (capture.warnings ?? []).filter((w) => w.includes(bin));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatch(/build it with -g/);
  });
});

describe('hooks on functions that exist only inlined', () => {
  test('`scale`, inlined into run at -O2, is hooked at its inlined copy: hits, names and lines equal gdb `break scale`', async () => {
    const bin = buildFixture('src_inline.c', { flags: ['-O2', '-g'] });
    const { capture } = await recordWithPtrace([bin, '3'], { hooks: ['scale'] });
    expect(capture.hooks[0].resolved.length).toBeGreaterThan(0);
    expect(capture.hooks[0].resolved.every((r) => r.inlined)).toBe(true);
    expect(expandHits(capture)).toHaveLength(3); // one per call, as at -O0
    expect(expandHits(capture)[0].frames[0]).toMatchObject({ symbol: 'scale', inlined: true });
    const stops = gdbStops([bin, '3'], ['scale'], 10);
    expect(stops).toHaveLength(3);
    const mine = expandHits(capture).map((h) => ours(h.frames));
    expect(mine).toEqual(stops.map((s) => theirs(s, 'scale')));
  });
});
