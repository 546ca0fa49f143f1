/**
 * Hook targets for functions that exist only inlined (a `static` helper at -O2 has no symbol):
 * like gdb's `break f`, one target at the entry pc of every inlined copy of `f`.
 */
import { DebugInfo } from '../dwarf/debug-info';
import { DebugSections } from '../dwarf/debug-sections';
import { LineTable } from '../dwarf/line-table';
import { openSeparateDebugFile } from '../elf/debuginfo';
import type { ElfFile } from '../elf/elf-file';
import { HookSpec, globToRegExp } from './hook-spec';

export interface InlineHookModule {
  path: string;
  elf: ElfFile;
  debug: DebugInfo | null;
}

export interface InlineHookTarget {
  /** Module path as given in `modules`. */
  module: string;
  /** Qualified source name of the inlined function. */
  symbol: string;
  /** Link-time entry pc of the inlined copy. */
  address: number;
}

const debugCache = new WeakMap<ElfFile, DebugInfo | null>();

/** The module's DWARF, from itself or its separate debug file (as the symbolizer finds it); cached per ElfFile. */
export function debugInfoFor(elf: ElfFile): DebugInfo | null {
  const cached = debugCache.get(elf);
  if (cached !== undefined) return cached;
  let sections: DebugSections | null = elf.hasDebugInfo ? elf : null;
  if (!sections) {
    const separate = openSeparateDebugFile(elf);
    if (separate?.hasDebugInfo) sections = separate;
  }
  const info = sections ? DebugInfo.fromSections(sections, LineTable.fromSections(sections)) : null;
  debugCache.set(elf, info);
  return info;
}

/**
 * Entry pcs of the inlined copies of the functions `spec.pattern` names (exact name, qualified
 * name, linkage name, or a glob over the name and qualified name), one per address.
 * `spec.module` is not applied here: pass only the modules the spec chose.
 */
export function inlineHookTargets(spec: HookSpec, modules: InlineHookModule[]): InlineHookTarget[] {
  const glob = globToRegExp(spec.pattern);
  const matches = glob
    ? (name: string, qualified: string) => glob.test(qualified) || glob.test(name)
    : (name: string, qualified: string, linkage: string | null) => qualified === spec.pattern || name === spec.pattern || linkage === spec.pattern;
  const targets: InlineHookTarget[] = [];
  for (const mod of modules) {
    if (!mod.debug) continue;
    const seen = new Set<number>();
    for (const inst of mod.debug.inlinedInstances()) {
      if (seen.has(inst.entry) || !matches(inst.name, inst.qualifiedName, inst.linkageName)) continue;
      seen.add(inst.entry);
      targets.push({ module: mod.path, symbol: inst.qualifiedName, address: inst.entry });
    }
  }
  return targets.sort((a, b) => (a.module === b.module ? a.address - b.address : a.module < b.module ? -1 : 1));
}
