/**
 * Test-only ELF64 reader: section headers, program headers and build-id, enough to hand CFI
 * sections to CfiTable and to compute load biases from a core's file mappings. (The product's
 * ELF reader lives in src/elf; the tests here do not depend on it.)
 */
import * as fs from 'node:fs';

export interface ElfSection {
  name: string;
  type: number;
  address: number;
  offset: number;
  size: number;
}

export interface ElfSegment {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export interface ElfImage {
  path: string;
  data: Buffer;
  type: number;
  sections: ElfSection[];
  segments: ElfSegment[];
}

const SHT_NOBITS = 8;

function u64(b: Buffer, at: number): number {
  return b.readUInt32LE(at + 4) * 0x100000000 + b.readUInt32LE(at);
}

export function readElf(path: string, data: Buffer = fs.readFileSync(path)): ElfImage {
  if (data.readUInt32BE(0) !== 0x7f454c46 || data[4] !== 2) throw new Error(`${path}: not an ELF64 file`);
  const type = data.readUInt16LE(16);
  const phoff = u64(data, 32);
  const shoff = u64(data, 40);
  const phentsize = data.readUInt16LE(54);
  const phnum = data.readUInt16LE(56);
  const shentsize = data.readUInt16LE(58);
  const shnum = data.readUInt16LE(60);
  const shstrndx = data.readUInt16LE(62);
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    segments.push({ type: data.readUInt32LE(at), offset: u64(data, at + 8), vaddr: u64(data, at + 16), filesz: u64(data, at + 32), memsz: u64(data, at + 40) });
  }
  const raw: Array<Omit<ElfSection, 'name'> & { nameOff: number }> = [];
  for (let i = 0; i < shnum && shoff; i++) {
    const at = shoff + i * shentsize;
    raw.push({ nameOff: data.readUInt32LE(at), type: data.readUInt32LE(at + 4), address: u64(data, at + 16), offset: u64(data, at + 24), size: u64(data, at + 32) });
  }
  const strtab = raw[shstrndx];
  const sections = raw.map((s) => {
    const start = strtab.offset + s.nameOff;
    const end = data.indexOf(0, start);
    return { name: data.toString('latin1', start, end), type: s.type, address: s.address, offset: s.offset, size: s.size };
  });
  return { path, data, type, sections, segments };
}

/** The bytes and link-time address of a section, or null when absent or NOBITS. */
export function sectionBytes(elf: ElfImage, name: string): { data: Buffer; address: number } | null {
  const s = elf.sections.find((x) => x.name === name);
  if (!s || s.type === SHT_NOBITS) return null;
  return { data: elf.data.subarray(s.offset, s.offset + s.size), address: s.address };
}

/** The GNU build-id as hex, or null. */
export function buildId(elf: ElfImage): string | null {
  const s = elf.sections.find((x) => x.name === '.note.gnu.build-id');
  if (!s) return null;
  const b = elf.data.subarray(s.offset, s.offset + s.size);
  const namesz = b.readUInt32LE(0);
  const descsz = b.readUInt32LE(4);
  const descAt = 12 + ((namesz + 3) & ~3);
  return b.toString('hex', descAt, descAt + descsz);
}

/** The separate debug file of a module under /usr/lib/debug/.build-id, or the module itself. */
export function debugFileFor(elf: ElfImage): string {
  const id = buildId(elf);
  if (id) {
    const p = `/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`;
    if (fs.existsSync(p)) return p;
  }
  return elf.path;
}
