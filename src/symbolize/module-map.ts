/**
 * The modules (executable, shared libraries, vDSO) mapped into a process, from its maps,
 * with each one's load bias, and a fast pc -> module lookup.
 */
import { ElfFile, openElfCached } from '../elf/elf-file';
import type { Mapping } from './process-maps';

export interface LoadedModule {
  path: string;
  /** Lowest and highest address of the module's mappings. */
  start: number;
  end: number;
  /** link-time address = runtime address - bias (0 for a non-PIE executable). */
  bias: number;
  /** Null for the [vdso] (not a file) and for files that are not readable x86-64 ELF. */
  elf: ElfFile | null;
  /** The module's mappings, in address order. */
  mappings: Mapping[];
}

const PAGE = 4096;

export interface ModuleMapOptions {
  /** How to open a mapped file; default openElfCached, with errors giving null. */
  openElf?: (path: string) => ElfFile | null;
}

export class ModuleMap {
  private readonly list: LoadedModule[] = [];
  // One slot per mapping that belongs to a module, sorted by start, for binary search.
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private readonly owner: LoadedModule[];
  private lastSlot = -1;

  constructor(mappings: Mapping[], options: ModuleMapOptions = {}) {
    const openElf = options.openElf ?? openQuietly;
    const sorted = [...mappings].sort((a, b) => a.start - b.start);
    const latest = new Map<string, LoadedModule>();
    for (const m of sorted) {
      if (!m.path || (!m.path.startsWith('/') && m.path !== '[vdso]')) continue;
      let mod = latest.get(m.path);
      // A second mapping of offset 0 is a second load of the same file (dlopen of a copy, or a data mmap).
      if (!mod || (m.offset === 0 && mod.mappings.some((x) => x.offset === 0))) {
        mod = { path: m.path, start: m.start, end: m.end, bias: 0, elf: null, mappings: [] };
        latest.set(m.path, mod);
        this.list.push(mod);
      }
      mod.mappings.push(m);
      mod.start = Math.min(mod.start, m.start);
      mod.end = Math.max(mod.end, m.end);
    }
    for (const mod of this.list) {
      if (mod.path === '[vdso]') {
        // The vDSO is linked at address 0 on x86-64 kernels, so its bias is its start.
        mod.bias = mod.start;
        continue;
      }
      mod.elf = openElf(mod.path);
      mod.bias = mod.elf ? computeBias(mod.elf, mod.mappings) : mod.mappings[0].start - mod.mappings[0].offset;
    }

    const slots: { m: Mapping; mod: LoadedModule }[] = [];
    for (const mod of this.list) for (const m of mod.mappings) slots.push({ m, mod });
    slots.sort((a, b) => a.m.start - b.m.start);
    this.starts = new Float64Array(slots.map((s) => s.m.start));
    this.ends = new Float64Array(slots.map((s) => s.m.end));
    this.owner = slots.map((s) => s.mod);
  }

  /** The module whose mappings contain `pc`, or null (heap, stack, anonymous memory, unmapped). */
  find(pc: number): LoadedModule | null {
    const last = this.lastSlot;
    if (last >= 0 && pc >= this.starts[last] && pc < this.ends[last]) return this.owner[last];
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= pc) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    if (i < 0 || pc >= this.ends[i]) return null;
    this.lastSlot = i;
    return this.owner[i];
  }

  /** Modules in address order of their first mapping. */
  modules(): LoadedModule[] {
    return this.list;
  }
}

/** The load bias of `elf` mapped as `mappings` (runtime = link-time + bias). */
export function computeBias(elf: ElfFile, mappings: Mapping[]): number {
  // Each PT_LOAD is mapped from the page holding p_offset; find the mapping that starts there.
  for (const m of mappings) {
    for (const seg of elf.loadSegments) {
      if (m.offset === seg.offset - (seg.offset % PAGE)) return m.start - (seg.vaddr - (seg.offset - m.offset));
    }
  }
  // Split mappings (mprotect'ed RELRO and the like) still lie inside one segment's file range.
  for (const m of mappings) {
    for (const seg of elf.loadSegments) {
      if (m.offset >= seg.offset - (seg.offset % PAGE) && m.offset < seg.offset + seg.filesz) {
        return m.start - (seg.vaddr + (m.offset - seg.offset));
      }
    }
  }
  return mappings[0].start - mappings[0].offset;
}

function openQuietly(path: string): ElfFile | null {
  try {
    return openElfCached(path);
  } catch {
    return null;
  }
}
