/**
 * Resolves a hook spec to function addresses in the loaded modules, the way users expect
 * from stap's process(...).function("..."): exact names, globs, a chosen module, C++/Rust
 * demangled names; an unknown name is an error with "did you mean" suggestions.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ElfFile } from '../elf/elf-file';
import type { ElfSymbol } from '../elf/symbol-table';
import { UnknownHookError } from '../errors';
import { HookSpec, globToRegExp } from './hook-spec';
import { suggestNames } from './near-names';

export interface HookTarget {
  /** The spec text this target came from. */
  spec: string;
  /** Module path as given in `modules`. */
  module: string;
  /** Linkage name of the function. */
  symbol: string;
  /** Link-time address. */
  address: number;
  /** STT_GNU_IFUNC: `address` is the resolver; the implementation is chosen at load time. */
  isIfunc: boolean;
}

export interface HookModule {
  path: string;
  elf: ElfFile;
}

type Demangle = (linkage: string) => string;

/** All names one function answers to, per module, built once per (ElfFile, demangler). */
interface NameIndex {
  exact: Map<string, ElfSymbol[]>;
  /** [name, symbol] pairs for glob matching (fragments such as .cold/.part excluded). */
  globNames: [string, ElfSymbol][];
  /** Names offered as suggestions (bare linkage names and short demangled names). */
  suggestions: string[];
}

const NO_DEMANGLER: Demangle = (s) => s;
const indexes = new WeakMap<ElfFile, WeakMap<Demangle, NameIndex>>();

export function resolveHook(spec: HookSpec, modules: HookModule[], demangle?: Demangle): HookTarget[] {
  if (modules.length === 0) throw new UnknownHookError(spec.text, 'the program (no modules are loaded)', []);
  const glob = globToRegExp(spec.pattern);
  let chosen: HookModule[];
  if (spec.module !== null) {
    chosen = modules.filter((m) => moduleMatches(spec.module!, m.path));
    if (chosen.length === 0) {
      const loaded = modules.map((m) => path.basename(m.path));
      const near = suggestNames(spec.module, unique(loaded.flatMap((b) => [b, shortModuleName(b)])), 5);
      const where = `module "${spec.module}", which is not loaded (loaded: ${loaded.join(', ')})`;
      throw new UnknownHookError(spec.text, where, near.map((m) => `${spec.pattern}@${m}`));
    }
  } else {
    chosen = modules;
  }

  // Demangling every symbol of a big C++ binary takes seconds: a plain name is looked up among
  // linkage names first, and the demangled index is built only for source-level names or a miss.
  const sourceLevel = /[:<>( ]/.test(spec.pattern);
  if (!sourceLevel || !demangle) {
    const plain = collect(spec, chosen, glob, null);
    if (plain.length || !demangle) return plain.length ? plain : fail(spec, modules, chosen, glob, demangle);
  }
  const targets = collect(spec, chosen, glob, demangle);
  return targets.length ? targets : fail(spec, modules, chosen, glob, demangle);
}

function collect(spec: HookSpec, chosen: HookModule[], glob: RegExp | null, demangle: Demangle | null | undefined): HookTarget[] {
  const targets: HookTarget[] = [];
  for (const mod of chosen) {
    const found = demangle ? matchIn(indexFor(mod.elf, demangle, true), spec.pattern, glob) : plainMatches(mod.elf, spec.pattern, glob);
    if (found.length === 0) continue;
    const seen = new Set<number>();
    for (const sym of found.sort((a, b) => a.address - b.address)) {
      if (seen.has(sym.address)) continue; // aliases share one breakpoint
      seen.add(sym.address);
      targets.push({ spec: spec.text, module: mod.path, symbol: sym.name, address: sym.address, isIfunc: sym.isIfunc });
    }
    // An exact name without a module: the first module that has it (executable, then libraries).
    if (spec.module === null && glob === null) break;
  }
  return targets;
}

function fail(spec: HookSpec, modules: HookModule[], chosen: HookModule[], glob: RegExp | null, demangle: Demangle | undefined): never {
  const wanted = glob ? spec.pattern.replace(/[*?]|\[[^\]]*\]/g, '') : spec.pattern;
  const candidates = chosen.flatMap((m) => indexFor(m.elf, demangle ?? NO_DEMANGLER, demangle !== undefined).suggestions);
  const where =
    spec.module !== null
      ? chosen.map((m) => m.path).join(', ')
      : modules.length > 1
        ? `${modules[0].path} or its libraries (${modules.slice(1).map((m) => path.basename(m.path)).join(', ')})`
        : modules[0].path;
  const suggestions = suggestNames(wanted, candidates, 5).map((s) => (spec.module !== null ? `${s}@${spec.module}` : s));
  throw new UnknownHookError(spec.text, where, suggestions);
}

/**
 * Linkage-name matching straight from the symbol table, without building a name index (which
 * costs most of a second on a binary the size of node): same names as the index's plain part.
 */
function plainMatches(elf: ElfFile, pattern: string, glob: RegExp | null): ElfSymbol[] {
  const out = new Set<ElfSymbol>();
  if (!glob) for (const sym of elf.symbols().byName(pattern)) if (sym.isFunction) out.add(sym);
  for (const sym of elf.symbols().functions()) {
    const at = sym.name.indexOf('@');
    const bare = at > 0 ? sym.name.slice(0, at) : sym.name;
    const clone = ENTRY_CLONE.exec(bare);
    if (glob) {
      if (FRAGMENT.test(bare)) continue;
      if (glob.test(bare) || glob.test(sym.name) || (clone && glob.test(clone[1]))) out.add(sym);
    } else if (clone && clone[1] === pattern) {
      out.add(sym);
    }
  }
  return [...out];
}

function matchIn(index: NameIndex, pattern: string, glob: RegExp | null): ElfSymbol[] {
  if (!glob) return [...(index.exact.get(pattern) ?? [])];
  const out = new Set<ElfSymbol>();
  for (const [name, sym] of index.globNames) if (glob.test(name)) out.add(sym);
  return [...out];
}

function indexFor(elf: ElfFile, demangle: Demangle, demangling: boolean): NameIndex {
  let perElf = indexes.get(elf);
  if (!perElf) indexes.set(elf, (perElf = new WeakMap()));
  let index = perElf.get(demangle);
  if (!index) perElf.set(demangle, (index = buildIndex(elf, demangling ? demangle : null)));
  return index;
}

const FRAGMENT = /\.(cold|part\.\d+)(\.|$)/;
const ENTRY_CLONE = /^(.+?)((\.(constprop|isra)\.\d+)+)$/;

function buildIndex(elf: ElfFile, demangle: Demangle | null): NameIndex {
  const exact = new Map<string, ElfSymbol[]>();
  const globNames: [string, ElfSymbol][] = [];
  const suggestions = new Set<string>();
  const add = (name: string, sym: ElfSymbol, forGlob: boolean) => {
    const list = exact.get(name);
    if (!list) exact.set(name, [sym]);
    else if (!list.includes(sym)) list.push(sym);
    if (forGlob) globNames.push([name, sym]);
  };
  for (const sym of elf.symbols().functions()) {
    const names = new Set<string>([sym.name]);
    const at = sym.name.indexOf('@');
    const bare = at > 0 ? sym.name.slice(0, at) : sym.name;
    names.add(bare);
    if (sym.version) names.add(bare + sym.version);
    // A .constprop/.isra clone is an entry point callers use instead of the original: it answers to the base name.
    const clone = ENTRY_CLONE.exec(bare);
    const base = clone ? clone[1] : bare;
    if (clone) names.add(base);
    const fragment = FRAGMENT.test(bare);
    // a fragment (.cold, .part) answers only to its own symbol name, also for C++ (whose demangled name ends in [clone .cold])
    if (demangle && !fragment) {
      const d = demangle(base);
      if (d && d !== base) {
        names.add(d);
        const short = demangledBaseName(d);
        names.add(short);
        // Every instance of a template answers to the name without template arguments.
        names.add(withoutTemplateArgs(short));
      }
    }
    for (const n of names) add(n, sym, !fragment);
    if (!fragment) suggestions.add(demangle && /^_[ZR]/.test(base) ? demangledBaseName(demangle(base)) : base);
  }
  return { exact, globNames, suggestions: [...suggestions] };
}

/**
 * A demangled name without what users leave out when they name a function: the parameter
 * list and qualifiers, a template function's return type, clone markers, the Rust hash.
 * `int ns::Klass::method(int) const` -> `ns::Klass::method`; `a::b::h0123456789abcdef` -> `a::b`.
 */
export function demangledBaseName(demangled: string): string {
  let s = demangled.trim();
  s = s.replace(/( \[clone [^\]]*\])+$/, '');
  s = s.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, ''); // Rust legacy hash, v0 crate disambiguators
  for (;;) {
    const t = s.replace(/\s*(const|volatile|&&|&|noexcept)$/, '');
    if (t === s) break;
    s = t;
  }
  if (s.endsWith(')')) {
    let depth = 0;
    for (let i = s.length - 1; i >= 0; i--) {
      const c = s[i];
      if (c === ')') depth++;
      else if (c === '(') {
        depth--;
        if (depth === 0) {
          // "f()": keep "operator()" intact when it is the name, not the parameter list.
          if (i > 0) s = s.slice(0, i);
          break;
        }
      }
    }
  }
  // Template functions are printed with their return type first: drop everything before the last top-level space.
  const operatorAt = topLevelOperator(s);
  const limit = operatorAt < 0 ? s.length : operatorAt;
  let depth = 0;
  let lastSpace = -1;
  for (let i = 0; i < limit; i++) {
    const c = s[i];
    if (c === '<' || c === '(' || c === '[' || c === '{') depth++;
    else if (c === '>' || c === ')' || c === ']' || c === '}') depth--;
    else if (c === ' ' && depth === 0) lastSpace = i;
  }
  return lastSpace >= 0 ? s.slice(lastSpace + 1) : s;
}

/** `ns::twice<int>` -> `ns::twice`, `Stack<int>::push` -> `Stack::push` (operators are left alone). */
export function withoutTemplateArgs(name: string): string {
  if (/\boperator\b/.test(name)) return name;
  let out = '';
  let depth = 0;
  for (const c of name) {
    if (c === '<') depth++;
    else if (c === '>') depth = Math.max(0, depth - 1);
    else if (depth === 0) out += c;
  }
  return out;
}

function topLevelOperator(s: string): number {
  const re = /(^|::|\s)operator(?=[^A-Za-z0-9_])/g;
  const m = re.exec(s);
  return m ? m.index + m[1].length : -1;
}

/** A module spec matches a path by absolute path, basename, or basename without the .so version or suffix. */
export function moduleMatches(want: string, modulePath: string): boolean {
  if (want.startsWith('/')) {
    if (path.resolve(want) === path.resolve(modulePath)) return true;
    try {
      return fs.realpathSync(want) === fs.realpathSync(modulePath);
    } catch {
      return false;
    }
  }
  const base = path.basename(modulePath);
  if (want === base) return true;
  const unversioned = base.replace(/(\.so)(\.\d+)+$/, '$1'); // libc.so.6 -> libc.so
  if (want === unversioned) return true;
  // maps show the real file (libstdc++.so.6.0.30) where users name the soname (libstdc++.so.6)
  if (/\.so\.\d+$/.test(want) && base.startsWith(want + '.')) return true;
  return want === shortModuleName(base);
}

/** libc.so.6 -> libc, libfoo-1.2.so -> libfoo, app -> app. */
function shortModuleName(base: string): string {
  return base.replace(/\.so(\.\d+)*$/, '').replace(/-[\d.]+$/, '');
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
