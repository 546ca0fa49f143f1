/**
 * The symbols of one ELF file (.symtab and .dynsym, deduplicated), with a fast
 * address -> function lookup for symbolizing frames and a name index for hooks.
 */
import type { ElfFile, RawSection } from './elf-file';
import {
  SHN_LORESERVE,
  SHN_UNDEF,
  SHT_DYNSYM,
  SHT_GNU_VERDEF,
  SHT_GNU_VERSYM,
  SHT_SYMTAB,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_FUNC,
  STT_GNU_IFUNC,
} from './constants';

export interface ElfSymbol {
  /** Linkage (mangled) name, without a version; `.symtab` names that carry `@VER` keep it. */
  name: string;
  /** Link-time address (st_value). */
  address: number;
  size: number;
  /** STT_FUNC or STT_GNU_IFUNC. */
  isFunction: boolean;
  source: 'symtab' | 'dynsym';
  /** STT_GNU_IFUNC: `address` is the resolver, not the function that ends up being called. */
  isIfunc: boolean;
  /** An untyped label in code (assembly without `.type`, such as ld.so's `_start`): named by lookup, as gdb does, never a hook. */
  isCodeLabel?: boolean;
  binding: 'local' | 'global' | 'weak';
  /** Symbol version from .gnu.version as nm prints it (`@@GLIBC_2.2.5`, `@GLIBC_2.2.5`), or null. */
  version: string | null;
}

const SYM_SIZE = 24;
const STT_NOTYPE = 0;
const STT_SECTION = 3;
const SHF_EXECINSTR = 0x4;
const STT_FILE = 4;

export class SymbolTable {
  private readonly all: readonly ElfSymbol[];
  private readonly funcs: readonly ElfSymbol[];
  private readonly names = new Map<string, ElfSymbol[]>();
  // Lookup arrays, one entry per distinct function start address (best symbol at that address).
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private readonly sized: Uint8Array;
  private readonly maxSizedEnd: Float64Array;
  private readonly bySlot: ElfSymbol[];

  /**
   * @param symbols defined symbols, `.symtab` ones before `.dynsym` ones.
   * @param sectionEnd for a size-0 function symbol, the end address of its section (caps the fallback).
   */
  constructor(symbols: ElfSymbol[], sectionEnd: (sym: ElfSymbol) => number = () => Infinity) {
    // the same symbol often stands in both .symtab and .dynsym: keep the first, keyed by address
    // (numbers, not strings: node's 200k symbols made string keys the cost of the whole table)
    const seen = new Map<number, ElfSymbol | ElfSymbol[]>();
    const all: ElfSymbol[] = [];
    const extraNames: [string, ElfSymbol][] = [];
    for (const sym of symbols) {
      const bare = bareName(sym.name);
      const slot = seen.get(sym.address);
      const prev = slot === undefined ? undefined : Array.isArray(slot) ? slot.find((p) => bareName(p.name) === bare) : bareName(slot.name) === bare ? slot : undefined;
      if (prev) {
        if (sym.version && !prev.version) extraNames.push([bare + sym.version, prev]);
        continue;
      }
      if (slot === undefined) seen.set(sym.address, sym);
      else if (Array.isArray(slot)) slot.push(sym);
      else seen.set(sym.address, [slot, sym]);
      all.push(sym);
    }
    this.all = all;
    for (const sym of all) {
      this.index(sym.name, sym);
      const bare = bareName(sym.name);
      if (bare !== sym.name) this.index(bare, sym);
      if (sym.version) this.index(sym.name + sym.version, sym);
    }
    for (const [name, sym] of extraNames) this.index(name, sym);

    const funcs = all.filter((s) => s.isFunction).sort((a, b) => a.address - b.address || rank(a) - rank(b));
    this.funcs = Object.freeze(funcs);

    // lookup also names untyped code labels, after any function at the same address
    const labels = all.filter((s) => s.isCodeLabel);
    const named = labels.length ? [...funcs, ...labels].sort((a, b) => a.address - b.address || Number(a.isCodeLabel ?? false) - Number(b.isCodeLabel ?? false) || rank(a) - rank(b)) : funcs;
    const slots: ElfSymbol[] = [];
    for (const sym of named) {
      if (slots.length && slots[slots.length - 1].address === sym.address) continue; // funcs is sorted best-first per address
      slots.push(sym);
    }
    const n = slots.length;
    this.bySlot = slots;
    this.starts = new Float64Array(n);
    this.ends = new Float64Array(n);
    this.sized = new Uint8Array(n);
    this.maxSizedEnd = new Float64Array(n);
    let maxEnd = 0;
    for (let i = 0; i < n; i++) {
      const s = slots[i];
      this.starts[i] = s.address;
      if (s.size > 0) {
        this.sized[i] = 1;
        this.ends[i] = s.address + s.size;
        if (this.ends[i] > maxEnd) maxEnd = this.ends[i];
      } else {
        const next = i + 1 < n ? slots[i + 1].address : Infinity;
        this.ends[i] = Math.min(next, sectionEnd(s));
      }
      this.maxSizedEnd[i] = maxEnd;
    }
  }

  /** Reads .symtab and .dynsym (with .gnu.version names) of an ELF file. */
  static fromElf(elf: ElfFile, dynamic: ElfFile = elf): SymbolTable {
    const symbols: ElfSymbol[] = [];
    const sectionOf = new Map<ElfSymbol, number>();
    const symtab = elf.rawSections.find((s) => s.type === SHT_SYMTAB);
    const dynsym = dynamic.rawSections.find((s) => s.type === SHT_DYNSYM);
    if (symtab) readSymbols(elf, symtab, 'symtab', null, symbols, sectionOf);
    if (dynsym) readSymbols(dynamic, dynsym, 'dynsym', readVersions(dynamic), symbols, sectionOf);
    return new SymbolTable(symbols, (sym) => {
      const sec = (sym.source === 'dynsym' ? dynamic : elf).rawSection(sectionOf.get(sym) ?? -1);
      return sec ? sec.address + sec.size : sym.address;
    });
  }

  /** The function containing link-time `address`, or the closest preceding size-0 function in the same section. */
  lookup(address: number): ElfSymbol | null {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= address) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    if (i < 0) return null;
    for (let j = i; j >= 0 && this.maxSizedEnd[j] > address; j--) {
      if (this.sized[j] === 1 && this.ends[j] > address) return this.bySlot[j];
    }
    if (this.sized[i] === 0 && this.ends[i] > address) return this.bySlot[i];
    return null;
  }

  /** Symbols whose linkage name is `name`; `malloc` also finds `malloc@@GLIBC_2.2.5` and the reverse. */
  byName(name: string): ElfSymbol[] {
    return this.names.get(name) ?? [];
  }

  /** Function symbols (STT_FUNC, STT_GNU_IFUNC), sorted by address, deduplicated between .symtab and .dynsym. */
  functions(): readonly ElfSymbol[] {
    return this.funcs;
  }

  /** Every defined symbol (functions, objects, ...), deduplicated. */
  allSymbols(): readonly ElfSymbol[] {
    return this.all;
  }

  private index(name: string, sym: ElfSymbol): void {
    const list = this.names.get(name);
    if (!list) this.names.set(name, [sym]);
    else if (!list.includes(sym)) list.push(sym);
  }
}

function bareName(name: string): string {
  const at = name.indexOf('@');
  return at > 0 ? name.slice(0, at) : name;
}

/** Lower is better: the name a frame at this address is shown with. */
function rank(s: ElfSymbol): number {
  let r = 0;
  if (s.size === 0) r += 1000;
  if (s.binding === 'local') r += 200;
  else if (s.binding === 'weak') r += 100;
  if (s.name.includes('@')) r += 50;
  let underscores = 0;
  while (underscores < s.name.length && s.name[underscores] === '_') underscores++;
  r += Math.min(underscores, 4) * 10;
  if (s.source === 'dynsym') r += 1;
  return r;
}

function readSymbols(
  elf: ElfFile,
  sec: RawSection,
  source: 'symtab' | 'dynsym',
  versions: ((index: number) => string | null) | null,
  out: ElfSymbol[],
  sectionOf: Map<ElfSymbol, number>,
): void {
  const data = sec.raw;
  const strtab = elf.rawSection(sec.link)?.raw;
  if (!strtab) return;
  const count = Math.floor(data.length / SYM_SIZE);
  for (let i = 1; i < count; i++) {
    const off = i * SYM_SIZE;
    const shndx = data.readUInt16LE(off + 6);
    if (shndx === SHN_UNDEF) continue;
    const info = data[off + 4];
    const type = info & 0xf;
    if (type === STT_SECTION || type === STT_FILE) continue;
    const nameOff = data.readUInt32LE(off);
    const nameEnd = strtab.indexOf(0, nameOff);
    const name = strtab.toString('utf8', nameOff, nameEnd < 0 ? strtab.length : nameEnd);
    if (!name) continue;
    const bind = info >> 4;
    const sym: ElfSymbol = {
      name,
      address: data.readUInt32LE(off + 8) + data.readUInt32LE(off + 12) * 0x100000000,
      size: data.readUInt32LE(off + 16) + data.readUInt32LE(off + 20) * 0x100000000,
      isFunction: type === STT_FUNC || type === STT_GNU_IFUNC,
      source,
      isIfunc: type === STT_GNU_IFUNC,
      binding: bind === STB_LOCAL ? 'local' : bind === STB_WEAK ? 'weak' : bind === STB_GLOBAL ? 'global' : 'global',
      version: versions ? versions(i) : null,
    };
    if (type === STT_NOTYPE && (elf.rawSection(shndx)?.flags ?? 0) & SHF_EXECINSTR) sym.isCodeLabel = true;
    out.push(sym);
    if (shndx < SHN_LORESERVE) sectionOf.set(sym, shndx);
  }
}

/** Maps a .dynsym index to its version suffix using .gnu.version and .gnu.version_d. */
function readVersions(elf: ElfFile): ((index: number) => string | null) | null {
  const versym = elf.rawSections.find((s) => s.type === SHT_GNU_VERSYM);
  const verdef = elf.rawSections.find((s) => s.type === SHT_GNU_VERDEF);
  if (!versym || !verdef) return null;
  const strtab = elf.rawSection(verdef.link)?.raw;
  if (!strtab) return null;
  const names = new Map<number, string>();
  const d = verdef.raw;
  let off = 0;
  for (let n = 0; n < verdef.info && off + 20 <= d.length; n++) {
    const ndx = d.readUInt16LE(off + 4);
    const aux = d.readUInt32LE(off + 12);
    const next = d.readUInt32LE(off + 16);
    if (off + aux + 8 <= d.length) {
      const nameOff = d.readUInt32LE(off + aux);
      const end = strtab.indexOf(0, nameOff);
      names.set(ndx, strtab.toString('utf8', nameOff, end < 0 ? strtab.length : end));
    }
    if (next === 0) break;
    off += next;
  }
  const vs = versym.raw;
  return (index) => {
    if (index * 2 + 2 > vs.length) return null;
    const v = vs.readUInt16LE(index * 2);
    const ndx = v & 0x7fff;
    if (ndx <= 1) return null;
    const name = names.get(ndx);
    if (!name) return null;
    return (v & 0x8000 ? '@' : '@@') + name;
  };
}

const functionNameOffsets = new WeakMap<ElfFile, { strtab: Buffer; offsets: Uint32Array }[]>();

/**
 * Whether a defined function symbol of `elf` (.symtab or .dynsym) may be named `name` or
 * `name.<suffix>`/`name@<version>`, or (`mangledPart`) contain that text: without decoding the
 * table into symbols, from the string table and the name offsets of the function symbols only
 * (a few ms for glibc's debug file, where building its SymbolTable takes tens).
 */
export function mayHaveFunctionNamed(elf: ElfFile, name: string, mangledPart: string | null): boolean {
  let tables = functionNameOffsets.get(elf);
  if (!tables) {
    tables = [];
    for (const sec of elf.rawSections) {
      if (sec.type !== SHT_SYMTAB && sec.type !== SHT_DYNSYM) continue;
      const strtab = elf.rawSection(sec.link)?.raw;
      if (!strtab) continue;
      const data = sec.raw;
      const count = Math.floor(data.length / SYM_SIZE);
      const offsets: number[] = [];
      for (let i = 1; i < count; i++) {
        const off = i * SYM_SIZE;
        const type = data[off + 4] & 0xf;
        if ((type === STT_FUNC || type === STT_GNU_IFUNC) && data.readUInt16LE(off + 6) !== SHN_UNDEF) offsets.push(data.readUInt32LE(off));
      }
      tables.push({ strtab, offsets: Uint32Array.from(offsets).sort() });
    }
    functionNameOffsets.set(elf, tables);
  }
  const whole = Buffer.from(name);
  const part = mangledPart ? Buffer.from(mangledPart) : null;
  for (const { strtab, offsets } of tables) {
    // a name that is the tail of another is stored once (linkers merge string tails): check where symbols point
    for (let at = strtab.indexOf(whole); at >= 0; at = strtab.indexOf(whole, at + 1)) {
      const next = at + whole.length < strtab.length ? strtab[at + whole.length] : 0;
      if ((next === 0 || next === 0x2e /* . */ || next === 0x40 /* @ */) && sortedHas(offsets, at)) return true;
    }
    if (part && strtab.indexOf(part) >= 0) return true;
  }
  return false;
}

function sortedHas(a: Uint32Array, v: number): boolean {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] === v) return true;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
