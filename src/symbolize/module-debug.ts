/**
 * A module's DWARF, found once per ELF file (in the file itself or its separate debug file) and
 * shared by the symbolizer and the hook resolver, so the same DWARF is never parsed twice.
 */
import { DebugInfo } from '../dwarf/debug-info';
import type { DebugSections } from '../dwarf/debug-sections';
import { LineTable } from '../dwarf/line-table';
import { openSeparateDebugFile, symbolSource } from '../elf/debuginfo';
import { debugConfigGeneration, debugGeneration } from '../elf/debug-search';
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
/** The generations (debug-search.ts) in which a module's DWARF was looked for. */
const askedIn = new WeakMap<ElfFile, { generation: number; config: number }>();

export function moduleDwarf(elf: ElfFile): ModuleDwarf {
  let d = cache.get(elf);
  const asked = askedIn.get(elf);
  // DWARF of the file itself is always valid; a separate file's while the settings stay; "none" until a debug file may have appeared
  if (d && (d.sections === elf || (asked?.config === debugConfigGeneration() && (d !== NONE || asked.generation === debugGeneration())))) return d;
  let sections: DebugSections | null = elf.hasDebugInfo ? elf : null;
  if (!sections) {
    const separate = openSeparateDebugFile(elf);
    if (separate?.hasDebugInfo) sections = separate;
  }
  if (sections && d?.sections === sections) {
    // looked for again and found the same file: keep what was parsed
  } else if (sections) {
    const lines = LineTable.fromSections(sections);
    // the symbol table is read only when a call site names a function its unit does not define
    let byName: ((name: string) => number | null) | null = null;
    const entryByName = (name: string) => (byName ??= uniqueEntryByName(symbolSource(elf).symbols()))(name);
    d = { lines, info: DebugInfo.fromSections(sections, lines, entryByName), sections };
  } else {
    d = NONE;
  }
  askedIn.set(elf, { generation: debugGeneration(), config: debugConfigGeneration() });
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
