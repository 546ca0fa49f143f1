/**
 * What a call instruction in a module calls, by the name the dynamic linker binds it to, read from
 * the module's own code and relocations (never from debug files): `call qsort@plt` is `qsort`, a
 * `call *qsort@GOTPCREL(%rip)` (-fno-plt) is `qsort` too. And the name a library exports for one
 * of its functions (its .dynsym), so library frames are named the same with or without debug packages.
 */
import type { ElfFile, RawSection } from './elf-file';

const SHT_RELA = 4;
const SHT_DYNSYM = 11;
const SYM_SIZE = 24;
const RELA_SIZE = 24;

interface CallIndex {
  /** GOT slot (link-time address) -> the dynamic symbol a relocation binds it to. */
  slots: Map<number, string>;
  /** Address ranges of the PLT sections (.plt, .plt.sec, .plt.got). */
  plt: { start: number; end: number }[];
}

const indexes = new WeakMap<ElfFile, CallIndex>();

function callIndex(elf: ElfFile): CallIndex {
  let idx = indexes.get(elf);
  if (idx) return idx;
  idx = { slots: new Map(), plt: [] };
  for (const sec of elf.rawSections) {
    if (sec.name === '.plt' || sec.name === '.plt.sec' || sec.name === '.plt.got') idx.plt.push({ start: sec.address, end: sec.address + sec.size });
    if (sec.type !== SHT_RELA) continue;
    const symtab = elf.rawSection(sec.link);
    if (!symtab || symtab.type !== SHT_DYNSYM) continue;
    const names = symbolNames(elf, symtab);
    const d = sec.raw;
    for (let off = 0; off + RELA_SIZE <= d.length; off += RELA_SIZE) {
      const where = d.readUInt32LE(off) + d.readUInt32LE(off + 4) * 0x100000000;
      const sym = d.readUInt32LE(off + 12); // r_info's high half: the symbol index
      const name = sym ? names(sym) : null;
      if (name) idx.slots.set(where, name);
    }
  }
  indexes.set(elf, idx);
  return idx;
}

function symbolNames(elf: ElfFile, symtab: RawSection): (index: number) => string | null {
  const strtab = elf.rawSection(symtab.link)?.raw;
  return (i) => {
    const off = i * SYM_SIZE;
    if (!strtab || off + SYM_SIZE > symtab.raw.length) return null;
    const nameOff = symtab.raw.readUInt32LE(off);
    const end = strtab.indexOf(0, nameOff);
    return strtab.toString('utf8', nameOff, end < 0 ? strtab.length : end) || null;
  };
}

function code(elf: ElfFile, address: number, length: number): Buffer | null {
  const off = elf.fileOffsetOf(address);
  if (off === null) return null;
  const b = elf.bytes(off, length);
  return b.length === length ? b : null;
}

/**
 * The symbol the call (or tail-call jump) that ends just before `returnAddress` (link-time) binds
 * to: a direct `call`/`jmp` to a PLT entry (the entry's `jmp *GOT` slot and its relocation), or
 * an indirect `call`/`jmp *slot(%rip)` through a GOT slot. Null for calls through registers and
 * calls inside the module.
 */
export function calledSymbol(elf: ElfFile, returnAddress: number): string | null {
  const idx = callIndex(elf);
  const before = code(elf, returnAddress - 6, 6);
  if (!before) return null;
  // ff 15 / ff 25 disp32: call/jmp *disp(%rip)
  if (before[0] === 0xff && (before[1] === 0x15 || before[1] === 0x25)) {
    const slot = returnAddress + before.readInt32LE(2);
    const name = idx.slots.get(slot);
    if (name) return name;
  }
  // e8 / e9 rel32: call/jmp to a PLT entry
  if (before[1] === 0xe8 || before[1] === 0xe9) {
    const target = returnAddress + before.readInt32LE(2);
    if (idx.plt.some((p) => target >= p.start && target < p.end)) return pltEntryName(elf, idx, target);
  }
  return null;
}

/** The symbol of the PLT entry at `entry`: its `[endbr64] [bnd] jmp *slot(%rip)` and the slot's relocation. */
function pltEntryName(elf: ElfFile, idx: CallIndex, entry: number): string | null {
  const b = code(elf, entry, 16);
  if (!b) return null;
  let i = 0;
  if (b[0] === 0xf3 && b[1] === 0x0f && b[2] === 0x1e && b[3] === 0xfa) i = 4; // endbr64
  if (b[i] === 0xf2) i++; // bnd
  if (b[i] !== 0xff || b[i + 1] !== 0x25) return null;
  const slot = entry + i + 6 + b.readInt32LE(i + 2);
  return idx.slots.get(slot) ?? null;
}

interface Exported {
  starts: Float64Array;
  ends: Float64Array;
  names: string[];
}

const exportedIndexes = new WeakMap<ElfFile, Exported>();

/**
 * The name a library exports a function by (from its own .dynsym, never a debug file): among the
 * aliases at one address the public one (fewest leading underscores, then shortest: `qsort_r`, not
 * `__qsort_r`; `puts`, not `_IO_puts`).
 */
function exported(elf: ElfFile): Exported {
  let e = exportedIndexes.get(elf);
  if (e) return e;
  const byAddress = new Map<number, { size: number; name: string }>();
  const dynsym = elf.rawSections.find((s) => s.type === SHT_DYNSYM);
  const strtab = dynsym ? elf.rawSection(dynsym.link)?.raw : undefined;
  if (dynsym && strtab) {
    const d = dynsym.raw;
    for (let off = SYM_SIZE; off + SYM_SIZE <= d.length; off += SYM_SIZE) {
      const type = d[off + 4] & 0xf;
      const shndx = d.readUInt16LE(off + 6);
      if ((type !== 2 && type !== 10) || shndx === 0) continue; // STT_FUNC, STT_GNU_IFUNC; defined
      const address = d.readUInt32LE(off + 8) + d.readUInt32LE(off + 12) * 0x100000000;
      const size = d.readUInt32LE(off + 16);
      const nameOff = d.readUInt32LE(off);
      const end = strtab.indexOf(0, nameOff);
      const name = strtab.toString('utf8', nameOff, end < 0 ? strtab.length : end);
      if (!name) continue;
      const seen = byAddress.get(address);
      if (!seen || better(name, seen.name)) byAddress.set(address, { size: Math.max(size, seen?.size ?? 0), name });
      else if (size > seen.size) seen.size = size;
    }
  }
  const sorted = [...byAddress].sort((a, b) => a[0] - b[0]);
  e = { starts: new Float64Array(sorted.map((s) => s[0])), ends: new Float64Array(sorted.map((s) => s[0] + s[1].size)), names: sorted.map((s) => s[1].name) };
  exportedIndexes.set(elf, e);
  return e;
}

function better(a: string, b: string): boolean {
  const ua = /^_*/.exec(a)![0].length;
  const ub = /^_*/.exec(b)![0].length;
  if (ua !== ub) return ua < ub;
  if (a.length !== b.length) return a.length < b.length;
  return a < b;
}

/** The exported function containing `address` (link-time), by its public name, or null. */
export function exportedFunctionContaining(elf: ElfFile, address: number): string | null {
  const e = exported(elf);
  let lo = 0;
  let hi = e.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (e.starts[mid] <= address) lo = mid + 1;
    else hi = mid;
  }
  const i = lo - 1;
  return i >= 0 && address < e.ends[i] ? e.names[i] : null;
}

/** The exported function whose entry is exactly `address` (link-time), by its public name, or null. */
export function exportedFunctionAt(elf: ElfFile, address: number): string | null {
  const e = exported(elf);
  let lo = 0;
  let hi = e.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (e.starts[mid] < address) lo = mid + 1;
    else hi = mid;
  }
  return lo < e.starts.length && e.starts[lo] === address ? e.names[lo] : null;
}
