/**
 * Test-only reader of ELF core files (as written by gdb's generate-core-file): PT_LOAD segments
 * as memory, NT_PRSTATUS per thread for registers, NT_FILE for the mapped files. Serves as a real
 * snapshot of a stopped process for unwinding tests without a live tracer.
 */
import * as fs from 'node:fs';
import type { MemoryReader } from '../../src/dwarf/memory';
import { newRegisterFile, registersFromUserRegs, type RegisterFile } from '../../src/dwarf/registers';
import { readElf, type ElfImage } from './elf-sections';

const PT_LOAD = 1;
const PT_NOTE = 4;
const NT_PRSTATUS = 1;
const NT_FILE = 0x46494c45;
const PRSTATUS_PID = 32;
const PRSTATUS_REGS = 112;

export interface CoreThread {
  tid: number;
  regs: RegisterFile;
}

export interface FileMapping {
  start: number;
  end: number;
  fileOffset: number;
  path: string;
}

function u64(b: Buffer, at: number): number {
  return b.readUInt32LE(at + 4) * 0x100000000 + b.readUInt32LE(at);
}

export class CoreFile implements MemoryReader {
  readonly threads: CoreThread[] = [];
  readonly mappings: FileMapping[] = [];
  private readonly loads: { vaddr: number; end: number; fileEnd: number; offset: number }[] = [];
  private readonly files = new Map<string, Buffer | null>();
  readonly elf: ElfImage;

  constructor(path: string) {
    this.elf = readElf(path);
    const data = this.elf.data;
    for (const seg of this.elf.segments) {
      if (seg.type === PT_LOAD) {
        this.loads.push({ vaddr: seg.vaddr, end: seg.vaddr + seg.memsz, fileEnd: seg.vaddr + seg.filesz, offset: seg.offset });
      } else if (seg.type === PT_NOTE) {
        this.readNotes(data.subarray(seg.offset, seg.offset + seg.filesz));
      }
    }
    this.loads.sort((a, b) => a.vaddr - b.vaddr);
  }

  private readNotes(notes: Buffer): void {
    let at = 0;
    while (at + 12 <= notes.length) {
      const namesz = notes.readUInt32LE(at);
      const descsz = notes.readUInt32LE(at + 4);
      const type = notes.readUInt32LE(at + 8);
      const descAt = at + 12 + ((namesz + 3) & ~3);
      const desc = notes.subarray(descAt, descAt + descsz);
      if (type === NT_PRSTATUS) {
        this.threads.push({ tid: desc.readInt32LE(PRSTATUS_PID), regs: registersFromUserRegs(desc, PRSTATUS_REGS, newRegisterFile()) });
      } else if (type === NT_FILE) {
        const count = u64(desc, 0);
        const pageSize = u64(desc, 8);
        let names = 16 + count * 24;
        for (let i = 0; i < count; i++) {
          const end = desc.indexOf(0, names);
          const path = desc.toString('utf8', names, end);
          names = end + 1;
          const e = 16 + i * 24;
          this.mappings.push({ start: u64(desc, e), end: u64(desc, e + 8), fileOffset: u64(desc, e + 16) * pageSize, path });
        }
      }
      at = descAt + ((descsz + 3) & ~3);
    }
  }

  readU64(address: number): number {
    const loads = this.loads;
    let lo = 0;
    let hi = loads.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const l = loads[mid];
      if (address < l.vaddr) hi = mid - 1;
      else if (address >= l.end) lo = mid + 1;
      else {
        if (address + 8 <= l.fileEnd) return u64(this.elf.data, l.offset + (address - l.vaddr));
        break;
      }
    }
    // not dumped (read-only file-backed pages): read the mapped file
    for (const m of this.mappings) {
      if (address >= m.start && address + 8 <= m.end) {
        const file = this.fileBytes(m.path);
        const off = m.fileOffset + (address - m.start);
        return file && off + 8 <= file.length ? u64(file, off) : NaN;
      }
    }
    return NaN;
  }

  /** Copies memory at `address` into `out` (bytes that were not dumped stay zero). */
  copy(address: number, out: Buffer): void {
    for (const l of this.loads) {
      const from = Math.max(address, l.vaddr);
      const to = Math.min(address + out.length, l.fileEnd);
      if (from < to) this.elf.data.copy(out, from - address, l.offset + (from - l.vaddr), l.offset + (to - l.vaddr));
    }
  }

  private fileBytes(path: string): Buffer | null {
    if (!this.files.has(path)) this.files.set(path, fs.existsSync(path) ? fs.readFileSync(path) : null);
    return this.files.get(path)!;
  }

  /** Mapped ELF modules with their load bias (pc - bias = link-time address) and address range. */
  modules(): { path: string; bias: number; start: number; end: number; elf: ElfImage }[] {
    const byPath = new Map<string, FileMapping[]>();
    for (const m of this.mappings) {
      if (!byPath.has(m.path)) byPath.set(m.path, []);
      byPath.get(m.path)!.push(m);
    }
    const out = [];
    for (const [path, maps] of byPath) {
      const bytes = this.fileBytes(path);
      if (!bytes || bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46) continue;
      const elf = readElf(path, bytes);
      const first = maps.find((m) => m.fileOffset === 0);
      const firstLoad = elf.segments.find((s) => s.type === PT_LOAD);
      if (!first || !firstLoad) continue;
      const bias = first.start - (firstLoad.vaddr - firstLoad.offset);
      out.push({ path, bias, start: Math.min(...maps.map((m) => m.start)), end: Math.max(...maps.map((m) => m.end)), elf });
    }
    return out;
  }
}
