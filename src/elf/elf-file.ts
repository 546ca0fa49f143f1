/**
 * One ELF file on disk: header, program headers and sections (parsed by `elfy`), plus the
 * pieces jest-ustack needs from them: build-id, .gnu_debuglink, PT_INTERP, PT_LOAD segments,
 * section data (decompressed when SHF_COMPRESSED or .zdebug_*), and the symbol table.
 */
import * as fs from 'node:fs';
import { BinaryNotFoundError, ElfFormatError, NotElfError } from '../errors';
import { scriptAdvice, shebangOf } from './scripts';
import { SymbolTable } from './symbol-table';
import {
  EM_X86_64,
  ET_NAMES,
  ELFCOMPRESS_ZLIB,
  ELFCOMPRESS_ZSTD,
  NT_GNU_BUILD_ID,
  PT_INTERP,
  PT_LOAD,
  PT_NOTE,
  SHF_COMPRESSED,
  SHT_NOBITS,
  SHT_NOTE,
  machineName,
} from './constants';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const elfy = require('elfy') as { Parser: new () => ElfyParser; parse(buf: Buffer): ElfyResult };

interface ElfyParser {
  parseHeader(buf: Buffer): ElfyHeader;
  parsePrograms(buf: Buffer, header: ElfyHeader): ElfyProgram[];
  execute(buf: Buffer): ElfyResult;
}
interface ElfyHeader {
  class: string;
  type: string;
  entry: number;
  phoff: number;
  shoff: number;
  phnum: number;
  phentsize: number;
  shnum: number;
  shentsize: number;
  shstrndx: number;
}
interface ElfyProgram {
  type: string;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  flags: { r?: boolean; w?: boolean; x?: boolean };
  data: Buffer;
}
interface ElfySection {
  name: string;
  addr: number;
  off: number;
  size: number;
  link: number;
  info: number;
  data: Buffer;
}
interface ElfyResult extends ElfyHeader {
  body: { programs: ElfyProgram[]; sections: ElfySection[] };
}

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  address: number;
  offset: number;
  size: number;
  /** Contents; decompressed for SHF_COMPRESSED and .zdebug_* sections; empty for SHT_NOBITS. */
  data: Buffer;
}

export interface LoadSegment {
  vaddr: number;
  offset: number;
  filesz: number;
  memsz: number;
  /** p_flags: PF_X=1, PF_W=2, PF_R=4. */
  flags: number;
}

/** A section header as read (data not yet decompressed), plus its sh_link/sh_info. */
export interface RawSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  address: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  raw: Buffer;
}

export type ElfKind = 'EXEC' | 'DYN' | 'REL' | 'CORE';

export class ElfFile {
  readonly kind: ElfKind;
  readonly entry: number;
  readonly buildId: string | null;
  readonly debugLink: { file: string; crc: number } | null;
  readonly interpreter: string | null;
  readonly loadSegments: LoadSegment[];
  /** Section headers in file order (index 0 is the null section). */
  readonly rawSections: readonly RawSection[];

  private readonly byName = new Map<string, RawSection>();
  private readonly decoded = new Map<string, ElfSection | null>();
  private symbolTable: SymbolTable | null = null;
  /** Another file whose .dynsym completes this one's .symtab (a MiniDebugInfo file and its binary). */
  private dynamicSymbolsOf: ElfFile | null = null;

  /** Opens and parses `path`; throws BinaryNotFoundError or NotElfError. */
  static open(path: string): ElfFile {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(path);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const detail =
        e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
      throw new BinaryNotFoundError(path, detail);
    }
    return new ElfFile(path, buf);
  }

  /** Parses an ELF image already in memory (for example the [vdso] read from a process). */
  static fromBuffer(path: string, buf: Buffer): ElfFile {
    return new ElfFile(path, buf);
  }

  private constructor(readonly path: string, private readonly buf: Buffer) {
    checkIdent(path, buf);
    let parsed: ElfyResult;
    try {
      parsed = parseWithElfy(buf);
    } catch (err) {
      throw new NotElfError(path, `is a damaged ELF file (${(err as Error).message})`);
    }
    this.kind = ET_NAMES[buf.readUInt16LE(16)] ?? 'EXEC';
    this.entry = parsed.entry;

    this.loadSegments = [];
    let interpreter: string | null = null;
    const notes: Buffer[] = [];
    const phoff = parsed.phoff;
    for (let i = 0; i < parsed.body.programs.length; i++) {
      const p = parsed.body.programs[i];
      // elfy names the types it knows and stringifies flags; the raw words are exact.
      const ptype = buf.readUInt32LE(phoff + i * parsed.phentsize);
      const pflags = buf.readUInt32LE(phoff + i * parsed.phentsize + 4);
      if (ptype === PT_LOAD) {
        this.loadSegments.push({ vaddr: p.vaddr, offset: p.offset, filesz: p.filesz, memsz: p.memsz, flags: pflags });
      } else if (ptype === PT_INTERP) {
        interpreter = cString(p.data, 0);
      } else if (ptype === PT_NOTE) {
        notes.push(p.data);
      }
    }
    this.interpreter = interpreter;

    const sections: RawSection[] = [];
    const shoff = parsed.shoff;
    for (let i = 0; i < parsed.body.sections.length; i++) {
      const s = parsed.body.sections[i];
      const hdr = shoff + i * parsed.shentsize;
      const type = buf.readUInt32LE(hdr + 4);
      const flags = Number(buf.readBigUInt64LE(hdr + 8));
      const raw = type === SHT_NOBITS ? Buffer.alloc(0) : s.data;
      const sec: RawSection = { index: i, name: s.name, type, flags, address: s.addr, offset: s.off, size: s.size, link: s.link, info: s.info, raw };
      sections.push(sec);
      if (i > 0 && !this.byName.has(s.name)) this.byName.set(s.name, sec);
    }
    this.rawSections = sections;

    const noteSections = sections.filter((s) => s.type === SHT_NOTE).map((s) => s.raw);
    this.buildId = findBuildId(noteSections.length ? noteSections : notes);

    const link = this.section('.gnu_debuglink');
    this.debugLink = link && link.data.length >= 8 ? parseDebugLink(link.data) : null;
  }

  /** The section named `name` (first one if several), or null. `.debug_*` also finds `.zdebug_*`. */
  section(name: string): ElfSection | null {
    if (this.decoded.has(name)) return this.decoded.get(name)!;
    let raw = this.byName.get(name);
    let gnuCompressed = false;
    if (!raw && name.startsWith('.debug_')) {
      raw = this.byName.get('.z' + name.slice(1));
      gnuCompressed = raw !== undefined;
    }
    const sec = raw ? this.decode(raw, name, gnuCompressed) : null;
    this.decoded.set(name, sec);
    return sec;
  }

  hasSection(name: string): boolean {
    return this.byName.has(name) || (name.startsWith('.debug_') && this.byName.has('.z' + name.slice(1)));
  }

  /** .debug_info is present and has contents (not a NOBITS placeholder). */
  get hasDebugInfo(): boolean {
    const raw = this.byName.get('.debug_info') ?? this.byName.get('.zdebug_info');
    return raw !== undefined && raw.type !== SHT_NOBITS && raw.size > 0;
  }

  symbols(): SymbolTable {
    if (!this.symbolTable) this.symbolTable = SymbolTable.fromElf(this, this.dynamicSymbolsOf ?? this);
    return this.symbolTable;
  }

  /** This file's .symtab with `binary`'s .dynsym: a MiniDebugInfo file leaves out what .dynsym names. */
  withDynamicSymbolsOf(binary: ElfFile): this {
    this.dynamicSymbolsOf = binary;
    this.symbolTable = null;
    return this;
  }

  /** Raw section header by index (for sh_link lookups), or null. */
  rawSection(index: number): RawSection | null {
    return this.rawSections[index] ?? null;
  }

  /** File offset of a link-time address inside a PT_LOAD segment's file image, or null. */
  fileOffsetOf(address: number): number | null {
    for (const seg of this.loadSegments) {
      if (address >= seg.vaddr && address < seg.vaddr + seg.filesz) return seg.offset + (address - seg.vaddr);
    }
    return null;
  }

  /** Bytes of the file itself (for reading code at a file offset). */
  bytes(offset: number, length: number): Buffer {
    return this.buf.subarray(offset, Math.min(offset + length, this.buf.length));
  }

  private decode(raw: RawSection, name: string, gnuCompressed: boolean): ElfSection {
    let data = raw.raw;
    if (raw.type !== SHT_NOBITS && (raw.flags & SHF_COMPRESSED) !== 0) {
      data = decompressChdr(this.path, raw.name, data);
    } else if (gnuCompressed) {
      data = decompressZdebug(this.path, raw.name, data);
    }
    return { name, type: raw.type, flags: raw.flags, address: raw.address, offset: raw.offset, size: data.length, data };
  }
}

function checkIdent(path: string, buf: Buffer): void {
  const shebang = shebangOf(buf);
  if (shebang) throw new NotElfError(path, `is a script (#!${shebang}), not an ELF file`, scriptAdvice(path, shebang));
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new NotElfError(path, 'is not an ELF file');
  if (buf[4] === 1) throw new NotElfError(path, 'is a 32-bit ELF');
  if (buf[4] !== 2) throw new NotElfError(path, 'is not an ELF file (unknown ELF class)');
  if (buf[5] !== 1) throw new NotElfError(path, 'is a big-endian ELF (not x86-64)');
  const machine = buf.readUInt16LE(18);
  if (machine !== EM_X86_64) throw new NotElfError(path, `is built for ${machineName(machine)} (not x86-64)`);
}

function parseWithElfy(buf: Buffer): ElfyResult {
  const shoff = Number(buf.readBigUInt64LE(40));
  const shnum = buf.readUInt16LE(60);
  if (shoff !== 0 && shnum !== 0) return elfy.parse(buf);
  // elfy needs a section name table; a section-less image (sstrip'ed, some vdso dumps) has none.
  const parser = new elfy.Parser();
  const header = parser.parseHeader(buf);
  return { ...header, body: { programs: parser.parsePrograms(buf, header), sections: [] } };
}

function cString(buf: Buffer, offset: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString('utf8', offset, end < 0 ? buf.length : end);
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function findBuildId(noteBlocks: Buffer[]): string | null {
  for (const block of noteBlocks) {
    let off = 0;
    while (off + 12 <= block.length) {
      const namesz = block.readUInt32LE(off);
      const descsz = block.readUInt32LE(off + 4);
      const type = block.readUInt32LE(off + 8);
      const nameStart = off + 12;
      const descStart = nameStart + align4(namesz);
      if (descStart + descsz > block.length) break;
      if (type === NT_GNU_BUILD_ID && namesz === 4 && block.toString('latin1', nameStart, nameStart + 3) === 'GNU') {
        return block.toString('hex', descStart, descStart + descsz);
      }
      off = descStart + align4(descsz);
    }
  }
  return null;
}

function parseDebugLink(data: Buffer): { file: string; crc: number } | null {
  const end = data.indexOf(0);
  if (end <= 0) return null;
  const crcOffset = align4(end + 1);
  if (crcOffset + 4 > data.length) return null;
  return { file: data.toString('utf8', 0, end), crc: data.readUInt32LE(crcOffset) };
}

function decompressChdr(path: string, section: string, data: Buffer): Buffer {
  if (data.length < 24) throw new ElfFormatError(path, `section ${section} is too short for its compression header`);
  const type = data.readUInt32LE(0);
  const size = Number(data.readBigUInt64LE(8));
  if (type === ELFCOMPRESS_ZLIB) return inflate(path, section, data.subarray(24), size);
  if (type === ELFCOMPRESS_ZSTD) {
    throw new ElfFormatError(path, `section ${section} is zstd-compressed, which this Node.js cannot decompress; rebuild with -gz=zlib (or -gz=none), or run \`objcopy --decompress-debug-sections\` on it`);
  }
  throw new ElfFormatError(path, `section ${section} uses unknown compression type ${type}`);
}

function decompressZdebug(path: string, section: string, data: Buffer): Buffer {
  if (data.length < 12 || data.toString('latin1', 0, 4) !== 'ZLIB') return data;
  const size = Number(data.readBigUInt64BE(4));
  return inflate(path, section, data.subarray(12), size);
}

function inflate(path: string, section: string, compressed: Buffer, size: number): Buffer {
  let out: Buffer;
  try {
    // one output chunk of the known size: no chunk list to concatenate (the default 16 KiB chunks cost a copy and twice the memory)
    out = (require('node:zlib') as typeof import('node:zlib')).inflateSync(compressed, { chunkSize: Math.max(64, size) });
  } catch (err) {
    throw new ElfFormatError(path, `section ${section} does not decompress (${(err as Error).message})`);
  }
  if (out.length !== size) throw new ElfFormatError(path, `section ${section} decompressed to ${out.length} bytes, header says ${size}`);
  return out;
}

const cache = new Map<string, { mtimeMs: number; size: number; elf: ElfFile }>();

/** ElfFile.open with a per-process cache keyed by path, mtime and size. */
export function openElfCached(path: string): ElfFile {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch {
    return ElfFile.open(path); // throws the right BinaryNotFoundError
  }
  const hit = cache.get(path);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.elf;
  const elf = ElfFile.open(path);
  cache.set(path, { mtimeMs: st.mtimeMs, size: st.size, elf });
  return elf;
}
