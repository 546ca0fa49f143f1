import { openSeparateDebugFile } from '../../src/elf/debuginfo';
import { ElfFile } from '../../src/elf/elf-file';
import { buildFixture } from '../helpers/fixtures';
import { bare, nmDefined, readelfSymbols } from './oracles';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const FUNC_TYPES = new Set(['FUNC', 'IFUNC']);

function key(name: string, address: number, size: number): string {
  return `${name} ${address.toString(16)} ${size}`;
}

describe.each([
  ['chain PIE -O0', () => buildFixture('chain.c')],
  ['chain -no-pie', () => buildFixture('chain.c', { flags: ['-O0', '-g', '-no-pie'], variant: 'nopie' })],
  ['chain -O2', () => buildFixture('chain.c', { flags: ['-O2', '-g'], variant: 'O2' })],
  ['libc_calls', () => buildFixture('libc_calls.c')],
  ['libchain.so', () => buildFixture('chain.c', { shared: true })],
  ['libc.so.6 (dynsym only)', () => LIBC],
])('%s', (_label, build) => {
  let file: string;
  let elf: ElfFile;
  beforeAll(() => {
    file = build();
    elf = ElfFile.open(file);
  });

  test('functions() are the defined FUNC/IFUNC symbols of readelf -sW, deduplicated by name and address', () => {
    const want = new Set<string>();
    for (const s of readelfSymbols(file)) {
      if (FUNC_TYPES.has(s.type) && s.ndx !== 'UND') want.add(key(bare(s.name), s.value, s.size));
    }
    const got = new Set(elf.symbols().functions().map((s) => key(bare(s.name), s.address, s.size)));
    expect(want.size).toBeGreaterThan(3);
    expect([...got].sort()).toEqual([...want].sort());
    const addrs = elf.symbols().functions().map((s) => s.address);
    expect(addrs).toEqual([...addrs].sort((a, b) => a - b));
  });

  test('lookup() agrees with nm -S for the start, middle and last byte of every sized function', () => {
    const dynamic = file === LIBC;
    const nm = nmDefined(file, dynamic).filter((s) => /[TtWi]/.test(s.letter));
    const namesAt = new Map<number, Set<string>>();
    for (const s of nm) {
      if (!namesAt.has(s.address)) namesAt.set(s.address, new Set());
      namesAt.get(s.address)!.add(bare(s.name));
    }
    const table = elf.symbols();
    let checked = 0;
    const wrong: string[] = [];
    for (const s of nm) {
      if (!s.size) continue;
      for (const pc of [s.address, s.address + (s.size >> 1), s.address + s.size - 1]) {
        const hit = table.lookup(pc);
        // Nested symbols (an entry point inside a bigger function) win for addresses they cover.
        const ok =
          hit !== null &&
          hit.address >= s.address &&
          hit.address + hit.size > pc &&
          (hit.address !== s.address || namesAt.get(s.address)!.has(bare(hit.name)));
        if (!ok) wrong.push(`${s.name}@${pc.toString(16)} -> ${hit ? hit.name : 'null'}`);
      }
      checked++;
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(3);
  });

  test('lookup() outside every function returns null', () => {
    const table = elf.symbols();
    expect(table.lookup(0)).toBeNull();
    const last = table.functions()[table.functions().length - 1];
    expect(table.lookup(last.address + Math.max(last.size, 1) + 0x100000)).toBeNull();
  });
});

test('fixture functions resolve by name and by address (chain)', () => {
  const file = buildFixture('chain.c');
  const table = ElfFile.open(file).symbols();
  const nm = nmDefined(file);
  for (const name of ['main', 'top', 'mid', 'leaf']) {
    const [sym, ...rest] = table.byName(name);
    expect(rest).toEqual([]);
    const oracle = nm.find((s) => s.name === name)!;
    expect(sym).toMatchObject({ name, address: oracle.address, size: oracle.size, isFunction: true, source: 'symtab', binding: 'global' });
    expect(table.lookup(sym.address + 3)).toBe(sym);
  }
  const sink = table.byName('sink');
  expect(sink).toHaveLength(1);
  expect(sink[0].isFunction).toBe(false);
  expect(table.byName('no_such_function')).toEqual([]);
});

test('size-0 function symbols (crt code) answer for the bytes up to the next symbol in their section', () => {
  const file = buildFixture('chain.c');
  const table = ElfFile.open(file).symbols();
  const zero = readelfSymbols(file).filter((s) => s.table === '.symtab' && s.type === 'FUNC' && s.size === 0 && s.ndx !== 'UND');
  expect(zero.map((s) => s.name)).toEqual(expect.arrayContaining(['deregister_tm_clones', 'register_tm_clones']));
  for (const z of zero) {
    const hit = table.lookup(z.value + 1);
    expect(hit).not.toBeNull();
    // Either this symbol, or a sized function or alias starting at the same place.
    expect(hit!.address).toBe(z.value);
  }
});

test("untyped code labels (ld.so's _start, _dl_start_user: assembly without .type) are named by lookup, as gdb names them, but are no functions", () => {
  const debug = openSeparateDebugFile(ElfFile.open('/lib64/ld-linux-x86-64.so.2'))!;
  const table = debug.symbols();
  const labels = readelfSymbols(debug.path).filter((s) => s.table === '.symtab' && s.type === 'NOTYPE' && ['_start', '_dl_start_user'].includes(s.name));
  expect(labels.map((s) => s.name).sort()).toEqual(['_dl_start_user', '_start']);
  const start = labels.find((s) => s.name === '_start')!;
  const user = labels.find((s) => s.name === '_dl_start_user')!;
  // the return address of _start's `call _dl_start` is _dl_start_user; the caller's pc - 1 is in _start
  expect(table.lookup(user.value - 1)?.name).toBe('_start');
  expect(table.lookup(start.value)?.name).toBe('_start');
  expect(table.lookup(user.value)?.name).toBe('_dl_start_user');
  expect(table.functions().some((f) => f.name === '_start' || f.name === '_dl_start_user')).toBe(false);
});

test('libc dynsym: versioned names answer to the bare name; IFUNC is flagged', () => {
  const table = ElfFile.open(LIBC).symbols();
  const dyn = readelfSymbols(LIBC, true);
  const malloc = dyn.find((s) => s.name === 'malloc@@GLIBC_2.2.5')!;
  expect(malloc).toBeDefined();
  const byBare = table.byName('malloc');
  expect(byBare).toHaveLength(1);
  expect(byBare[0]).toMatchObject({ name: 'malloc', address: malloc.value, size: malloc.size, source: 'dynsym', version: '@@GLIBC_2.2.5', isIfunc: false });
  expect(table.byName('malloc@@GLIBC_2.2.5')).toEqual(byBare);
  // Both versions of memcpy answer to the bare name; the default one is an IFUNC.
  const memcpys = dyn.filter((s) => bare(s.name) === 'memcpy' && s.ndx !== 'UND');
  expect(memcpys.length).toBeGreaterThanOrEqual(2);
  const got = table.byName('memcpy');
  expect(got.map((s) => s.address).sort()).toEqual(memcpys.map((s) => s.value).sort());
  for (const s of got) {
    const oracle = memcpys.find((m) => m.value === s.address)!;
    expect(s.isIfunc).toBe(oracle.type === 'IFUNC');
    expect(bare(oracle.name) + s.version).toBe(oracle.name);
  }
  // A frame in malloc is named malloc, not one of its aliases.
  expect(table.lookup(malloc.value + 0x10)!.name).toBe('malloc');
});

test('lookup is fast enough for the per-frame path', () => {
  const table = ElfFile.open(LIBC).symbols();
  const funcs = table.functions();
  const pcs = new Float64Array(200000);
  for (let i = 0; i < pcs.length; i++) {
    const f = funcs[(i * 7919) % funcs.length];
    pcs[i] = f.address + (f.size ? i % f.size : 0);
  }
  const t0 = process.hrtime.bigint();
  let found = 0;
  for (let i = 0; i < pcs.length; i++) if (table.lookup(pcs[i])) found++;
  const nsPerLookup = Number(process.hrtime.bigint() - t0) / pcs.length;
  expect(found).toBe(pcs.length);
  expect(nsPerLookup).toBeLessThan(2000);
});
