/**
 * A module's DWARF, found once per ELF file (in the file itself or its separate debug file) and
 * shared by the symbolizer and the hook resolver, so the same DWARF is never parsed twice.
 */
import { DebugInfo } from '../dwarf/debug-info';
import type { DebugSections } from '../dwarf/debug-sections';
import { LineTable } from '../dwarf/line-table';
import { openSeparateDebugFile } from '../elf/debuginfo';
import type { ElfFile } from '../elf/elf-file';

export interface ModuleDwarf {
  lines: LineTable | null;
  info: DebugInfo | null;
  /** Where the DWARF came from (the file itself or its separate debug file): location lists live there too. */
  sections?: DebugSections | null;
}

const NONE: ModuleDwarf = { lines: null, info: null };
const cache = new WeakMap<ElfFile, ModuleDwarf>();

export function moduleDwarf(elf: ElfFile): ModuleDwarf {
  let d = cache.get(elf);
  if (d) return d;
  let sections: DebugSections | null = elf.hasDebugInfo ? elf : null;
  if (!sections) {
    const separate = openSeparateDebugFile(elf);
    if (separate?.hasDebugInfo) sections = separate;
  }
  if (sections) {
    const lines = LineTable.fromSections(sections);
    d = { lines, info: DebugInfo.fromSections(sections, lines), sections };
  } else {
    d = NONE;
  }
  cache.set(elf, d);
  return d;
}
