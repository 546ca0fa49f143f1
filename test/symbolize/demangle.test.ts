/** demangle/stripParameters against binutils' c++filt on every mangled symbol of real C++ and Rust binaries. */
import { execFileSync } from 'node:child_process';
import { demangle, stripParameters } from '../../src/symbolize/demangle';
import { buildFixture } from '../helpers/fixtures';

function mangledSymbols(binary: string, prefix: RegExp): string[] {
  const out = execFileSync('nm', ['--defined-only', binary], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const names = new Set<string>();
  for (const line of out.split('\n')) {
    const name = line.split(' ').pop() ?? '';
    if (prefix.test(name)) names.add(name);
  }
  return [...names];
}

function cxxfilt(names: string[], args: string[] = []): string[] {
  return execFileSync('c++filt', args, { input: names.join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).split('\n').slice(0, names.length);
}

test('C++ function names (no parameters, no return type) are those c++filt --no-params prints', () => {
  const bin = buildFixture('src_cpp.cc', { flags: ['-O0', '-g'] });
  const names = mangledSymbols(bin, /^_Z/);
  expect(names.length).toBeGreaterThan(100);
  const oracle = cxxfilt(names, ['--no-params']);
  const bad = names.filter((n, i) => stripParameters(demangle(n)) !== oracle[i]).map((n) => `${n}: ${stripParameters(demangle(n))}`);
  expect(bad).toEqual([]);
});

test("C++ symbols of the fixture's own code demangle exactly as c++filt prints them", () => {
  const bin = buildFixture('src_cpp.cc', { flags: ['-O0', '-g'] });
  const names = mangledSymbols(bin, /^_Z/).filter((n) => /^_ZN?K?3geo|by_descending|^_ZZ4main/.test(n));
  expect(names.length).toBeGreaterThan(10);
  const oracle = cxxfilt(names);
  expect(names.map((n) => `${n}: ${demangle(n)}`)).toEqual(names.map((n, i) => `${n}: ${oracle[i]}`));
  const shown = names.map(demangle);
  expect(shown).toContain('geo::Stack<int>::push(int)');
  expect(shown).toContain('geo::Shape::area(double) const');
  expect(shown.some((s) => s.includes('main::{lambda(int, int)#1}'))).toBe(true);
});

test('a template with an empty parameter pack prints no empty parameter (make_node<>(char)), as c++filt', () => {
  const bin = buildFixture('resolver_calc.cc', { flags: ['-O2', '-g'], variant: 'O2' });
  const names = mangledSymbols(bin, /^_ZN4calc/);
  expect(names.some((n) => n.startsWith('_ZN4calc9make_nodeIJEE'))).toBe(true);
  // c++filt prints template functions with their return type; gdb and demangle() do not
  const oracle = cxxfilt(names).map((d) => d.replace(/^calc::Node\* /, ''));
  expect(names.map(demangle)).toEqual(oracle);
});

test('Rust legacy symbols demangle as c++filt prints them, without the hash', () => {
  const bin = buildFixture('src_rust.rs', { flags: ['-g', '-C', 'opt-level=0'] });
  const names = mangledSymbols(bin, /^_ZN/);
  expect(names.length).toBeGreaterThan(20);
  const oracle = cxxfilt(names);
  const bad = names.filter((n, i) => demangle(n) !== oracle[i].replace(/::h[0-9a-f]{16}$/, ''));
  expect(bad).toEqual([]);
  expect(names.map(demangle)).toContain('src_rust::parser::parse_value');
});

test('Rust v0 symbols demangle as c++filt prints them, without crate disambiguators', () => {
  const bin = buildFixture('src_rust.rs', { flags: ['-g', '-C', 'opt-level=2', '-C', 'symbol-mangling-version=v0'], variant: 'v0' });
  const names = mangledSymbols(bin, /^_R/);
  expect(names.length).toBeGreaterThan(100);
  const oracle = cxxfilt(names);
  // c++filt also drops LLVM's ".0" name suffixes and annotates const generics (`<10: usize>`)
  const normalize = (s: string): string => s.replace(/\[[0-9a-f]+\]/g, '').replace(/(\d+): [a-z0-9]+>/g, '$1>').replace(/\.\d+$/, '');
  const bad = names.filter((n, i) => normalize(demangle(n)) !== normalize(oracle[i])).map((n) => `${n}: ${demangle(n)}`);
  expect(bad).toEqual([]);
  expect(names.map(demangle)).toContain('src_rust::parser::parse_value');
});

test('names that are not mangled come back unchanged', () => {
  for (const n of ['main', '__cxa_throw', '_start', '_Zfoo', '_R', '_ZN', '__libc_start_main', 'leaf.constprop.0', '']) {
    expect(demangle(n)).toBe(n);
  }
});

test('stripParameters drops parameter lists, qualifiers and Rust hashes and keeps template arguments', () => {
  const cases: [string, string][] = [
    [demangle('_ZNK3geo5Shape4areaEd'), 'geo::Shape::area'],
    [demangle('_ZN3geo5StackIiE4pushEi'), 'geo::Stack<int>::push'],
    [demangle('_ZZ4mainENKUliiE_clEii'), 'main::{lambda(int, int)#1}::operator()'],
    ['ns::K::m(int) const', 'ns::K::m'],
    ['ns::K::m(int) const &&', 'ns::K::m'],
    ['f(void (*)(int), char)', 'f'],
    ['K::operator()', 'K::operator()'],
    ['K::operator()() const', 'K::operator()'],
    ['std::vector<int, std::allocator<int> >::push_back(int const&)', 'std::vector<int, std::allocator<int> >::push_back'],
    ['src_rust::parser::parse_value::h0cd15376034fd454', 'src_rust::parser::parse_value'],
    ['foo(int) [clone .constprop.0]', 'foo [clone .constprop.0]'],
    ['main', 'main'],
  ];
  for (const [input, want] of cases) expect([input, stripParameters(input)]).toEqual([input, want]);
});

test("template value arguments are spelled as gdb and c++filt spell them (libiberty's literal suffixes)", () => {
  const cases: [string, string][] = [
    ['_ZN4PoolILm104EE5AllocEv', 'Pool<104ul>::Alloc()'],
    ['_ZN4PoolILi104EE5AllocEv', 'Pool<104>::Alloc()'],
    ['_ZN4PoolILj7EE5AllocEv', 'Pool<7u>::Alloc()'],
    ['_ZN4PoolILl7EE5AllocEv', 'Pool<7l>::Alloc()'],
    ['_ZN4PoolILx7EE5AllocEv', 'Pool<7ll>::Alloc()'],
    ['_ZN4PoolILy7EE5AllocEv', 'Pool<7ull>::Alloc()'],
    ['_ZN4PoolILb1EE5AllocEv', 'Pool<true>::Alloc()'],
    ['_ZN4PoolILc65EE5AllocEv', 'Pool<(char)65>::Alloc()'],
    ['_ZN4PoolILs3EE5AllocEv', 'Pool<(short)3>::Alloc()'],
  ];
  for (const [mangled, shown] of cases) {
    expect(demangle(mangled)).toBe(shown);
    expect(execFileSync('c++filt', [mangled], { encoding: 'utf8' }).trim()).toBe(shown);
  }
});
