/**
 * The names gdb knows a Rust function by: its DWARF name (the DW_AT_name chain of namespaces, types
 * and impl blocks, `demangle_driver::{impl#0}::render`, `rustc_demangle::v0::Printer::print_path`),
 * by linkage name, so hook specs match what frames show. The demangled symbol is another spelling
 * (`<rustc_demangle::v0::Printer>::print_path`, `<Plain as Render>::render`) that specs may use too.
 */
import type { FunctionInfo } from '../dwarf/debug-info';
import { withoutTemplateArgs } from './hook-spec';

/** A module's parsed DWARF as far as names go (DebugInfo; the on-disk inlined-copy index has none). */
export interface FunctionNames {
  functions(): readonly FunctionInfo[];
}

const cache = new WeakMap<FunctionNames, Map<string, string[]>>();

/** True when `debug` can list functions (the executable's parsed DWARF). */
export function hasFunctionNames(debug: unknown): debug is FunctionNames {
  return typeof (debug as FunctionNames | null)?.functions === 'function';
}

/** Linkage name -> gdb's names of that Rust function (qualified, and without generic arguments); parses all units once. */
export function rustDwarfNames(debug: FunctionNames): Map<string, string[]> {
  let names = cache.get(debug);
  if (!names) {
    names = new Map();
    for (const f of debug.functions()) {
      const l = f.linkageName;
      if (!l || !(l.startsWith('_R') || /^_ZN.*17h[0-9a-f]{16}E$/.test(l))) continue;
      const list = names.get(l) ?? [];
      for (const n of [f.qualifiedName, withoutTemplateArgs(f.qualifiedName)]) if (!list.includes(n)) list.push(n);
      names.set(l, list);
    }
    cache.set(debug, names);
  }
  return names;
}
