import { execFileSync } from 'node:child_process';
import { ElfFile } from '../../src/elf/elf-file';
import { InvalidHookError, UnknownHookError } from '../../src/errors';
import { demangledBaseName, HookModule, hookModule, moduleMatches, resolveHook, withoutTemplateArgs } from '../../src/symbolize/hook-resolver';
import { globToRegExp, isGlob, parseHookSpec } from '../../src/symbolize/hook-spec';
import { editDistance, suggestNames } from '../../src/symbolize/near-names';
import { buildFixture } from '../helpers/fixtures';
import { bare, nmDefined, readelfSymbols } from '../elf/oracles';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const LD = '/lib64/ld-linux-x86-64.so.2';

/** A demangler for tests only: c++filt run once over every name of the given files. */
function cxxfiltFor(files: string[]): (linkage: string) => string {
  const names = [...new Set(files.flatMap((f) => nmDefined(f).map((s) => bare(s.name))))];
  const out = execFileSync('c++filt', [], { input: names.join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n');
  const map = new Map(names.map((n, i) => [n, out[i]]));
  return (linkage) => map.get(linkage) ?? linkage;
}

function modulesFor(exe: string): HookModule[] {
  return [exe, LIBC, LD].map((p) => ({ path: p, elf: ElfFile.open(p) }));
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('parseHookSpec', () => {
  test('function, function@module, function@/abs/path (first @ splits)', () => {
    expect(parseHookSpec('leaf')).toEqual({ text: 'leaf', pattern: 'leaf', module: null });
    expect(parseHookSpec(' malloc@libc.so.6 ')).toEqual({ text: 'malloc@libc.so.6', pattern: 'malloc', module: 'libc.so.6' });
    expect(parseHookSpec('f@/opt/node_modules/@scope/x/lib.so')).toEqual({ text: 'f@/opt/node_modules/@scope/x/lib.so', pattern: 'f', module: '/opt/node_modules/@scope/x/lib.so' });
    expect(parseHookSpec('ns::Klass::method(int) const').pattern).toBe('ns::Klass::method(int) const');
  });

  test.each([
    ['', /empty/],
    ['   ', /empty/],
    ['@libc.so.6', /no function name/],
    ['malloc@', /no module name/],
    ['malloc@lib/rel.so', /relative path/],
    ['lea\nf', /control character/],
  ])('%j is an InvalidHookError', (text, why) => {
    const err = thrown(() => parseHookSpec(text));
    expect(err).toBeInstanceOf(InvalidHookError);
    expect((err as InvalidHookError).code).toBe('USTACK_INVALID_HOOK');
    expect(err.message).toMatch(why);
  });

  test('globs: * ? [..] [!..]; an unclosed [ and operator[] are literal', () => {
    expect(isGlob('parse_*')).toBe(true);
    expect(isGlob('leaf')).toBe(false);
    expect(isGlob('Vec::operator[]')).toBe(false);
    expect(isGlob('a[b')).toBe(false);
    const g = globToRegExp('str?[cn]mp*')!;
    expect(['strcmp', 'strncmp', 'strcasecmp'].filter((n) => g.test(n))).toEqual(['strncmp']);
    expect(['strxcmp', 'stracmp_x', 'strbnmp'].filter((n) => g.test(n))).toEqual(['strxcmp', 'stracmp_x', 'strbnmp']);
    expect(globToRegExp('[!a-c]x')!.test('dx')).toBe(true);
    expect(globToRegExp('[!a-c]x')!.test('bx')).toBe(false);
    expect(globToRegExp('a.b*')!.test('axb')).toBe(false);
    expect(globToRegExp('[]]*')!.test(']x')).toBe(true);
  });
});

describe('suggestNames', () => {
  test('closest first: edit distance (with transpositions), then prefix, then substring; capped', () => {
    const names = ['leaf', 'left_pad', 'main', 'mid', 'top', 'lefty', 'cleft'];
    expect(suggestNames('lef', names)[0]).toBe('leaf');
    expect(suggestNames('lef', names)).toEqual(['leaf', 'lefty', 'left_pad', 'cleft']);
    expect(suggestNames('mian', names)[0]).toBe('main');
    expect(suggestNames('xyzzy', names)).toEqual([]);
    expect(suggestNames('lef', names, 2)).toHaveLength(2);
    expect(editDistance('malloc', 'mallco')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('abc', 'abcdefgh', 2)).toBe(3);
  });

  test('finds malloc for a typo among all libc functions', () => {
    const names = ElfFile.open(LIBC).symbols().functions().map((s) => s.name);
    expect(suggestNames('mallco', names)[0]).toBe('malloc');
    expect(suggestNames('pthread_mutex_lok', names)[0]).toBe('pthread_mutex_lock');
  });
});

describe('resolveHook on C programs', () => {
  let exe: string;
  let modules: HookModule[];
  beforeAll(() => {
    exe = buildFixture('libc_calls.c');
    modules = modulesFor(exe);
  });

  test('a name defined in the executable resolves there, at the address nm gives', () => {
    const nm = nmDefined(exe);
    for (const name of ['main', 'make_items', 'by_value']) {
      expect(resolveHook(parseHookSpec(name), modules)).toEqual([
        { spec: name, module: exe, symbol: name, address: nm.find((s) => s.name === name)!.address, isIfunc: false, kind: 'entry' },
      ]);
    }
  });

  test('malloc resolves in libc with or without @module, by basename, unversioned name, short name and path', () => {
    const oracle = readelfSymbols(LIBC, true).find((s) => s.name === 'malloc@@GLIBC_2.2.5')!;
    const want = { module: LIBC, symbol: 'malloc', address: oracle.value, isIfunc: false, kind: 'entry' };
    for (const spec of ['malloc', 'malloc@libc.so.6', 'malloc@libc.so', 'malloc@libc', `malloc@${LIBC}`, 'malloc@/usr/lib/x86_64-linux-gnu/libc.so.6']) {
      expect(resolveHook(parseHookSpec(spec), modules)).toEqual([{ spec, ...want }]);
    }
  });

  test('an exact name without @module is hooked in every module that defines it, as gdb does', () => {
    // The program is linked with its own `main`; libc has none, ld.so neither: one target.
    expect(resolveHook(parseHookSpec('main'), modules).map((t) => t.module)).toEqual([exe]);
    // A libc-only name in a module list where the executable comes first still finds libc.
    expect(resolveHook(parseHookSpec('qsort'), modules).map((t) => t.module)).toEqual([LIBC]);
    // memcpy: libc's, and ld.so's private copy (a local symbol of its debug file, libc6-dbg), as
    // gdb's `break memcpy` lists; modules as record searches them (hookModule: the debug file's symbols)
    const asRecord = [exe, LIBC, LD].map((p) => hookModule(p, ElfFile.open(p), p === exe));
    const where = new Set(resolveHook(parseHookSpec('memcpy'), asRecord).map((t) => t.module));
    expect(where).toEqual(new Set([LIBC, LD]));
  });

  test('versioned libc names: both memcpy versions, the IFUNC one flagged', () => {
    const targets = resolveHook(parseHookSpec('memcpy@libc.so.6'), modules);
    const oracle = readelfSymbols(LIBC, true).filter((s) => bare(s.name) === 'memcpy' && s.ndx !== 'UND');
    expect(targets.map((t) => [t.address, t.isIfunc]).sort()).toEqual(oracle.map((s) => [s.value, s.type === 'IFUNC']).sort());
  });

  test('a glob with @module returns every matching function of that module (as nm -D lists them)', () => {
    const targets = resolveHook(parseHookSpec('str*cmp@libc.so.6'), modules);
    const re = /^str.*cmp$/;
    const want = new Set(nmDefined(LIBC, true).filter((s) => /[TtWi]/.test(s.letter) && re.test(bare(s.name))).map((s) => s.address));
    expect(want.size).toBeGreaterThan(3);
    expect(new Set(targets.map((t) => t.address))).toEqual(want);
    expect(targets.every((t) => t.module === LIBC && re.test(t.symbol))).toBe(true);
  });

  test('a glob without @module matches across all modules, one target per address', () => {
    const targets = resolveHook(parseHookSpec('ma*'), modules);
    const inExe = targets.filter((t) => t.module === exe).map((t) => t.symbol);
    expect(inExe).toEqual(['make_items', 'main'].sort((a, b) => nmDefined(exe).find((s) => s.name === a)!.address - nmDefined(exe).find((s) => s.name === b)!.address));
    const inLibc = targets.filter((t) => t.module === LIBC);
    expect(inLibc.map((t) => t.symbol)).toContain('malloc');
    const keys = targets.map((t) => `${t.module}:${t.address}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('a typo is an UnknownHookError naming the close match', () => {
    const chain = buildFixture('chain.c');
    const err = thrown(() => resolveHook(parseHookSpec('lef'), modulesFor(chain))) as UnknownHookError;
    expect(err).toBeInstanceOf(UnknownHookError);
    expect(err.code).toBe('USTACK_UNKNOWN_HOOK');
    expect(err.suggestions[0]).toBe('leaf');
    expect(err.suggestions.length).toBeLessThanOrEqual(5);
    expect(err.message).toContain('"lef"');
    expect(err.message).toContain(chain);
    expect(err.message).toContain('Did you mean: "leaf"');

    const inLibc = thrown(() => resolveHook(parseHookSpec('mallco@libc.so.6'), modules)) as UnknownHookError;
    expect(inLibc.suggestions[0]).toBe('malloc@libc.so.6');
    const glob = thrown(() => resolveHook(parseHookSpec('make_itemz*'), modules)) as UnknownHookError;
    expect(glob.suggestions[0]).toBe('make_items');
  });

  test('an unknown module is an UnknownHookError suggesting the loaded one', () => {
    const err = thrown(() => resolveHook(parseHookSpec('malloc@libcc.so.6'), modules)) as UnknownHookError;
    expect(err).toBeInstanceOf(UnknownHookError);
    expect(err.message).toContain('not loaded');
    expect(err.message).toContain('libc.so.6');
    expect(err.suggestions[0]).toBe('malloc@libc.so.6');
  });

  test('-O2 .constprop/.isra clones answer to their base name; .cold fragments only to their own name', () => {
    const o2 = buildFixture('elf_clones.c', { flags: ['-O2', '-g'], variant: 'O2' });
    const mods = modulesFor(o2);
    const nm = nmDefined(o2).filter((s) => /[Tt]/.test(s.letter));
    const clone = (re: RegExp) => nm.find((s) => re.test(s.name))!;
    const apply = clone(/^apply\.constprop\.\d+$/);
    const sumPair = clone(/^sum_pair\.isra\.\d+$/);
    const cold = clone(/^validate\.cold$/);
    expect([apply, sumPair, cold].every(Boolean)).toBe(true);
    expect(resolveHook(parseHookSpec('apply'), mods)).toEqual([{ spec: 'apply', module: o2, symbol: apply.name, address: apply.address, isIfunc: false, kind: 'entry' }]);
    expect(resolveHook(parseHookSpec('sum_pair'), mods).map((t) => t.address)).toEqual([sumPair.address]);
    const validate = nm.find((s) => s.name === 'validate')!;
    expect(resolveHook(parseHookSpec('validate'), mods).map((t) => t.address)).toEqual([validate.address]);
    expect(resolveHook(parseHookSpec('valid*'), mods).map((t) => t.address)).toEqual([validate.address]);
    expect(resolveHook(parseHookSpec('validate.cold'), mods).map((t) => t.address)).toEqual([cold.address]);
  });

  test('moduleMatches', () => {
    expect(moduleMatches('libc.so.6', LIBC)).toBe(true);
    expect(moduleMatches('libc.so', LIBC)).toBe(true);
    expect(moduleMatches('libc', LIBC)).toBe(true);
    expect(moduleMatches('libc.so.7', LIBC)).toBe(false);
    // the soname users write, the real file the process maps
    expect(moduleMatches('libstdc++.so.6', '/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30')).toBe(true);
    expect(moduleMatches('libstdc++.so.7', '/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30')).toBe(false);
    expect(moduleMatches('libm', LIBC)).toBe(false);
    expect(moduleMatches(LIBC, LIBC)).toBe(true);
    expect(moduleMatches('/lib/x86_64-linux-gnu/../x86_64-linux-gnu/libc.so.6', LIBC)).toBe(true);
    expect(moduleMatches('/lib/x86_64-linux-gnu/libm.so.6', LIBC)).toBe(false);
  });
});

describe('resolveHook on C++ and Rust names (demangled with c++filt)', () => {
  let exe: string;
  let modules: HookModule[];
  let demangle: (s: string) => string;
  let nmC: { name: string; address: number }[];
  beforeAll(() => {
    exe = buildFixture('elf_hooks.cc');
    modules = modulesFor(exe);
    demangle = cxxfiltFor([exe]);
    nmC = execFileSync('nm', ['-C', '--defined-only', exe], { encoding: 'utf8' })
      .split('\n')
      .map((l) => /^([0-9a-f]+) [TtWw] (.+)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: m[2], address: parseInt(m[1], 16) }));
  });

  function addressesOf(pred: (demangled: string) => boolean): number[] {
    return nmC.filter((s) => pred(s.name)).map((s) => s.address).sort((a, b) => a - b);
  }

  test('a method name returns every overload; a full signature returns one', () => {
    const all = resolveHook(parseHookSpec('ns::Klass::method'), modules, demangle);
    expect(all.map((t) => t.address)).toEqual(addressesOf((n) => n.startsWith('ns::Klass::method(')));
    expect(all).toHaveLength(2);
    expect(all.every((t) => t.symbol.startsWith('_ZNK2ns5Klass6method'))).toBe(true);
    const one = resolveHook(parseHookSpec('ns::Klass::method(double) const'), modules, demangle);
    expect(one.map((t) => t.address)).toEqual(addressesOf((n) => n === 'ns::Klass::method(double) const'));
  });

  test('operator(), template function instances, class template methods, globs over demangled names', () => {
    expect(resolveHook(parseHookSpec('ns::Klass::operator()'), modules, demangle).map((t) => t.address)).toEqual(
      addressesOf((n) => n.startsWith('ns::Klass::operator()(')),
    );
    const twice = resolveHook(parseHookSpec('ns::twice'), modules, demangle);
    expect(twice.map((t) => t.address)).toEqual(addressesOf((n) => /^\w+ ns::twice<\w+>\(/.test(n)));
    expect(twice).toHaveLength(2);
    expect(resolveHook(parseHookSpec('ns::twice<int>'), modules, demangle)).toHaveLength(1);
    expect(resolveHook(parseHookSpec('ns::Box<long>::get'), modules, demangle).map((t) => t.address)).toEqual(addressesOf((n) => n.startsWith('ns::Box<long>::get(')));
    expect(resolveHook(parseHookSpec('ns::Box::get'), modules, demangle)).toHaveLength(1);
    const glob = resolveHook(parseHookSpec('ns::*'), modules, demangle);
    expect(glob.map((t) => t.address).sort((a, b) => a - b)).toEqual([...new Set(addressesOf((n) => /^(\w+ )?ns::/.test(n)))]);
    // Without @module a glob spans every module: libc's parse_printf_format matches too.
    const parse = resolveHook(parseHookSpec('parse_*'), modules, demangle);
    expect(parse.filter((t) => t.module === exe).map((t) => t.symbol).sort()).toEqual(['parse_body', 'parse_header']);
    expect(parse.filter((t) => t.module === LIBC).map((t) => t.symbol)).toContain('parse_printf_format');
    expect(resolveHook(parseHookSpec(`parse_*@${exe}`), modules, demangle).map((t) => t.symbol).sort()).toEqual(['parse_body', 'parse_header']);
  });

  test('without a demangler only linkage names match; a C++ typo suggests the demangled name', () => {
    expect(() => resolveHook(parseHookSpec('ns::free_func'), modules)).toThrow(UnknownHookError);
    expect(resolveHook(parseHookSpec('_ZN2ns9free_funcEi'), modules)).toHaveLength(1);
    const err = thrown(() => resolveHook(parseHookSpec('ns::Klass::methd'), modules, demangle)) as UnknownHookError;
    expect(err.suggestions[0]).toBe('ns::Klass::method');
  });

  test('a Rust path without its hash resolves (legacy mangling)', () => {
    const rs = buildFixture('elf_hooks.rs');
    const mods = modulesFor(rs);
    const targets = resolveHook(parseHookSpec('elf_hooks::module::func'), mods, cxxfiltFor([rs]));
    expect(targets).toHaveLength(1);
    const nm = nmDefined(rs).find((s) => s.name === targets[0].symbol)!;
    expect(nm.address).toBe(targets[0].address);
    expect(targets[0].symbol).toMatch(/elf_hooks.*module.*func/);
  });

  test('demangledBaseName and withoutTemplateArgs', () => {
    expect(demangledBaseName('ns::Klass::method(int) const')).toBe('ns::Klass::method');
    expect(demangledBaseName('int ns::twice<int>(int)')).toBe('ns::twice<int>');
    expect(demangledBaseName('ns::Klass::operator()(int) const')).toBe('ns::Klass::operator()');
    expect(demangledBaseName('ns::Klass::operator new(unsigned long)')).toBe('ns::Klass::operator new');
    expect(demangledBaseName('bool operator< <int>(A<int> const&, A<int> const&)')).toBe('operator< <int>');
    expect(demangledBaseName('(anonymous namespace)::helper(int)')).toBe('(anonymous namespace)::helper');
    expect(demangledBaseName('foo(int) [clone .constprop.0]')).toBe('foo');
    expect(demangledBaseName('mycrate::module::func::h0123456789abcdef')).toBe('mycrate::module::func');
    expect(demangledBaseName('main::{lambda(int)#1}::operator()(int) const')).toBe('main::{lambda(int)#1}::operator()');
    expect(withoutTemplateArgs('ns::Box<std::pair<int, long> >::get')).toBe('ns::Box::get');
    expect(withoutTemplateArgs('ns::Klass::operator<')).toBe('ns::Klass::operator<');
  });
});
