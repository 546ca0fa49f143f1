/**
 * Hook targets for functions that exist only inlined (a `static` helper at -O2 has no symbol):
 * like gdb's `break f`, one target at the entry pc of every inlined copy of `f`.
 */
import type { DebugInfo } from '../dwarf/debug-info';
import type { InlinedCopies } from './inlined-copy-index';
import type { ElfFile } from '../elf/elf-file';
import { HookSpec, globMatchesName, globToRegExp, wildMatch, withoutTemplateArgs } from './hook-spec';
import { moduleDwarf } from './module-debug';
import { demangle, stripParameters } from './demangle';

export interface InlineHookModule {
  path: string;
  elf: ElfFile;
  debug: InlinedCopies | null;
}

export interface InlineHookTarget {
  /** Module path as given in `modules`. */
  module: string;
  /** Qualified source name of the inlined function. */
  symbol: string;
  /** Link-time entry pc of the inlined copy. */
  address: number;
  /** The function's linkage name (C++: its parameter list), when DWARF gives one. */
  linkage: string | null;
}

/** The module's DWARF, from itself or its separate debug file: the same parsed DWARF the symbolizer uses. */
export function debugInfoFor(elf: ElfFile): DebugInfo | null {
  return moduleDwarf(elf).info;
}

/**
 * Entry pcs of the inlined copies of the functions `spec.pattern` names (exact name, qualified
 * name or its last components, linkage name, or a glob over the name and qualified name), one per address.
 * `spec.module` is not applied here: pass only the modules the spec chose.
 */
export function inlineHookTargets(spec: HookSpec, modules: InlineHookModule[]): InlineHookTarget[] {
  const glob = globToRegExp(spec.pattern);
  const p = spec.pattern;
  const traitPath = p.startsWith('<');
  // like out-of-line functions: qualified names by their last components, template instances by their common name
  const matches = glob
    ? (name: string, qualified: string) => globMatchesName(glob, qualified) || glob.test(name) || globMatchesName(glob, withoutTemplateArgs(qualified))
    : (name: string, qualified: string, linkage: string | null) =>
        name === p ||
        linkage === p ||
        wildMatch(qualified, p) ||
        wildMatch(withoutTemplateArgs(qualified), p) ||
        // a Rust trait method by its demangled path, `<Type as Trait>::method`, where DWARF says `crate::{impl#N}::method`
        (traitPath && linkage !== null && /^_R|^_ZN.*17h[0-9a-f]{16}E$/.test(linkage) && wildMatch(stripParameters(demangle(linkage)), p));
  const targets: InlineHookTarget[] = [];
  for (const mod of modules) {
    if (!mod.debug) continue;
    const seen = new Set<number>();
    for (const inst of mod.debug.inlinedInstances()) {
      // entry 0: code the linker discarded (its DWARF left at address 0), which gdb skips too
      if (inst.entry === 0 || seen.has(inst.entry) || !matches(inst.name, inst.qualifiedName, inst.linkageName)) continue;
      seen.add(inst.entry);
      targets.push({ module: mod.path, symbol: inst.qualifiedName, address: inst.entry, linkage: inst.linkageName });
    }
  }
  return targets.sort((a, b) => (a.module === b.module ? a.address - b.address : a.module < b.module ? -1 : 1));
}
