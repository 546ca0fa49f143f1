/**
 * A module's DWARF, found once per ELF file (in the file itself or its separate debug file) and
 * shared by the symbolizer and the hook resolver, so the same DWARF is never parsed twice.
 */
import { DebugInfo } from '../dwarf/debug-info';
import type { DebugSections } from '../dwarf/debug-sections';
import { LineTable } from '../dwarf/line-table';
import { openSeparateDebugFile, symbolSource } from '../elf/debuginfo';
import { debugGeneration } from '../elf/debug-search';
import type { ElfFile } from '../elf/elf-file';
import type { SymbolTable } from '../elf/symbol-table';

export interface ModuleDwarf {
  lines: LineTable | null;
  info: DebugInfo | null;
  /** Where the DWARF came from (the file itself or its separate debug file): location lists live there too. */
  sections?: DebugSections | null;
}

const NONE: ModuleDwarf = { lines: null, info: null };
const cache = new WeakMap<ElfFile, ModuleDwarf>();
/** The generation (debug-search.ts) in which a module was found to have no DWARF. */
const noneSince = new WeakMap<ElfFile, number>();

export function moduleDwarf(elf: ElfFile): ModuleDwarf {
  let d = cache.get(elf);
  // "none" is asked again once a debug file may have appeared (debuginfod download, other dirs)
  if (d && (d !== NONE || noneSince.get(elf) === debugGeneration())) return d;
  let sections: DebugSections | null = elf.hasDebugInfo ? elf : null;
  if (!sections) {
    const separate = openSeparateDebugFile(elf);
    if (separate?.hasDebugInfo) sections = separate;
  }
  if (sections) {
    const lines = LineTable.fromSections(sections);
    // the symbol table is read only when a call site names a function its unit does not define
    let byName: ((name: string) => number | null) | null = null;
    const entryByName = (name: string) => (byName ??= uniqueEntryByName(symbolSource(elf).symbols()))(name);
    d = { lines, info: DebugInfo.fromSections(sections, lines, entryByName), sections };
  } else {
    d = NONE;
    noneSince.set(elf, debugGeneration());
  }
  cache.set(elf, d);
  return d;
}

/** A function's link-time entry by (linkage) name, when every sized symbol of that name agrees on it. */
export function uniqueEntryByName(symbols: SymbolTable): (name: string) => number | null {
  return (name) => {
    const found = symbols.byName(name).filter((s) => s.size > 0);
    return found.length > 0 && found.every((s) => s.address === found[0].address) ? found[0].address : null;
  };
}
