/**
 * Hooks on functions that exist only inlined: the entry pcs of their inlined copies, against the
 * locations gdb's `break <name>` plants (`info breakpoints`, one location per inlined copy).
 * Built -no-pie so gdb's addresses are the link-time ones without running the program.
 */
import { execFileSync } from 'node:child_process';
import { ElfFile } from '../../src/elf/elf-file';
import { parseHookSpec } from '../../src/symbolize/hook-spec';
import { debugInfoFor, inlineHookTargets } from '../../src/symbolize/inline-hooks';
import { buildFixture } from '../helpers/fixtures';
import { runGdbScript } from '../helpers/gdb';

jest.setTimeout(120000);

/** The addresses gdb plants a breakpoint at for `break <name>` (every location, sorted). */
function gdbLocations(binary: string, name: string): number[] {
  const out = runGdbScript([binary], ['set breakpoint pending off', `break ${name}`, 'info breakpoints']);
  const table = out.slice(out.indexOf('Num '));
  const addrs = [...table.matchAll(/\b0x([0-9a-f]+) in /g)].map((m) => parseInt(m[1], 16));
  return [...new Set(addrs)].sort((a, b) => a - b);
}

function targets(binary: string, spec: string) {
  const elf = ElfFile.open(binary);
  return inlineHookTargets(parseHookSpec(spec), [{ path: binary, elf, debug: debugInfoFor(elf) }]);
}

describe('inlined functions in C (src_inline.c)', () => {
  const o2 = buildFixture('src_inline.c', { flags: ['-O2', '-g', '-no-pie'], variant: 'o2-nopie' });
  const o0 = buildFixture('src_inline.c', { flags: ['-O0', '-g', '-no-pie'], variant: 'o0-nopie' });

  test.each(['scale', 'accumulate'])('%s: one target per inlined copy, at the addresses gdb breaks at', (name) => {
    const ours = targets(o2, name);
    expect(ours.length).toBeGreaterThan(0);
    for (const t of ours) expect(t.symbol).toBe(name);
    expect(ours.map((t) => t.address)).toEqual(gdbLocations(o2, name));
  });

  test('a glob matches both inlined helpers', () => {
    const ours = targets(o2, '[sa]c*');
    expect(new Set(ours.map((t) => t.symbol))).toEqual(new Set(['scale', 'accumulate']));
    const expected = [...new Set([...gdbLocations(o2, 'scale'), ...gdbLocations(o2, 'accumulate')])].sort((a, b) => a - b);
    expect(ours.map((t) => t.address)).toEqual(expected);
  });

  test('-O0: nothing is inlined, so there are no inlined targets', () => {
    expect(targets(o0, 'scale')).toEqual([]);
    expect(targets(o0, 'accumulate')).toEqual([]);
    // gdb still finds the out-of-line function (resolveHook's job, not this one)
    expect(gdbLocations(o0, 'scale')).toHaveLength(1);
  });
});

describe('inlined functions in C++ (src_cpp.cc)', () => {
  const o2 = buildFixture('src_cpp.cc', { flags: ['-O2', '-g', '-no-pie'], variant: 'o2-nopie' });

  test('geo::Stack<int>::size by its qualified name, at gdb\'s locations', () => {
    const ours = targets(o2, 'geo::Stack<int>::size');
    expect(ours.length).toBeGreaterThan(0);
    for (const t of ours) expect(t.symbol).toBe('geo::Stack<int>::size');
    // gdb also plants one on an out-of-line copy, if any: compare against the inlined ones only
    const gdb = gdbLocations(o2, 'geo::Stack<int>::size');
    const elf = ElfFile.open(o2);
    const outOfLine = new Set(elf.symbols().functions().map((s) => s.address));
    expect(ours.map((t) => t.address)).toEqual(gdb.filter((a) => !outOfLine.has(a)));
  });
});

describe('a C++ glob over qualified names (src_cpp.cc -O2)', () => {
  const o2 = buildFixture('src_cpp.cc', { flags: ['-O2', '-g', '-no-pie'], variant: 'o2-nopie' });

  test.each(['geo::*', '*lambda*'])('%s: every inlined copy of every matching function, as gdb breaks on each by name', (glob) => {
    const ours = targets(o2, glob);
    const names = [...new Set(ours.map((t) => t.symbol))].sort();
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n).toMatch(glob === 'geo::*' ? /^geo::/ : /lambda/);
    const elf = ElfFile.open(o2);
    const outOfLine = new Set(elf.symbols().functions().map((s) => s.address));
    const gdb = new Set<number>();
    for (const n of names) for (const a of gdbLocations(o2, `'${n}'`)) if (!outOfLine.has(a)) gdb.add(a);
    expect(ours.map((t) => t.address)).toEqual([...gdb].sort((a, b) => a - b));
  });
});

test('entryPc is DW_AT_entry_pc as readelf prints it', () => {
  const o2 = buildFixture('src_cpp.cc', { flags: ['-O2', '-g', '-no-pie'], variant: 'o2-nopie' });
  const dump = execFileSync('readelf', ['--debug-dump=info', o2], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const all = new Set<number>();
  const contiguous = new Set<number>();
  for (const die of dump.split(/\n(?= <\d+><)/)) {
    if (!/\(DW_TAG_inlined_subroutine\)/.test(die)) continue;
    const m = /DW_AT_entry_pc\s*:\s*0x([0-9a-f]+)/.exec(die);
    if (!m) continue;
    all.add(parseInt(m[1], 16));
    // a copy with one non-empty low_pc/high_pc range surely has code; DW_AT_ranges lists may be all empty
    if (/DW_AT_low_pc/.test(die) && !/DW_AT_high_pc\s*:\s*0\s*$/m.test(die)) contiguous.add(parseInt(m[1], 16));
  }
  const ours = new Set(debugInfoFor(ElfFile.open(o2))!.inlinedInstances().map((i) => i.entryPc));
  expect(contiguous.size).toBeGreaterThan(5);
  for (const e of ours) if (e !== null) expect(all.has(e)).toBe(true);
  for (const e of contiguous) expect(ours.has(e)).toBe(true);
});
