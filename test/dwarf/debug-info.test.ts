/**
 * DebugInfo against gdb's `bt` (inline frames, names, call-site file:line) and addr2line -i (every
 * sampled address), on C with an inlined static helper, C++ and Rust binaries built by the tests.
 */
import { execFileSync } from 'node:child_process';
import { DebugInfo, SourceFrame } from '../../src/dwarf/debug-info';
import { LineTable } from '../../src/dwarf/line-table';
import { ElfFile } from '../../src/elf/elf-file';
import { stripParameters } from '../../src/symbolize/demangle';
import { buildFixture } from '../helpers/fixtures';
import { addr2lineFrames, GdbStopFrame, gdbStops, textAddresses } from './source-oracles';

function build(source: string, flags: string[]): string {
  return buildFixture(source, { flags, variant: flags.join('').replace(/[^A-Za-z0-9]/g, '') });
}

function open(bin: string): DebugInfo {
  const elf = ElfFile.open(bin);
  const di = DebugInfo.fromSections(elf, LineTable.fromSections(elf));
  expect(di).not.toBeNull();
  return di!;
}

/** Names compared without template arguments and parameter lists (gdb prints C++ template instances with both). */
function comparableName(name: string): string {
  let out = '';
  let depth = 0;
  for (const c of stripParameters(name)) {
    if (c === '<') depth++;
    else if (c === '>') depth--;
    else if (depth === 0) out += c;
  }
  return out;
}

function sameFunction(gdbName: string, ours: string): boolean {
  if (gdbName === ours) return true;
  const g = comparableName(gdbName);
  const o = comparableName(ours);
  // gdb names a lambda's body just "operator()"; addr2line puts return types in front, and names
  // inlined template functions without linkage names by their unqualified DIE name
  return g === o || (g === 'operator()' && o.endsWith('::operator()')) || g.endsWith(' ' + o) || o.endsWith('::' + g);
}

/** Our frames for gdb's physical frames, expanded with inline frames, up to and including `main`. */
function oursFor(di: DebugInfo, stop: GdbStopFrame[]): SourceFrame[] {
  const frames: SourceFrame[] = [];
  stop.forEach((f, i) => {
    if (f.pc === null) return;
    frames.push(...(i === 0 ? di.framesAt(f.pc, true) : di.framesAt(f.pc - 1)));
  });
  const main = frames.findIndex((f) => f.function === 'main' || f.function === 'src_rust::main');
  return main >= 0 ? frames.slice(0, main + 1) : frames;
}

function gdbUpToMain(stop: GdbStopFrame[]): GdbStopFrame[] {
  const main = stop.findIndex((f) => f.func === 'main' || f.func === 'src_rust::main');
  return main >= 0 ? stop.slice(0, main + 1) : stop;
}

/**
 * gdb prints a pc on the innermost frame of each physical frame and none on the frames it was
 * inlined into; in our model the inlined functions are marked (all but the last of each group).
 */
function inlinedAsOurs(frames: GdbStopFrame[]): boolean[] {
  return frames.map((f, i) => i + 1 < frames.length && frames[i + 1].pc === null);
}

function expectSameAsGdb(di: DebugInfo, stops: GdbStopFrame[][]): void {
  expect(stops.filter((s) => s.length > 2).length).toBeGreaterThan(0);
  for (const all of stops) {
    // frames in shared libraries (libstdc++'s __cxa_throw) are another module's business
    const stop = all.filter((f) => f.library === null);
    const upToMain = gdbUpToMain(stop);
    const inlined = inlinedAsOurs(upToMain);
    const want = upToMain.map((f, i) => ({ func: f.func, file: f.file, line: f.line, inlined: inlined[i] }));
    const got = oursFor(di, stop).map((f, i) => ({
      func: want[i] && sameFunction(want[i].func, f.function) ? want[i].func : f.function,
      // gdb shows the file name as the unit recorded it (rustc: relative to the build directory); ours is absolute
      file: want[i]?.file && f.file?.endsWith('/' + want[i].file) ? want[i].file : f.file,
      line: f.line,
      inlined: f.inlined,
    }));
    expect(got).toEqual(want);
  }
}

describe.each([
  ['DWARF 5', ['-O2', '-g', '-no-pie']],
  ['DWARF 4', ['-O2', '-gdwarf-4', '-no-pie']],
  ['DWARF 5, zlib-compressed sections', ['-O2', '-g', '-gz=zlib', '-no-pie']],
])('C at -O2 with an inlined static helper, %s', (_label, flags) => {
  const bin = build('src_inline.c', flags);

  test('an address inside the inlined code gives [scale (inlined), accumulate (inlined), run]', () => {
    const di = open(bin);
    // the call of leaf() inside run() is the inlined scale()'s code
    const stops = gdbStops([bin, '2'], ['leaf'], 1);
    const ret = stops[0][1].pc!;
    const frames = di.framesAt(ret - 1);
    expect(frames.map((f) => [f.function, f.inlined])).toEqual([
      ['scale', true],
      ['accumulate', true],
      ['run', false],
    ]);
    expect(frames[0].file).toMatch(/src_inline\.c$/);
    expect(frames.map((f) => f.line)).toEqual([15, 23, 28]);
  });

  test('frames at every stop of a breakpoint equal gdb bt (names, inline markers, file:line)', () => {
    const di = open(bin);
    // (not `run`: gdb stops after its prologue, where the inlined accumulate() starts, and then
    // shows the stop as being before the inlined call, a gdb user-interface convention)
    expectSameAsGdb(di, gdbStops([bin, '3'], ['leaf', 'main']));
  });

  test('frames at sampled addresses equal addr2line -i', () => {
    const di = open(bin);
    const lines = LineTable.fromSections(ElfFile.open(bin))!;
    const addresses = textAddresses(bin, 400);
    const oracle = addr2lineFrames(bin, addresses);
    let withInline = 0;
    addresses.forEach((a, i) => {
      const got = di.framesAt(a).slice();
      if (got.length === 0) return; // crt code without DWARF: addr2line prints the ELF symbol
      if (got.length > 1) withInline++;
      // the innermost line is gdb's (is_stmt rows preferred); addr2line takes the last row
      const bfd = lines.lookup(a);
      got[0] = { ...got[0], file: bfd?.file ?? null, line: bfd?.line ?? null };
      expect([a.toString(16), got.map((f) => `${f.function} ${f.file}:${f.line}`)]).toEqual([
        a.toString(16),
        oracle[i].map((f) => `${f.function} ${f.file}:${f.line}`),
      ]);
      got.forEach((f, k) => expect(f.inlined).toBe(k < got.length - 1));
    });
    expect(withInline).toBeGreaterThan(3);
  });
});

describe('C++', () => {
  test.each([['-O0'], ['-O2']])('frames at breakpoints equal gdb bt at %s (names without template arguments)', (opt) => {
    const bin = build('src_cpp.cc', [opt, '-g', '-no-pie']);
    const di = open(bin);
    expectSameAsGdb(di, gdbStops([bin, '6'], ['geo::detail::clamp_value', 'by_descending', 'geo::Stack<int>::push', '__cxa_throw']));
  });

  test('frames at sampled addresses equal addr2line -i -C (names without parameters)', () => {
    const bin = build('src_cpp.cc', ['-O2', '-g']);
    const di = open(bin);
    const lines = LineTable.fromSections(ElfFile.open(bin))!;
    const addresses = textAddresses(bin, 400);
    const oracle = addr2lineFrames(bin, addresses);
    addresses.forEach((a, i) => {
      const got = di.framesAt(a).slice();
      if (got.length === 0) return;
      const bfd = lines.lookup(a);
      got[0] = { ...got[0], file: bfd?.file ?? null, line: bfd?.line ?? null };
      const want = oracle[i];
      expect([a.toString(16), got.length]).toEqual([a.toString(16), want.length]);
      got.forEach((f, k) => {
        expect(`${f.file}:${f.line}`).toBe(`${want[k].file}:${want[k].line}`);
        // addr2line prints ".cold" parts by their ELF symbol name (main.cold)
        // binutils 2.40 names a one-byte inlined block by its physical function (gdb's `info scope` agrees with us)
        const bfdQuirk = k === 0 && got.length > 1 && want[0].function === want[want.length - 1].function;
        expect([a.toString(16), want[k].function, f.function, bfdQuirk || sameFunction(want[k].function.replace(/\.cold$| \[clone [^\]]+\]$/, ''), f.function)]).toEqual([
          a.toString(16),
          want[k].function,
          f.function,
          true,
        ]);
      });
    });
  });

  test('functions() names methods with namespaces and classes, like the ELF symbols', () => {
    const bin = build('src_cpp.cc', ['-O0', '-g']);
    const fns = open(bin).functions();
    const names = fns.map((f) => f.qualifiedName);
    for (const n of ['main', 'by_descending', 'geo::detail::clamp_value', 'geo::Shape::area', 'geo::Shape::check', 'geo::Stack<int>::push', 'geo::Stack<int>::pop']) {
      expect(names).toContain(n);
    }
    expect(names.filter((n) => n === 'geo::Shape::area')).toHaveLength(2); // both overloads
    const area = fns.find((f) => f.qualifiedName === 'geo::Stack<int>::push')!;
    expect(area.name).toBe('push');
    expect(area.declFile).toMatch(/src_cpp\.cc$/);
    expect(area.declLine).toBe(32);
    // every function with a linkage name starts at the address nm gives that symbol
    const nm = new Map<string, number>();
    for (const line of execFileSync('nm', ['--defined-only', bin], { encoding: 'utf8' }).split('\n')) {
      const [addr, , sym] = line.split(' ');
      if (sym) nm.set(sym, parseInt(addr, 16));
    }
    const linked = fns.filter((f) => f.linkageName && nm.has(f.linkageName));
    expect(linked.length).toBeGreaterThan(20);
    for (const f of linked) expect([f.linkageName, f.ranges[0][0]]).toEqual([f.linkageName, nm.get(f.linkageName!)]);
  });
});

describe.each([
  ['opt-level=0', ['-g', '-C', 'opt-level=0', '-C', 'relocation-model=static']],
  ['opt-level=2, v0 mangling', ['-g', '-C', 'opt-level=2', '-C', 'symbol-mangling-version=v0', '-C', 'relocation-model=static']],
])('Rust at %s', (_label, flags) => {
  const bin = build('src_rust.rs', flags);

  test('frames at breakpoints equal gdb bt', () => {
    const di = open(bin);
    expectSameAsGdb(di, gdbStops([bin, '2'], ['src_rust::parser::lexer::next_token', 'src_rust::parser::Parser::feed'], 8));
  });

  test('functions() has module-qualified names', () => {
    const names = open(bin).functions().map((f) => f.qualifiedName);
    for (const n of ['src_rust::main', 'src_rust::parser::parse_value', 'src_rust::parser::lexer::next_token', 'src_rust::parser::Parser::feed']) {
      expect(names).toContain(n);
    }
  });

  test('a lookup parses only the unit that covers the pc', () => {
    const di = open(bin);
    const fn = di.functions().find((f) => f.qualifiedName === 'src_rust::parser::parse_value')!;
    const fresh = open(bin);
    expect(fresh.framesAt(fn.ranges[0][0]).pop()!.function).toBe('src_rust::parser::parse_value');
    expect(fresh.stats.parsedUnits).toBe(1);
    expect(fresh.stats.units).toBeGreaterThan(5);
  });
});

test('the node executable (large, little DWARF) answers 10,000 lookups quickly', () => {
  const elf = ElfFile.open(process.execPath);
  const t0 = process.hrtime.bigint();
  const lines = LineTable.fromSections(elf);
  const di = DebugInfo.fromSections(elf, lines);
  const text = elf.section('.text')!;
  let found = 0;
  for (let i = 0; i < 10000; i++) {
    const pc = text.address + Math.floor((i * text.size) / 10000);
    if (di?.framesAt(pc).length) found++;
    lines?.lookup(pc);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  expect(ms).toBeLessThan(3000);
  expect(found).toBeGreaterThanOrEqual(0);
});
