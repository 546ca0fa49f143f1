import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ElfFile, openElfCached } from '../../src/elf/elf-file';
import { BinaryNotFoundError, NotElfError } from '../../src/errors';
import { buildFixture } from '../helpers/fixtures';
import { readelfSections, run } from './oracles';

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

const TYPE_NUMBERS: Record<string, number> = {
  NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, HASH: 5, DYNAMIC: 6, NOTE: 7, NOBITS: 8, REL: 9, DYNSYM: 11,
  INIT_ARRAY: 14, FINI_ARRAY: 15, GNU_HASH: 0x6ffffff6, VERDEF: 0x6ffffffd, VERNEED: 0x6ffffffe, VERSYM: 0x6fffffff,
};
const FLAG_BITS: Record<string, number> = { W: 0x1, A: 0x2, X: 0x4, M: 0x10, S: 0x20, I: 0x40, T: 0x400, C: 0x800 };

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-elf-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.each([
  ['chain PIE', () => buildFixture('chain.c')],
  ['chain -no-pie', () => buildFixture('chain.c', { flags: ['-O0', '-g', '-no-pie'], variant: 'nopie' })],
  ['libc_calls -O2', () => buildFixture('libc_calls.c', { flags: ['-O2', '-g'], variant: 'O2' })],
  ['libc.so.6', () => LIBC],
])('%s against readelf', (_label, build) => {
  let file: string;
  let elf: ElfFile;
  beforeAll(() => {
    file = build();
    elf = ElfFile.open(file);
  });

  test('section headers match readelf -SW', () => {
    const expected = readelfSections(file);
    expect(expected.length).toBeGreaterThan(10);
    expect(elf.rawSections.length).toBe(expected.length);
    for (const want of expected) {
      const got = elf.rawSections[want.index];
      expect({ name: got.name, address: got.address, offset: got.offset, size: got.size }).toEqual({
        name: want.name, address: want.address, offset: want.offset, size: want.size,
      });
      if (want.type in TYPE_NUMBERS) expect(got.type).toBe(TYPE_NUMBERS[want.type]);
      for (const [letter, bit] of Object.entries(FLAG_BITS)) expect([letter, (got.flags & bit) !== 0]).toEqual([letter, want.flags.includes(letter)]);
      if (want.index === 0) continue;
      const sec = elf.section(want.name)!;
      expect(sec).not.toBeNull();
      expect(elf.hasSection(want.name)).toBe(true);
      if (want.type === 'NOBITS') expect(sec.data.length).toBe(0);
      else if (!want.flags.includes('C')) {
        expect(sec.data.length).toBe(want.size);
        expect(sec.data.equals(fs.readFileSync(file).subarray(want.offset, want.offset + want.size))).toBe(true);
      }
    }
    expect(elf.section('.no-such-section')).toBeNull();
    expect(elf.hasSection('.no-such-section')).toBe(false);
  });

  test('kind, entry, PT_LOAD segments and interpreter match readelf -hlW', () => {
    const header = run('readelf', ['-hW', file]);
    expect(elf.kind).toBe(/Type:\s+(\w+)/.exec(header)![1]);
    expect(elf.entry).toBe(parseInt(/Entry point address:\s+0x([0-9a-f]+)/.exec(header)![1], 16));
    const ph = run('readelf', ['-lW', file]);
    const loads = [...ph.matchAll(/^\s*LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+([RWE ]+?)\s+0x/gm)].map((m) => ({
      offset: parseInt(m[1], 16), vaddr: parseInt(m[2], 16), filesz: parseInt(m[3], 16), memsz: parseInt(m[4], 16),
      flags: (m[5].includes('R') ? 4 : 0) | (m[5].includes('W') ? 2 : 0) | (m[5].includes('E') ? 1 : 0),
    }));
    expect(loads.length).toBeGreaterThanOrEqual(2);
    expect(elf.loadSegments).toEqual(loads);
    const interp = /Requesting program interpreter: ([^\]]+)\]/.exec(ph);
    expect(elf.interpreter).toBe(interp ? interp[1] : null);
  });

  test('build-id matches readelf -n', () => {
    const m = /Build ID: ([0-9a-f]+)/.exec(run('readelf', ['-n', file]));
    expect(m).not.toBeNull();
    expect(elf.buildId).toBe(m![1]);
  });
});

test('kinds of a -no-pie executable and a shared library; debug info presence', () => {
  const exe = ElfFile.open(buildFixture('chain.c', { flags: ['-O0', '-g', '-no-pie'], variant: 'nopie' }));
  expect(exe.kind).toBe('EXEC');
  expect(exe.hasDebugInfo).toBe(true);
  expect(exe.interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
  const lib = ElfFile.open(buildFixture('chain.c', { shared: true }));
  expect(lib.kind).toBe('DYN');
  expect(lib.interpreter).toBeNull();
  const noDebug = ElfFile.open(buildFixture('chain.c', { flags: ['-O0'], variant: 'nodebug' }));
  expect(noDebug.hasDebugInfo).toBe(false);
  expect(noDebug.hasSection('.debug_info')).toBe(false);
  const obj = path.join(tmp, 'chain.o');
  execFileSync('gcc', ['-c', '-g', '-o', obj, path.resolve(__dirname, '../fixtures/chain.c')]);
  expect(ElfFile.open(obj).kind).toBe('REL');
});

test('SHF_COMPRESSED debug sections decompress to the bytes objcopy --decompress-debug-sections writes', () => {
  const compressed = buildFixture('chain.c', { flags: ['-O0', '-g', '-gz=zlib'], variant: 'gz' });
  const plain = path.join(tmp, 'chain-decompressed');
  execFileSync('objcopy', ['--decompress-debug-sections', compressed, plain]);
  const sections = readelfSections(compressed);
  const compressedNames = sections.filter((s) => s.flags.includes('C')).map((s) => s.name);
  expect(compressedNames).toEqual(expect.arrayContaining(['.debug_info', '.debug_line', '.debug_abbrev']));
  const a = ElfFile.open(compressed);
  const b = ElfFile.open(plain);
  for (const name of compressedNames) {
    const got = a.section(name)!;
    const want = b.section(name)!;
    expect(got.flags & 0x800).toBe(0x800);
    expect(want.flags & 0x800).toBe(0);
    expect(got.data.length).toBe(want.data.length);
    expect(got.data.equals(want.data)).toBe(true);
    expect(got.size).toBe(want.size);
  }
  expect(a.hasDebugInfo).toBe(true);
});

test('legacy .zdebug_* sections are found under their .debug_* names', () => {
  const src = buildFixture('chain.c');
  const z = path.join(tmp, 'chain-zdebug');
  try {
    execFileSync('objcopy', ['--compress-debug-sections=zlib-gnu', src, z], { stdio: 'pipe' });
  } catch {
    return; // this binutils cannot write zlib-gnu any more; nothing to compare
  }
  const want = ElfFile.open(src).section('.debug_info')!;
  const elf = ElfFile.open(z);
  expect(elf.hasSection('.zdebug_info')).toBe(true);
  expect(elf.section('.debug_info')!.data.equals(want.data)).toBe(true);
});

describe('errors', () => {
  test('missing file -> BinaryNotFoundError', () => {
    const missing = path.join(tmp, 'does-not-exist');
    expect(() => ElfFile.open(missing)).toThrow(BinaryNotFoundError);
    expect(() => ElfFile.open(missing)).toThrow(/no such file/);
    expect(() => openElfCached(missing)).toThrow(BinaryNotFoundError);
  });

  test('a directory -> BinaryNotFoundError', () => {
    expect(() => ElfFile.open(tmp)).toThrow(BinaryNotFoundError);
  });

  test('a script or a text file -> NotElfError "is a script" / "is not an ELF file"', () => {
    const script = path.join(tmp, 'script.sh');
    fs.writeFileSync(script, '#!/bin/sh\necho hello, this file is long enough to hold an ELF header if it were one\n');
    let err: unknown;
    try {
      ElfFile.open(script);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotElfError);
    expect((err as NotElfError).code).toBe('USTACK_NOT_ELF');
    expect((err as Error).message).toContain('is a script (#!/bin/sh), not an ELF file');
    fs.writeFileSync(path.join(tmp, 'empty'), '');
    expect(() => ElfFile.open(path.join(tmp, 'empty'))).toThrow(/is not an ELF file/);
  });

  function craftedHeader(elfClass: number, machine: number): Buffer {
    const b = Buffer.alloc(64);
    b.write('\x7fELF', 0, 'latin1');
    b[4] = elfClass;
    b[5] = 1; // little-endian
    b[6] = 1; // EV_CURRENT
    b.writeUInt16LE(2, 16); // ET_EXEC
    b.writeUInt16LE(machine, 18);
    b.writeUInt32LE(1, 20);
    return b;
  }

  test('a 32-bit ELF header -> NotElfError "is a 32-bit ELF"', () => {
    const f = path.join(tmp, 'i386');
    fs.writeFileSync(f, craftedHeader(1, 3));
    expect(() => ElfFile.open(f)).toThrow(NotElfError);
    expect(() => ElfFile.open(f)).toThrow(/is a 32-bit ELF/);
  });

  test('an aarch64 ELF header -> NotElfError "is built for aarch64 (not x86-64)"', () => {
    const f = path.join(tmp, 'arm64');
    fs.writeFileSync(f, craftedHeader(2, 183));
    expect(() => ElfFile.open(f)).toThrow(NotElfError);
    expect(() => ElfFile.open(f)).toThrow('is built for aarch64 (not x86-64)');
  });

  test('a truncated x86-64 ELF -> NotElfError saying it is damaged', () => {
    const f = path.join(tmp, 'truncated');
    fs.writeFileSync(f, fs.readFileSync(buildFixture('chain.c')).subarray(0, 2000));
    expect(() => ElfFile.open(f)).toThrow(/damaged ELF/);
  });
});

test('openElfCached reuses a parsed file until its mtime or size changes', () => {
  const f = path.join(tmp, 'cached');
  fs.copyFileSync(buildFixture('chain.c'), f);
  const a = openElfCached(f);
  expect(openElfCached(f)).toBe(a);
  fs.copyFileSync(buildFixture('libc_calls.c'), f);
  const b = openElfCached(f);
  expect(b).not.toBe(a);
  expect(b.symbols().byName('make_items').length).toBe(1);
});

test('a section-less image (program headers only) still gives segments and the build-id note', () => {
  const src = fs.readFileSync(buildFixture('chain.c'));
  const copy = Buffer.from(src);
  copy.writeBigUInt64LE(0n, 40); // e_shoff
  copy.writeUInt16LE(0, 60); // e_shnum
  copy.writeUInt16LE(0, 62); // e_shstrndx
  const elf = ElfFile.fromBuffer('[memory]', copy);
  const full = ElfFile.open(buildFixture('chain.c'));
  expect(elf.rawSections).toEqual([]);
  expect(elf.loadSegments).toEqual(full.loadSegments);
  expect(elf.buildId).toBe(full.buildId);
  expect(elf.symbols().functions()).toEqual([]);
});
