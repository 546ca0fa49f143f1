/**
 * Resolves a hook spec to the locations gdb's `break F` plants (function entries and clones,
 * split-off `.part` bodies, inlined copies; never `.cold` fragments), the way users expect from
 * stap's process(...).function("...") and gdb: exact names, globs, a chosen module, C++/Rust
 * demangled names matched by their last components; an unknown name is an error with "did you
 * mean" suggestions. The tracer (record, trace()) and `ustack symbols` both plan through planHook.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ElfFile } from '../elf/elf-file';
import { mayHaveFunctionNamed, type ElfSymbol } from '../elf/symbol-table';
import type { ResolvedHook } from '../capture/types';
import { UnknownHookError } from '../errors';
import { HookSpec, globMatchesName, globToRegExp, isGlob, splitQualified, wildMatch, withoutTemplateArgs } from './hook-spec';
import { hasFunctionNames, rustDwarfNames } from './dwarf-names';
import { parseCxxSignature } from './cxx-signature';
import { stripParameters } from './demangle';
import { suggestNames } from './near-names';
import { debugInfoFor, inlineHookTargets } from './inline-hooks';
import { hasDwarf, symbolSource } from '../elf/debuginfo';
import { inlinedCopies, type InlinedCopies } from './inlined-copy-index';
import { isSystemLibrary } from './system-libraries';
import { moduleDwarf } from './module-debug';

export { withoutTemplateArgs };

/**
 * What a location of a hook is, as gdb's `break F` sees it: the function's entry (also its
 * `.constprop.N`/`.isra.N` clones, which callers call instead), the out-of-line body GCC's partial
 * inlining split off (`F.part.N`, entered by a call from F's inlined head), or an inlined copy's
 * entry. A `.cold` fragment is a second range of one instance, reached by a jump: never an entry.
 */
export type HookLocationKind = 'entry' | 'part' | 'inlined' | 'cold';

export interface HookTarget {
  /** The spec text this target came from. */
  spec: string;
  /** Module path as given in `modules`. */
  module: string;
  /** Linkage name of the function (for inlined copies, the qualified source name). */
  symbol: string;
  /** Link-time address. */
  address: number;
  /** STT_GNU_IFUNC: `address` is the resolver; the implementation is chosen at load time. */
  isIfunc: boolean;
  /** 'cold' only when the spec names the fragment itself (`validate.cold`). */
  kind: HookLocationKind;
  /**
   * An entry whose line table marks where its prologue ends (LLVM's prologue_end: rustc): the address gdb's
   * `break F` uses there. The hook stays at `address` (the same calls, frame 0 = F); an inlined copy
   * of the same spec that starts exactly there is the same breakpoint to gdb, and is not hooked twice.
   */
  breakAddress?: number;
}

/** A `.cold` fragment of a matched function, not hooked (listed by `ustack symbols`). */
export interface SkippedFragment {
  module: string;
  symbol: string;
  address: number;
}

export interface HookModule {
  path: string;
  /** The ELF file whose symbol table is searched (symbolSource: the debug file's full .symtab when stripped). */
  elf: ElfFile;
  /** Inlined copies are searched here (the module's parsed DWARF or its on-disk index; null or absent: not searched). */
  debug?: InlinedCopies | null;
  /** A system library (system-libraries.ts): a glob without `@module` does not search it. */
  system?: boolean;
}

/** A location as the capture's `hooks` list it (link-time address in hex). */
export function resolvedHookOf(t: HookTarget): ResolvedHook {
  return {
    module: t.module,
    symbol: t.symbol,
    address: '0x' + t.address.toString(16),
    ...(t.kind === 'inlined' ? { inlined: true } : {}),
    ...(t.kind === 'part' || t.kind === 'cold' ? { kind: t.kind } : {}),
  };
}

/** Everything one spec resolves to: the locations hooks are planted at, and the fragments left out. */
export interface HookPlan {
  spec: string;
  locations: HookTarget[];
  skipped: SkippedFragment[];
}

type Demangle = (linkage: string) => string;

/**
 * How `record` searches a loaded module, so `ustack symbols` answers the same: symbols from the
 * module (or its debug file's full .symtab when stripped), inlined copies from its DWARF: the
 * executable's own DWARF directly, a library's (or a stripped executable's separate debug file)
 * through the per-build-id index (inlined-copy-index.ts), read only when a hook needs it.
 */
export function hookModule(modulePath: string, elf: ElfFile, isExecutable: boolean): HookModule {
  const source = symbolSource(elf);
  if (isExecutable && elf.hasDebugInfo) return { path: modulePath, elf: source, debug: debugInfoFor(elf) };
  let copies: InlinedCopies | null | undefined;
  const lazy: InlinedCopies & { prologueEnd?: (entry: number, end: number) => number | null } = { inlinedInstances: () => (copies === undefined ? (copies = inlinedCopies(elf)) : copies)?.inlinedInstances() ?? [] };
  // rustc's code marks its prologues' ends (gdb breaks there): read the line table for it, never for other libraries (glibc's is large)
  if (hasDwarf(elf) && builtByRustc(elf)) lazy.prologueEnd = (entry, end) => moduleDwarf(elf).lines?.prologueEnd(entry, end) ?? null;
  const system = !isExecutable && isSystemLibrary(modulePath);
  return { path: modulePath, elf: source, debug: hasDwarf(elf) ? lazy : null, ...(system ? { system } : {}) };
}

/** Per function symbol: its name parts, computed once per (ElfFile, demangler). */
interface SymbolNames {
  sym: ElfSymbol;
  /** Linkage name without @version. */
  bare: string;
  /** Linkage name without clone suffixes (.constprop.N, .isra.N, .part.N, .cold, .lto_priv.N, .llvm.N). */
  base: string;
  kind: 'entry' | 'part' | 'cold';
  /** Source-level names the function answers to: demangled, without parameters, without template arguments. */
  source: string[] | null;
}

interface NameIndex {
  entries: SymbolNames[];
  /** Names offered as suggestions (bare C names and short demangled names, no fragments). */
  suggestions: string[] | null;
}

const NO_DEMANGLER: Demangle = (s) => s;
const indexes = new WeakMap<ElfFile, WeakMap<Demangle, NameIndex>>();

/** The out-of-line locations (entries and split-off parts) of a spec; an UnknownHookError when there are none. */
export function resolveHook(spec: HookSpec, modules: HookModule[], demangle?: Demangle): HookTarget[] {
  const plan = planHook(spec, modules.map((m) => ({ ...m, debug: null })), demangle);
  if (plan.locations.length === 0) throw unknownHookError(spec, modules, demangle);
  return plan.locations;
}

/**
 * The locations gdb's `break F` plants for a spec, in the given modules (already narrowed to the
 * spec's @module by the caller or not): every entry of every concrete instance of the functions
 * the spec names, the `.part.N` bodies split off them, and (in modules with `debug`) the entries of
 * their inlined copies; `.cold` fragments are listed in `skipped`. A plain name matches the last
 * components of qualified names (`node_alloc` and `Lexer::next` match `calc::node_alloc` and
 * `calc::Lexer::next`), like gdb's wild matching. A plain name searches every module, as gdb does
 * (an exact name skips modules whose string tables cannot hold it: mayDefine); a glob without
 * `@module` searches only the program's own code, never a system library, so what it hooks does not
 * depend on the debug packages installed. Empty when nothing matched: see unknownHookError.
 */
export function planHook(spec: HookSpec, modules: HookModule[], demangle?: Demangle): HookPlan {
  const plan: HookPlan = { spec: spec.text, locations: [], skipped: [] };
  // a C++ parameter list (`K::f(const char*) const`, its `*` no glob): the functions named K::f, then those whose list is the same type by type
  const signature = demangle ? parseCxxSignature(spec.pattern) : null;
  if (signature) spec = { ...spec, pattern: signature.name };
  const glob = globToRegExp(spec.pattern);
  const sameList = (linkage: string | null): boolean =>
    !signature || linkage === null || !/^_Z/.test(linkage) || parseCxxSignature(demangledBaseName(demangle!(linkage), true))?.signature === signature.signature;
  const chosen = spec.module !== null ? modules.filter((m) => moduleMatches(spec.module!, m.path)) : glob !== null ? modules.filter((m) => !m.system) : modules;
  for (const mod of chosen) {
    // every module, as gdb's `break F`; a module whose string tables cannot hold the name costs no symbol table
    if (glob === null && !mayDefine(mod, spec.pattern, demangle !== undefined)) continue;
    const found = outOfLine(mod.elf, spec.pattern, glob, demangle, rustNamesOf(mod));
    const seen = new Set<number>();
    const here: HookTarget[] = [];
    for (const n of found.sort((a, b) => a.sym.address - b.sym.address)) {
      if (n.kind === 'cold' && !namesItself(n, spec.pattern)) {
        if (!plan.skipped.some((s) => s.module === mod.path && s.address === n.sym.address)) plan.skipped.push({ module: mod.path, symbol: n.sym.name, address: n.sym.address });
        continue;
      }
      if (seen.has(n.sym.address)) continue; // aliases share one breakpoint
      if (!sameList(n.base)) continue;
      seen.add(n.sym.address);
      const t: HookTarget = { spec: spec.text, module: mod.path, symbol: n.sym.name, address: n.sym.address, isIfunc: n.sym.isIfunc, kind: n.kind };
      const after = n.kind === 'entry' && n.sym.size > 0 && hasPrologueEnds(mod.debug) ? mod.debug.prologueEnd(n.sym.address, n.sym.address + n.sym.size) : null;
      if (after !== null && after > n.sym.address) {
        t.breakAddress = after;
        seen.add(after); // gdb's one location for F and for a copy inlined where F's prologue ends (RawVec::grow_one's RawVecInner::grow_one)
      }
      here.push(t);
    }
    if (mod.debug) {
      for (const t of inlineHookTargets(spec, [{ path: mod.path, elf: mod.elf, debug: mod.debug }])) {
        if (seen.has(t.address) || !sameList(t.linkage)) continue;
        seen.add(t.address);
        here.push({ spec: spec.text, module: mod.path, symbol: t.symbol, address: t.address, isIfunc: false, kind: 'inlined' });
      }
    }
    plan.locations.push(...here.sort((a, b) => a.address - b.address));
  }
  return plan;
}

/**
 * False when no function of the module can answer to the exact name `pattern` (mayHaveFunctionNamed:
 * its C name, a clone or version of it, or for C++/Rust the last identifier as a mangled
 * `<length><identifier>`) and no inlined copy can either.
 */
function mayDefine(mod: HookModule, pattern: string, mangled: boolean): boolean {
  const last = mangled ? lastIdentifier(pattern) : null;
  if (mangled && last === null && /::|operator|[<(~]/.test(pattern)) return true; // operators, lambdas, destructors: no mangled needle
  if (mangled && pattern.startsWith('<')) return true; // a Rust `<Type as Trait>::method` path: inlined copies are found by demangling
  if (mayHaveFunctionNamed(mod.elf, pattern, last ? last.length + last : null)) return true;
  if (!mod.debug) return false;
  const named = (q: string) => q.includes(pattern) || (q.includes('<') && withoutTemplateArgs(q).includes(pattern));
  return mod.debug.inlinedInstances().some((i) => named(i.qualifiedName) || i.linkageName === pattern);
}

/** The error for a spec that matched nothing: where it looked and the closest names (demangled). */
export function unknownHookError(spec: HookSpec, modules: HookModule[], demangle?: Demangle): UnknownHookError {
  if (modules.length === 0) return new UnknownHookError(spec.text, 'the program (no modules are loaded)', []);
  const chosen = spec.module !== null ? modules.filter((m) => moduleMatches(spec.module!, m.path)) : isGlob(spec.pattern) ? modules.filter((m) => !m.system) : modules;
  if (chosen.length === 0 && spec.module === null) {
    return new UnknownHookError(spec.text, `the program's own code (a glob does not search system libraries unless it names them: ${spec.pattern}@libc.so.6, or every module: ${spec.pattern}@*)`, []);
  }
  if (chosen.length === 0) {
    const loaded = modules.map((m) => path.basename(m.path));
    const near = suggestNames(spec.module!, unique(loaded.flatMap((b) => [b, shortModuleName(b)])), 5);
    const where = `module "${spec.module}", which is not loaded (loaded: ${loaded.join(', ')})`;
    return new UnknownHookError(spec.text, where, near.map((m) => `${spec.pattern}@${m}`));
  }
  const signature = demangle ? parseCxxSignature(spec.pattern) : null;
  const pattern = signature ? signature.name : spec.pattern;
  const glob = globToRegExp(pattern);
  const wanted = glob ? pattern.replace(/[*?]|\[[^\]]*\]/g, '') : pattern;
  const candidates = new Set<string>();
  for (const m of chosen) for (const s of suggestionsOf(m.elf, demangle)) candidates.add(s);
  // names from inlined-only functions too (static helpers with no symbol)
  for (const m of chosen) if (m.debug) for (const i of m.debug.inlinedInstances()) candidates.add(i.qualifiedName);
  // and DWARF's names of out-of-line functions, as frames show them (Rust: `crate::{impl#0}::method`, `Type::method`)
  for (const m of chosen) if (hasFunctionNames(m.debug)) for (const names of rustDwarfNames(m.debug).values()) for (const n of names) candidates.add(n);
  const where =
    spec.module !== null
      ? chosen.map((m) => m.path).join(', ')
      : chosen.length < modules.length
        ? `the program's own code (${chosen.map((m) => path.basename(m.path)).join(', ')}; a glob does not search system libraries unless it names them: ${spec.pattern}@libc.so.6, or every module: ${spec.pattern}@*)`
        : modules.length > 1
        ? `${modules[0].path} or its libraries (${modules.slice(1).map((m) => path.basename(m.path)).join(', ')})`
        : modules[0].path;
  const suggestions = nearNames(wanted, [...candidates]).map((s) => (spec.module !== null ? `${s}@${spec.module}` : s));
  return new UnknownHookError(spec.text, where, suggestions);
}

/**
 * Close names for a typo: whole names first; for a qualified name (`calc::Lexer::idnet`) also names
 * whose last components are close (`calc::Lexer::ident`); for a plain name, qualified names whose last
 * component is close (`node_aloc` -> `calc::node_alloc`).
 */
function nearNames(wanted: string, candidates: string[]): string[] {
  const direct = suggestNames(wanted, candidates, 5);
  if (direct.length >= 5) return direct;
  const parts = splitQualified(wanted);
  const byTail = new Map<string, string[]>();
  for (const c of candidates) {
    const cp = splitQualified(c);
    if (cp.length < parts.length) continue;
    const tail = cp.slice(cp.length - parts.length).join('::');
    const list = byTail.get(tail);
    if (list) list.push(c);
    else byTail.set(tail, [c]);
  }
  const out = [...direct];
  for (const tail of suggestNames(wanted, byTail.keys(), 5)) {
    for (const c of byTail.get(tail)!) if (!out.includes(c) && out.length < 5) out.push(c);
  }
  return out;
}

function namesItself(n: SymbolNames, pattern: string): boolean {
  return pattern === n.bare || pattern === n.sym.name || (n.source !== null && n.source.some((s) => s === pattern && /\[clone /.test(s)));
}

/** The module's .comment names rustc (every Rust cdylib's does). */
function builtByRustc(elf: ElfFile): boolean {
  const comment = elf.section('.comment');
  return comment !== null && comment.data.includes('rustc version');
}

function hasPrologueEnds(debug: unknown): debug is { prologueEnd(entry: number, end: number): number | null } {
  return typeof (debug as { prologueEnd?: unknown } | null)?.prologueEnd === 'function';
}

const RUST_LEGACY = /^_ZN.*17h[0-9a-f]{16}E$/;

/** The module's Rust functions' DWARF names by linkage name, read on first use; null without parsed DWARF. */
function rustNamesOf(mod: HookModule): (() => Map<string, string[]>) | null {
  const debug = mod.debug;
  return hasFunctionNames(debug) ? () => rustDwarfNames(debug) : null;
}

/**
 * The source names a symbol answers to: a Rust function's DWARF names (what gdb and frames show,
 * `crate::{impl#0}::method`) besides its demangled ones (`<T as Trait>::method`). A v0 Rust symbol
 * without DWARF is a minimal symbol to gdb, named with its crate's disambiguator
 * (`rustc_demangle[c5a78273c295e539]::demangle`, std's private copy), so a qualified name does not match it.
 */
function sourceNames(n: SymbolNames, pattern: string, rustNames: (() => Map<string, string[]>) | null): readonly string[] {
  // only Rust symbols (v0, legacy with its hash): a C++ name's DWARF name is its demangled one, and reading every unit's names costs
  if (!rustNames || !n.source || !(n.base.startsWith('_R') || RUST_LEGACY.test(n.base))) return n.source ?? [];
  const dwarf = rustNames().get(n.base);
  if (dwarf) return [...dwarf, ...n.source];
  return n.base.startsWith('_R') && pattern.includes('::') ? [] : n.source;
}

/** Function symbols of one module that `pattern` names (cold fragments included, for `skipped`). */
function outOfLine(elf: ElfFile, pattern: string, glob: RegExp | null, demangle: Demangle | undefined, rustNames: (() => Map<string, string[]>) | null = null): SymbolNames[] {
  if (glob) {
    // Linkage names first; demangled names only for source-level globs or when linkage names match nothing.
    const sourceLevel = /[:<>( ]/.test(pattern);
    if (!sourceLevel || !demangle) {
      const plain = indexFor(elf, NO_DEMANGLER, false).entries.filter((n) => glob.test(n.base) || glob.test(n.bare) || glob.test(n.sym.name));
      const hooked = plain.filter((n) => n.kind !== 'cold');
      if (hooked.length || !demangle) return withFragments(elf, hooked, demangle);
    }
    // a glob without a parameter list is matched against names, never against the parameter types (`*::Visit*` is not `accept(Visitor&)`)
    const withParameters = pattern.includes('(');
    const all = indexFor(elf, demangle!, true).entries.filter((n) => n.kind !== 'cold' && (glob.test(n.base) || glob.test(n.bare) || sourceNames(n, pattern, rustNames).some((s) => globMatchesName(glob, withParameters ? s : stripParameters(s)))));
    return withFragments(elf, all, demangle);
  }
  const out: SymbolNames[] = [];
  const take = (n: SymbolNames) => {
    if (!out.includes(n)) out.push(n);
  };
  // C names (and linkage names given as such), with their clones and fragments
  for (const sym of elf.symbols().byName(pattern)) if (sym.isFunction) take(namesOf(sym, null));
  // One pass over the function symbols, without building a name index: clones and fragments
  // (`pattern.constprop.0`), and mangled names in which the pattern's last identifier appears as
  // <length><identifier> (Itanium, Rust): only those are demangled (demangling all of node's costs seconds).
  const clonePrefix = pattern + '.';
  const last = demangle ? lastIdentifier(pattern) : null;
  const needle = last ? last.length + last : null;
  const mangled: ElfSymbol[] = [];
  for (const sym of elf.symbols().functions()) {
    const name = sym.name;
    if (name.startsWith(clonePrefix)) {
      const n = namesOf(sym, null);
      if (n.base === pattern) take(n);
    } else if (needle && (name.startsWith('_Z') || name.startsWith('_R')) && name.includes(needle)) mangled.push(sym);
  }
  if (!demangle) return out;
  const candidates = last ? mangled.map((sym) => namesOf(sym, demangle)) : indexFor(elf, demangle, true).entries;
  for (const n of candidates) if (sourceNames(n, pattern, rustNames).some((s) => wildMatch(s, pattern))) take(n);
  return out;
}

/** The `.cold` fragments of the matched functions, so `skipped` can name them. */
function withFragments(elf: ElfFile, found: SymbolNames[], demangle: Demangle | undefined): SymbolNames[] {
  const out = [...found];
  for (const n of found) for (const sym of elf.symbols().byName(n.bare + '.cold')) if (sym.isFunction) out.push(namesOf(sym, demangle ?? null));
  return out;
}

function lastIdentifier(pattern: string): string | null {
  if (/\boperator\b|[{}~]/.test(pattern)) return null; // operators, lambdas, destructors are not mangled as <length><name>
  const parts = splitQualified(withoutTemplateArgs(demangledBaseName(pattern)));
  const last = parts[parts.length - 1];
  return /^[A-Za-z][A-Za-z0-9_]*$/.test(last) ? last : null;
}

function suggestionsOf(elf: ElfFile, demangle: Demangle | undefined): string[] {
  const index = indexFor(elf, demangle ?? NO_DEMANGLER, demangle !== undefined);
  if (!index.suggestions) {
    const s = new Set<string>();
    for (const n of index.entries) {
      if (n.kind === 'cold') continue;
      if (n.source && /^_[ZR]/.test(n.base)) s.add(withoutCloneMarks(n.source[1] ?? n.source[0]));
      else s.add(n.base);
    }
    index.suggestions = [...s];
  }
  return index.suggestions;
}

function withoutCloneMarks(name: string): string {
  return name.replace(/( \[clone [^\]]*\])+$/, '');
}

function indexFor(elf: ElfFile, demangle: Demangle, demangling: boolean): NameIndex {
  let perElf = indexes.get(elf);
  if (!perElf) indexes.set(elf, (perElf = new WeakMap()));
  let index = perElf.get(demangle);
  if (!index) {
    const d = demangling ? demangle : null;
    index = { entries: elf.symbols().functions().map((sym) => namesOf(sym, d)), suggestions: null };
    perElf.set(demangle, index);
  }
  return index;
}

const CLONE_SUFFIXES = /((?:\.(?:constprop|isra|part|cold|lto_priv|localalias|llvm)(?:\.\d+)?)+)$/; // .llvm.N: a local name ThinLTO promoted

function namesOf(sym: ElfSymbol, demangle: Demangle | null): SymbolNames {
  const at = sym.name.indexOf('@');
  const bare = at > 0 ? sym.name.slice(0, at) : sym.name;
  // most names have no dot: skip the suffix regex for them (it costs seconds over node's symbols)
  const m = bare.includes('.') ? CLONE_SUFFIXES.exec(bare) : null;
  const suffixes = m ? m[1] : '';
  const base = m ? bare.slice(0, bare.length - suffixes.length) : bare;
  const kind = /\.cold(\.|$)/.test(suffixes) ? 'cold' : /\.part(\.|$)/.test(suffixes) ? 'part' : 'entry';
  let source: string[] | null = null;
  if (demangle && /^_[ZR]/.test(base)) {
    const d = demangle(base);
    if (d && d !== base) {
      const short = demangledBaseName(d);
      // full demangled name (with parameters), the name as frames show it, and every template instance's common name
      source = unique([d, short, withoutTemplateArgs(short)]);
    }
  }
  return { sym, bare, base: base || bare, kind, source };
}

/**
 * A demangled name without what users leave out when they name a function: the parameter
 * list and qualifiers, a template function's return type, clone markers, the Rust hash.
 * `int ns::Klass::method(int) const` -> `ns::Klass::method`; `a::b::h0123456789abcdef` -> `a::b`.
 */
export function demangledBaseName(demangled: string, keepParameters = false): string {
  let s = demangled.trim();
  s = s.replace(/( \[clone [^\]]*\])+$/, '');
  s = s.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, ''); // Rust legacy hash, v0 crate disambiguators
  if (keepParameters) return s;
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


function topLevelOperator(s: string): number {
  const re = /(^|::|\s)operator(?=[^A-Za-z0-9_])/g;
  const m = re.exec(s);
  return m ? m.index + m[1].length : -1;
}

/** A module spec matches a path by absolute path, basename, or basename without the .so version or suffix; a glob (`*`, `lib*.so*`) by basename or path. */
export function moduleMatches(want: string, modulePath: string): boolean {
  const glob = globToRegExp(want);
  if (glob) return glob.test(path.basename(modulePath)) || glob.test(modulePath);
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
