/**
 * The on-disk index of a library's inlined copies (one file per build-id): the first resolution
 * walks the DWARF and writes it, later ones read it and get the very same copies; a file that does
 * not belong to the build (other build-id, other version, torn or corrupt) is ignored and
 * replaced; the folder keeps a bounded number of files. Real libraries: a -O2 fixture library and
 * glibc with libc6-dbg's separate debug file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DebugInfo, type InlinedInstance } from '../../src/dwarf/debug-info';
import { ElfFile } from '../../src/elf/elf-file';
import { moduleDwarf } from '../../src/symbolize/module-debug';
import { inlinedCopies } from '../../src/symbolize/inlined-copy-index';
import { buildFixture } from '../helpers/fixtures';

jest.setTimeout(120000);

const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const lib = buildFixture('src_inline.c', { flags: ['-O2', '-g'], shared: true, variant: 'o2' });

function freshDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-inlined-'));
}

/** What a walk of the module's whole DWARF finds, as sorted comparable rows. */
function walked(file: string): string[] {
  const d = moduleDwarf(ElfFile.open(file));
  return rows(DebugInfo.fromSections(d.sections!, d.lines)!.inlinedInstances());
}

function rows(list: readonly InlinedInstance[]): string[] {
  return list.map((i) => `${i.qualifiedName}|${i.name}|${i.linkageName}|${i.entry}|${i.entryPc}`).sort();
}

describe.each([
  ['a -O2 fixture library with its own DWARF', lib],
  ["glibc, whose DWARF is libc6-dbg's separate debug file", LIBC],
])('%s', (_what, file) => {
  test('the first resolution writes <build-id>.json; a later one reads it and has the same copies as a walk', () => {
    const dir = freshDir();
    const elf = ElfFile.open(file);
    const first = inlinedCopies(elf, dir)!;
    const indexFile = path.join(dir, `${elf.buildId}.json`);
    expect(fs.existsSync(indexFile)).toBe(true);
    const expected = walked(file);
    expect(expected.length).toBeGreaterThan(0);
    expect(rows(first.inlinedInstances())).toEqual(expected);
    // another ElfFile of the same library: nothing kept in memory, the copies come from the file
    const again = inlinedCopies(ElfFile.open(file), dir)!;
    expect(rows(again.inlinedInstances())).toEqual(expected);
  });
});

describe('what is read back', () => {
  test('an index file of this build-id is what is read (no walk)', () => {
    const dir = freshDir();
    const elf = ElfFile.open(lib);
    const file = path.join(dir, `${elf.buildId}.json`);
    const planted = { format: 'jest-ustack inlined copies', version: 1, buildId: elf.buildId, functions: [['only_in_index', 'only_in_index', null, [0x1234, -1]]] };
    fs.writeFileSync(file, JSON.stringify(planted));
    expect(inlinedCopies(elf, dir)!.inlinedInstances()).toEqual([{ name: 'only_in_index', qualifiedName: 'only_in_index', linkageName: null, entry: 0x1234, entryPc: null }]);
  });

  test.each([
    ['of another build-id', (b: string) => JSON.stringify({ format: 'jest-ustack inlined copies', version: 1, buildId: 'ff' + b.slice(2), functions: [] })],
    ['of another format version', (b: string) => JSON.stringify({ format: 'jest-ustack inlined copies', version: 999, buildId: b, functions: [] })],
    ['cut short by a crash', (b: string) => JSON.stringify({ format: 'jest-ustack inlined copies', version: 1, buildId: b, functions: [] }).slice(0, 30)],
    ['that is not JSON', () => '\0\0garbage'],
  ])('a file %s is ignored and replaced by a walk', (_what, content) => {
    const dir = freshDir();
    const elf = ElfFile.open(lib);
    const file = path.join(dir, `${elf.buildId}.json`);
    fs.writeFileSync(file, content(elf.buildId!));
    expect(rows(inlinedCopies(elf, dir)!.inlinedInstances())).toEqual(walked(lib));
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ version: 1, buildId: elf.buildId });
  });

  test('no cache folder (null): the copies come from a walk and nothing is written', () => {
    expect(rows(inlinedCopies(ElfFile.open(lib), null)!.inlinedInstances())).toEqual(walked(lib));
  });

  test('a module without DWARF has no copies and leaves no file', () => {
    const dir = freshDir();
    const bare = buildFixture('elf_lib.c', { flags: ['-O2'], shared: true, variant: 'nodebug' });
    expect(inlinedCopies(ElfFile.open(bare), dir)).toBeNull();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('the folder keeps the 200 most recently written indexes', () => {
    const dir = freshDir();
    for (let i = 0; i < 210; i++) {
      const f = path.join(dir, `${i.toString(16).padStart(40, '0')}.json`);
      fs.writeFileSync(f, '{}');
      fs.utimesSync(f, 1000 + i, 1000 + i);
    }
    const elf = ElfFile.open(lib);
    inlinedCopies(elf, dir);
    const left = fs.readdirSync(dir);
    expect(left).toHaveLength(200);
    expect(left).toContain(`${elf.buildId}.json`);
    expect(left).not.toContain(`${'0'.repeat(40)}.json`); // the oldest went first
  });
});
