import { execFileSync } from 'node:child_process';
import { buildFixture } from '../helpers/fixtures';
import { normalizeName, stripCppParameters } from '../../src/callpath/names';

function symbols(bin: string): string[] {
  return execFileSync('nm', [bin], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length === 3 && /^[tTwW]$/.test(parts[1]))
    .map((parts) => parts[2]);
}

function cxxfilt(names: string[], args: string[] = []): string[] {
  return execFileSync('c++filt', args, { input: names.join('\n') + '\n', encoding: 'utf8' }).split('\n').slice(0, names.length);
}

describe('C++ names (oracle: c++filt -p on real g++ symbols)', () => {
  for (const flags of [['-O0', '-g'], ['-O2', '-g']]) {
    test(`every mangled symbol of jest_names.cc ${flags[0]} normalizes like c++filt -p`, () => {
      const mangled = symbols(buildFixture('jest_names.cc', { flags })).filter((s) => s.startsWith('_Z'));
      expect(mangled.length).toBeGreaterThan(10);
      const demangled = cxxfilt(mangled);
      const expected = cxxfilt(mangled, ['-p']);
      const mismatches = mangled
        .map((s, i) => ({ demangled: demangled[i], expected: expected[i], got: normalizeName(demangled[i], { stripTemplateArgs: false }) }))
        .filter((r) => r.got !== r.expected);
      expect(mismatches).toEqual([]);
    });
  }

  test('the -O2 build has clones and they lose their suffix', () => {
    const mangled = symbols(buildFixture('jest_names.cc', { flags: ['-O2', '-g'] })).filter((s) => /\.(constprop|isra)\./.test(s));
    expect(mangled.length).toBeGreaterThan(0);
    for (const name of cxxfilt(mangled)) {
      expect(name).toContain('[clone .');
      expect(normalizeName(name)).not.toMatch(/\[clone|\) const$|\((int|long|double)[^)]*\)$/);
    }
  });

  test('switches keep what they would strip', () => {
    const name = 'store::Table::get(int) const [clone .isra.0]';
    expect(normalizeName(name)).toBe('store::Table::get');
    expect(normalizeName(name, { stripCppParams: false })).toBe('store::Table::get(int) const');
    expect(normalizeName(name, { stripCloneSuffixes: false })).toBe('store::Table::get [clone .isra.0]');
    expect(stripCppParameters('(anonymous namespace)::f(int)')).toBe('(anonymous namespace)::f');
    expect(stripCppParameters('operator new(unsigned long)')).toBe('operator new');
    expect(stripCppParameters('A::operator bool() const')).toBe('A::operator bool');
  });
});

describe('C names (real gcc -O2 clones)', () => {
  test('.constprop, .isra, .part and .cold name the function they came from', () => {
    const names = symbols(buildFixture('jest_clones.c', { flags: ['-O2', '-g'] }));
    const clones = names.filter((n) => /\.(constprop|isra|part|cold)/.test(n));
    const suffixes = new Set(clones.flatMap((n) => n.match(/\.(constprop|isra|part|cold)/g) ?? []));
    expect([...suffixes].sort()).toEqual(['.cold', '.constprop', '.isra', '.part']);
    const defined = ['scaled', 'apply', 'report', 'check', 'maybe', 'main'];
    for (const clone of clones) expect(defined).toContain(normalizeName(clone));
    expect(normalizeName(clones[0], { stripCloneSuffixes: false })).toBe(clones[0]);
  });

  test('@plt and symbol versions are stripped, unknown symbols print ??', () => {
    expect(normalizeName('malloc@plt')).toBe('malloc');
    expect(normalizeName('memcpy@@GLIBC_2.14')).toBe('memcpy');
    expect(normalizeName(null)).toBe('??');
    expect(normalizeName('')).toBe('??');
  });
});

describe('Rust names (real rustc legacy-mangled symbols)', () => {
  test('hash suffixes are stripped and nothing else changes', () => {
    const bin = buildFixture('jest_rust.rs');
    const legacy = symbols(bin).filter((s) => s.startsWith('_ZN') && /17h[0-9a-f]{16}E$/.test(s));
    expect(legacy.length).toBeGreaterThan(0);
    const demangled = cxxfilt(legacy);
    for (const name of demangled) expect(name).toMatch(/::h[0-9a-f]{16}$/);
    const ours = demangled.map((n) => normalizeName(n, { stripTemplateArgs: false }));
    for (const n of ours) expect(n).not.toMatch(/::h[0-9a-f]{16}$/);
    expect(ours).toEqual(expect.arrayContaining(['jest_rust::config::parse_value', 'jest_rust::main']));
    expect(normalizeName(demangled[0], { stripRustHash: false, stripTemplateArgs: false })).toBe(demangled[0]);
  });
});

test('Rust generic arguments with spaces and arrows stay whole when kept, and go by default', () => {
  const keep = { stripTemplateArgs: false };
  expect(normalizeName('<F as core::ops::function::FnOnce<fn() -> u32>>::call_once', keep)).toBe('<F as core::ops::function::FnOnce<fn() -> u32>>::call_once');
  expect(normalizeName('<F as core::ops::function::FnOnce<fn() -> u32>>::call_once')).toBe('<F as core::ops::function::FnOnce>::call_once');
  expect(normalizeName('<usize as core::iter::traits::accum::Sum>::sum')).toBe('<usize as core::iter::traits::accum::Sum>::sum');
  expect(normalizeName('core::ptr::drop_in_place<alloc::vec::Vec<u8>>')).toBe('core::ptr::drop_in_place');
  expect(normalizeName('core::mem::drop::<u8>')).toBe('core::mem::drop');
});
