/**
 * Frames from stap's own symbol data (usymdata/umodname/umodaddr), before our symbolizer adds
 * file:line, inline frames and demangled names. `offset` is the module's link-time address of
 * the pc (pc minus load base), rebuilt from the ELF file since stap does not print it.
 */
import type { Frame } from '../capture/types';
import { openElfCached } from '../elf';
import { symbolSource } from '../elf/debuginfo';
import type { ElfFile } from '../elf';
import type { RawStapFrame } from './record-parser';

const PAGE = 0x1000;
const PF_X = 1;

function symbolSourceOrSelf(elf: ElfFile): ElfFile {
  try {
    return symbolSource(elf);
  } catch {
    return elf;
  }
}

function openOrNull(module: string): ElfFile | null {
  try {
    return openElfCached(module);
  } catch {
    return null;
  }
}

/** Link-time address of a frame's pc in its module, or null when it cannot be told. */
export function moduleOffsetOf(frame: RawStapFrame): number | null {
  if (!frame.module) return null;
  const elf = openOrNull(frame.module);
  if (!elf) return null;
  if (frame.symbol && frame.symbolOffset !== null) {
    // libc.so.6 keeps start_thread, __GI___clone3, ... only in its separate debug file's .symtab
    let syms = elf.symbols().byName(frame.symbol);
    if (!syms.length) syms = symbolSourceOrSelf(elf).symbols().byName(frame.symbol);
    const sym = syms.find((s) => s.isFunction && (frame.symbolSize === null || s.size === frame.symbolSize)) ?? syms[0];
    if (sym) return sym.address + frame.symbolOffset;
  }
  if (frame.mappingOffset === null) return null;
  // umodaddr() is relative to the start of the mapping stap registered: the whole module for
  // libraries mapped in one piece, one segment's pages for executables mapped per segment.
  const segs = elf.loadSegments;
  if (!segs.length) return null;
  const bases = [segs[0], ...segs.filter((s) => (s.flags & PF_X) !== 0)].map((s) => Math.floor(s.vaddr / PAGE) * PAGE);
  for (const base of bases) {
    const vaddr = base + frame.mappingOffset;
    if (segs.some((s) => (s.flags & PF_X) !== 0 && vaddr >= s.vaddr && vaddr < s.vaddr + s.memsz)) return vaddr;
  }
  return null;
}

const hex = (n: number) => '0x' + n.toString(16);

/**
 * stap's runtime keeps only the tail of a long module path ("...mp/jest-ustack-fixtures/x/prog"):
 * the known module (the program, its libraries) that ends with that tail, else the text as it came.
 */
export function expandModulePath(module: string | null, known: string[]): string | null {
  if (!module || !module.startsWith('...')) return module;
  const tail = module.slice(3);
  const matches = [...new Set(known.filter((k) => k.endsWith(tail)))]; // a library can be both linked and named by a hook
  return matches.length === 1 ? matches[0] : module;
}

/** Frame model of stap's frames, with file/line null (the default when no symbolizer is given). */
export function framesFromStap(frames: RawStapFrame[]): Frame[] {
  return frames.map((f) => {
    const offset = moduleOffsetOf(f);
    return {
      pc: hex(f.pc),
      module: f.module,
      offset: offset === null ? null : hex(offset),
      symbol: f.symbol,
      symbolOffset: f.symbolOffset,
      symbolSize: f.symbolSize,
      file: null,
      line: null,
      inlined: false,
    };
  });
}
