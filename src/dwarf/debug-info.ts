/**
 * Function names and inline frames from .debug_info. Only the compilation unit that covers a
 * looked-up pc is parsed (found through .debug_aranges or unit ranges), once, and cached, so a big
 * binary with libstd units costs little when few pcs are asked for.
 * Naming follows gdb: C++ functions by their demangled linkage name without parameters
 * (`ns::Klass::method`, `Pool<104ul>::Alloc`, `main::{lambda(int, int)#1}::operator()`; a member of
 * a local class without the enclosing function, `Local::f`), others (C, Rust) by their DIE name
 * qualified with the enclosing namespaces, classes and impl blocks (`src_rust::parser::parse_value`,
 * `demangle_driver::{impl#0}::render`, `demangle_driver::render_all::{closure#0}<demangle_driver::Plain>`).
 */
import { CallSite, CallSiteParameter, TailCallStep, UnitCallSites, tailCallChainSteps } from './debug-info-callsites';
import { ByteReader } from './byte-reader';
import { DW_AT, DW_LANG_Rust } from './debug-info-constants';
import { isAddressForm, readAddress, readNumber, skipForm } from './debug-info-forms';
import { DwarfData } from './debug-info-data';
import { SubprogramDie, UnitScopes } from './debug-info-scopes';
import { Unit, UnitIndex } from './debug-info-units';
import { DebugSections } from './debug-sections';
import { LineTable } from './line-table';
import { demangle, stripParameters } from '../symbolize/demangle';
import { splitQualified } from '../symbolize/hook-spec';

export interface SourceFrame {
  function: string;
  linkageName: string | null;
  file: string | null;
  line: number | null;
  inlined: boolean;
}

export interface FunctionInfo {
  name: string;
  qualifiedName: string;
  linkageName: string | null;
  ranges: [number, number][];
  declFile: string | null;
  declLine: number | null;
}

/** One inlined copy of a function (a DW_TAG_inlined_subroutine), where a breakpoint on it goes. */
export interface InlinedInstance {
  name: string;
  qualifiedName: string;
  linkageName: string | null;
  /**
   * Link-time entry, where gdb 13's `break` plants its breakpoint (and where framesAt(pc, true)
   * sees the inlined call as not entered yet): DW_AT_low_pc, else the start of the first listed
   * DW_AT_ranges range. gdb 13 ignores DW_AT_entry_pc, which GCC often puts elsewhere in the block.
   */
  entry: number;
  /** DW_AT_entry_pc as link-time address (a DWARF 5 constant form is an offset from the block start), or null. */
  entryPc: number | null;
}

interface ResolvedName {
  name: string;
  qualifiedName: string;
  linkageName: string | null;
  declFile: string | null;
  declLine: number | null;
}

const FRAME_CACHE_LIMIT = 50_000;

/** A tail call made by a function: its callee's entry (null when unknown) and where the jump instruction ends. */
export interface TailCallSite {
  target: number | null;
  /** An indirect jump whose target is a register's value at the function's entry (DW_OP_entry_value), or -1. */
  targetEntryOf: number;
  /** Parameter values the jump passes on, where DWARF gives them. */
  parameters: readonly CallSiteParameter[];
  targetName: string | null;
  /** The callee's linkage name (C++/Rust mangled, else its name): how another module's symbol table knows it. */
  targetLinkage: string | null;
  returnPc: number;
  file: string | null;
  line: number | null;
}

/** A register of the calling frame (DWARF number) as the unwinder recovered it, link-time adjusted; undefined when unknown. */
export type CallerRegister = (dwarfRegister: number) => number | undefined;

/** Call-site values that name a register of the calling frame (DW_OP_bregN) turned into constants where it is known. */
export function resolveCallerValues(parameters: readonly CallSiteParameter[], callerRegister?: CallerRegister): readonly CallSiteParameter[] {
  if (!callerRegister || !parameters.some((p) => p.breg >= 0)) return parameters;
  const out: CallSiteParameter[] = [];
  for (const p of parameters) {
    if (p.breg < 0) {
      out.push(p);
      continue;
    }
    const v = callerRegister(p.breg);
    if (v !== undefined) out.push({ register: p.register, constant: v + p.constant, entryOf: -1, breg: -1 });
  }
  return out;
}

/** Finds a function's link-time entry from its (linkage) name, e.g. through the ELF symbol table. */
export type EntryByName = (name: string) => number | null;

export class DebugInfo {
  private readonly scopes = new Map<number, UnitScopes | null>();
  private readonly names = new Map<number, ResolvedName>();
  private readonly frameCache = new Map<number, SourceFrame[]>();
  private functionList: FunctionInfo[] | null = null;
  private inlinedList: InlinedInstance[] | null = null;
  private readonly callSites = new Map<number, UnitCallSites | null>();
  /** Function DIE (and the DIEs it links to) -> entry address; NaN when several functions share the DIE. */
  private readonly dieEntries = new Map<number, number>();
  private readonly entriesIndexed = new Set<number>();
  private readonly tailCallCache = new Map<number, TailCallSite[]>();
  private readonly needsCache = new Map<number, readonly number[]>();
  /** Problems met while parsing (a damaged unit is skipped, not fatal). */
  readonly warnings: string[] = [];

  private constructor(
    private readonly data: DwarfData,
    private readonly units: UnitIndex,
    private readonly lines: LineTable | null,
    private readonly entryByName: EntryByName | null,
  ) {}

  /**
   * null when the sections have no .debug_info. Pass the module's LineTable to share its caches,
   * and its symbol table's lookup (`entryByName`) so that a call site naming a function declared in
   * the caller's unit and defined in another one finds that definition's entry by linkage name, as
   * gdb resolves such call targets through its minimal symbols.
   */
  static fromSections(s: DebugSections, lines?: LineTable | null, entryByName?: EntryByName | null): DebugInfo | null {
    if (!s.section('.debug_info')) return null;
    if (lines) return new DebugInfo(lines.data, lines.units, lines, entryByName ?? null);
    const data = new DwarfData(s);
    const units = new UnitIndex(data);
    return new DebugInfo(data, units, LineTable.fromData(data, units), entryByName ?? null);
  }

  /**
   * Frames at link-time `pc`, innermost first: the inlined subroutines (inlined: true), then the
   * function they were inlined into. The innermost frame's file:line is the line table's at pc (with
   * gdb's preference for is_stmt rows, LineTable.lookupStatement); each
   * outer frame's is the call site (DW_AT_call_file/call_line) of the frame inside it.
   * Callers pass pc - 1 for return addresses. Empty when no DWARF function covers pc.
   * `atBreakpoint`: pc is where a hook/breakpoint stopped (frame 0); as gdb does there, inlined calls
   * that begin exactly at pc are not entered yet, so a hook on `f` reports `f` as frame 0.
   * `hookedInline`: the breakpoint is an inlined copy's entry of these functions (qualified names):
   * like gdb, the inlined calls beginning at pc are left out from the innermost outwards only up to
   * the hooked function, which stays frame 0 (a hook on `g`, inlined at `f`'s very first
   * instruction inside an inlined `g`, shows `g`, not `f` nor g's caller).
   */
  framesAt(pc: number, atBreakpoint = false, hookedInline?: readonly string[]): SourceFrame[] {
    if (atBreakpoint && hookedInline && hookedInline.length > 0) return this.computeFrames(pc, true, hookedInline);
    const key = atBreakpoint ? -pc - 1 : pc;
    const hit = this.frameCache.get(key);
    if (hit) return hit;
    const frames = this.computeFrames(pc, atBreakpoint);
    if (this.frameCache.size >= FRAME_CACHE_LIMIT) this.frameCache.clear();
    this.frameCache.set(key, frames);
    return frames;
  }

  /** gdb's breakpoint address past the prologue of the function at [entry, end) (LineTable.prologueEnd), or null. */
  prologueEnd(entry: number, end: number): number | null {
    return this.lines?.prologueEnd(entry, end) ?? null;
  }

  /** The sections and unit index this DebugInfo reads, for readers of other DIEs (parameters, types). */
  get dwarf(): { data: DwarfData; units: UnitIndex } {
    return { data: this.data, units: this.units };
  }

  /** How many units the module has and how many have been parsed so far (parsing is lazy). */
  get stats(): { units: number; parsedUnits: number } {
    return { units: this.units.units().length, parsedUnits: this.scopes.size };
  }

  /** Every function with code, named as in frames; parses all units on first call. */
  functions(): readonly FunctionInfo[] {
    if (this.functionList) return this.functionList;
    const list: FunctionInfo[] = [];
    for (const unit of this.units.units()) {
      if (!unit.isCode) continue;
      const scopes = this.scopesOf(unit);
      if (!scopes) continue;
      for (let s = 0; s < scopes.scopeDie.length; s++) {
        if (scopes.scopeInlined[s]) continue;
        const n = this.resolve(scopes.scopeDie[s]);
        const r = scopes.scopeRanges[s];
        const ranges: [number, number][] = [];
        for (let i = 0; i < r.length; i += 2) ranges.push([r[i], r[i + 1]]);
        list.push({ name: n.name, qualifiedName: n.qualifiedName, linkageName: n.linkageName, ranges, declFile: n.declFile, declLine: n.declLine });
      }
    }
    this.functionList = list;
    return list;
  }

  /** Every inlined copy of every function (DW_TAG_inlined_subroutine with code); parses all units on first call. */
  inlinedInstances(): readonly InlinedInstance[] {
    if (this.inlinedList) return this.inlinedList;
    const list: InlinedInstance[] = [];
    for (const unit of this.units.units()) {
      if (!unit.isCode) continue;
      const scopes = this.scopesOf(unit);
      if (!scopes) continue;
      for (let s = 0; s < scopes.scopeDie.length; s++) {
        if (!scopes.scopeInlined[s] || scopes.scopeOrigin[s] < 0) continue;
        let entry: { entry: number; entryPc: number | null };
        try {
          entry = this.inlinedEntry(unit, scopes.scopeDie[s], scopes.scopeRanges[s]);
        } catch (e) {
          if (this.warnings.length < 20) this.warnings.push(e instanceof Error ? e.message : String(e));
          continue;
        }
        const n = this.resolve(scopes.scopeOrigin[s]);
        list.push({ name: n.name, qualifiedName: n.qualifiedName, linkageName: n.linkageName, ...entry });
      }
    }
    this.inlinedList = list;
    return list;
  }

  /** Entry pc of an inlined subroutine DIE; UnitScopes keeps only ranges, so DW_AT_entry_pc/low_pc are read here. */
  private inlinedEntry(unit: Unit, dieOffset: number, ranges: number[]): { entry: number; entryPc: number | null } {
    const r = new ByteReader(this.data.info, dieOffset);
    const abbrev = this.data.abbrevTable(unit.abbrevOffset).get(r.uleb128());
    let lowPc = NaN;
    let entryAddress = NaN;
    let entryOffset = NaN;
    if (abbrev) {
      for (let i = 0; i < abbrev.attrs.length; i++) {
        const form = abbrev.forms[i];
        if (abbrev.attrs[i] === DW_AT.low_pc) lowPc = readAddress(r, form, unit, this.data);
        else if (abbrev.attrs[i] === DW_AT.entry_pc) {
          if (isAddressForm(form)) entryAddress = readAddress(r, form, unit, this.data);
          else entryOffset = readNumber(r, form, unit, abbrev.implicitConsts[i]);
        } else skipForm(r, form, unit);
      }
    }
    // gdb's entry pc of a block: low_pc, else the start of its first listed range
    const start = Number.isNaN(lowPc) ? ranges[0] : lowPc;
    // DWARF 5: a constant DW_AT_entry_pc is an offset from the block's beginning address
    const entryPc = Number.isNaN(entryAddress) ? start + entryOffset : entryAddress;
    return { entry: start, entryPc: Number.isNaN(entryPc) ? null : entryPc };
  }

  /** The out-of-line function whose code holds link-time `pc`: its entry address and DIE offset. */
  functionContaining(pc: number): { entry: number; die: number } | null {
    const unit = this.units.unitForPc(pc);
    const scopes = unit ? this.scopesOf(unit) : null;
    if (!scopes) return null;
    const s = scopes.physicalAt(pc);
    return s < 0 ? null : { entry: scopes.scopeRanges[s][0], die: scopes.scopeDie[s] };
  }

  /**
   * The call site whose return address is link-time `returnPc`: the callee's entry (null when the
   * call is indirect or the callee cannot be found) and whether it is a tail call.
   */
  callSiteAt(returnPc: number): { callee: number | null; calleeDie: number; tailCall: boolean; parameters: readonly CallSiteParameter[] } | null {
    const site = this.callSiteRecord(returnPc);
    if (!site) return null;
    return { callee: this.calleeEntry(site), calleeDie: site.origin, tailCall: site.tailCall, parameters: site.parameters };
  }

  /** The tail calls (DW_AT_call_tail_call sites) in the function whose entry is `functionEntry`. */
  tailCallSites(functionEntry: number): TailCallSite[] {
    const cached = this.tailCallCache.get(functionEntry);
    if (cached) return cached;
    const list: TailCallSite[] = [];
    const fn = this.functionContaining(functionEntry);
    const unit = fn ? this.units.unitForPc(functionEntry) : null;
    const sites = unit ? this.callSitesOf(unit) : null;
    if (fn && sites) {
      for (const site of sites.tailCalls(fn.die)) {
        const loc = this.lines?.lookupStatement(site.returnPc - 1) ?? null;
        list.push({
          target: this.calleeEntry(site),
          targetEntryOf: site.origin < 0 && site.target ? site.target.entryOf : -1,
          parameters: site.parameters,
          targetName: site.origin >= 0 ? this.resolve(site.origin).qualifiedName : null,
          targetLinkage: site.origin >= 0 ? (this.resolve(site.origin).linkageName ?? this.resolve(site.origin).name) : null,
          returnPc: site.returnPc,
          file: loc?.file ?? null,
          line: loc?.line ?? null,
        });
      }
    }
    this.tailCallCache.set(functionEntry, list);
    return list;
  }

  /**
   * The frames a debugger shows between a frame stopped at link-time `pc` and its caller whose
   * return address is `returnPc`, for functions that tail-called their way from the caller's
   * callee to pc's function: innermost first. With several possible chains only the steps they all
   * share (at the start and at the end) are returned, as gdb shows them.
   */
  tailCallChain(returnPc: number, pc: number, callerRegister?: CallerRegister): TailCallStep[] {
    const site = this.callSiteAt(returnPc);
    if (!site) return [];
    const callee = site.callee ?? this.indirectCallee(returnPc, callerRegister);
    if (callee === null) return [];
    const inner = this.functionContaining(pc);
    if (!inner || inner.entry === callee) return [];
    return tailCallChainSteps({ tailCallTargets: (entry) => this.tailCallSites(entry) }, callee, inner.entry, resolveCallerValues(site.parameters, callerRegister));
  }

  /** An indirect call's callee from a DW_AT_call_target of the form DW_OP_bregN, with the caller frame's registers. */
  private indirectCallee(returnPc: number, callerRegister?: CallerRegister): number | null {
    const target = this.callSiteRecord(returnPc)?.target;
    if (!target || target.breg < 0 || !callerRegister) return null;
    const v = callerRegister(target.breg);
    return v === undefined ? null : v + target.constant;
  }

  /** The call site returning to link-time `returnPc` (its unit found by the call instruction's address). */
  private callSiteRecord(returnPc: number): CallSite | null {
    const unit = this.units.unitForPc(returnPc - 1) ?? this.units.unitForPc(returnPc);
    return unit ? (this.callSitesOf(unit)?.at(returnPc) ?? null) : null;
  }

  /**
   * The registers of the calling frame that the tail-call frames under the call returning to
   * `returnPc` depend on (DWARF numbers): its DW_AT_call_target when that is DW_OP_bregN, and the
   * DW_OP_bregN values of the parameters that indirect tail calls below it jump through (as
   * DW_OP_entry_value of a register, passed on through any number of functions). Usually none:
   * only stacks that need them carry those register values.
   */
  registerNeeds(returnPc: number): readonly number[] {
    let needs = this.needsCache.get(returnPc);
    if (needs) return needs;
    needs = [];
    const site = this.callSiteRecord(returnPc);
    if (site) {
      const out = new Set<number>();
      if (site.origin < 0 && site.target && site.target.breg >= 0) out.add(site.target.breg);
      const callee = this.calleeEntry(site);
      if (callee !== null) {
        for (const reg of this.entryRegistersJumpedThrough(callee, 0, new Set())) {
          const p = site.parameters.find((q) => q.register === reg);
          if (p && p.breg >= 0) out.add(p.breg);
        }
      }
      needs = [...out].sort((a, b) => a - b);
    }
    this.needsCache.set(returnPc, needs);
    return needs;
  }

  /** Entry registers of `fn` whose value decides where a tail call under it goes. */
  private entryRegistersJumpedThrough(fn: number, depth: number, seen: Set<number>): Set<number> {
    const out = new Set<number>();
    if (depth > 8 || seen.has(fn)) return out;
    seen.add(fn);
    for (const t of this.tailCallSites(fn)) {
      if (t.target === null && t.targetEntryOf >= 0) out.add(t.targetEntryOf);
      if (t.target === null) continue;
      for (const reg of this.entryRegistersJumpedThrough(t.target, depth + 1, seen)) {
        const p = t.parameters.find((q) => q.register === reg);
        if (p && p.entryOf >= 0) out.add(p.entryOf);
      }
    }
    seen.delete(fn);
    return out;
  }

  /**
   * The function the call returning to link-time `returnPc` calls: its entry when this module
   * defines it, else its (linkage) name, for a callee in another module (a call through the PLT).
   */
  callSiteCallee(returnPc: number): { entry: number | null; name: string | null } | null {
    const site = this.callSiteRecord(returnPc);
    if (!site || site.origin < 0) return null;
    const entry = this.entryOfDie(site.origin);
    const n = this.resolve(site.origin);
    return { entry, name: n.linkageName ?? n.name };
  }

  private callSitesOf(unit: Unit): UnitCallSites | null {
    let s = this.callSites.get(unit.offset);
    if (s === undefined) {
      try {
        s = UnitCallSites.scan(this.data, unit);
      } catch (e) {
        if (this.warnings.length < 20) this.warnings.push(e instanceof Error ? e.message : String(e));
        s = null;
      }
      this.callSites.set(unit.offset, s);
    }
    return s;
  }

  private calleeEntry(site: CallSite): number | null {
    if (site.origin < 0) return site.target && site.target.entryOf < 0 && site.target.breg < 0 ? site.target.constant : null;
    const entry = this.entryOfDie(site.origin);
    if (entry !== null || !this.entryByName) return entry;
    // a declaration (DW_AT_declaration) of a function defined in another unit: its definition by linkage name
    const n = this.resolve(site.origin);
    return this.entryByName(n.linkageName ?? n.name);
  }

  private entryOfDie(die: number): number | null {
    let e = this.dieEntries.get(die);
    if (e === undefined) {
      const unit = this.units.unitContaining(die);
      if (unit) this.indexEntries(unit);
      e = this.dieEntries.get(die);
    }
    return e === undefined || Number.isNaN(e) ? null : e;
  }

  /** Maps each function with code, and the declaration/abstract DIEs it links to, to its entry. */
  private indexEntries(unit: Unit): void {
    if (this.entriesIndexed.has(unit.offset)) return;
    this.entriesIndexed.add(unit.offset);
    const scopes = this.scopesOf(unit);
    if (!scopes) return;
    for (let s = 0; s < scopes.scopeDie.length; s++) {
      if (scopes.scopeInlined[s]) continue;
      const entry = scopes.scopeRanges[s][0];
      let at = scopes.scopeDie[s];
      for (let hops = 0; hops < 8 && at >= 0; hops++) {
        const known = this.dieEntries.get(at);
        this.dieEntries.set(at, known === undefined || known === entry ? entry : NaN);
        const found = this.subprogramAt(at);
        if (!found) break;
        at = found.die.abstractOrigin >= 0 ? found.die.abstractOrigin : found.die.specification;
      }
    }
  }

  private computeFrames(pc: number, atBreakpoint: boolean, hookedInline?: readonly string[]): SourceFrame[] {
    const unit = this.units.unitForPc(pc);
    if (!unit) return [];
    const scopes = this.scopesOf(unit);
    if (!scopes) return [];
    const phys = scopes.physicalAt(pc);
    if (phys < 0) return [];
    const chain = [phys];
    for (let j = phys + 1, end = scopes.scopeEnd[phys]; j < end; ) {
      if (scopes.scopeInlined[j] && scopes.scopeParent[j] === chain[chain.length - 1] && scopes.contains(j, pc)) {
        chain.push(j);
        j++;
      } else {
        j = scopes.scopeEnd[j];
      }
    }
    let skipped = -1;
    if (atBreakpoint) {
      // gdb's entry pc of a block: the start of its first listed range
      while (chain.length > 1 && scopes.scopeRanges[chain[chain.length - 1]][0] === pc) {
        const top = chain[chain.length - 1];
        if (hookedInline && hookedInline.includes(this.resolve(scopes.scopeOrigin[top]).qualifiedName)) break;
        skipped = chain.pop()!;
      }
    }
    // the innermost frame is at pc, or at the call site of the inlined call not entered yet
    const loc = skipped >= 0 ? this.callSite(unit, scopes, skipped) : this.lines?.lookupStatement(pc) ?? null;
    const frames: SourceFrame[] = [];
    for (let k = chain.length - 1; k >= 0; k--) {
      const s = chain[k];
      const n = this.resolve(scopes.scopeOrigin[s] >= 0 ? scopes.scopeOrigin[s] : scopes.scopeDie[s]);
      let file: string | null;
      let line: number | null;
      if (k === chain.length - 1) {
        file = loc?.file ?? null;
        line = loc?.line ?? null;
      } else {
        const site = this.callSite(unit, scopes, chain[k + 1]);
        file = site.file;
        line = site.line;
      }
      frames.push({ function: n.qualifiedName, linkageName: n.linkageName, file, line, inlined: scopes.scopeInlined[s] });
    }
    return frames;
  }

  private callSite(unit: Unit, scopes: UnitScopes, inlined: number): { file: string | null; line: number | null } {
    const line = scopes.callLine[inlined] || null;
    // no call line (0 or absent): the call site is unknown, file included (gdb shows neither)
    if (line === null) return { file: null, line: null };
    const f = scopes.callFile[inlined];
    return { file: f >= 0 && this.lines ? this.lines.fileName(unit, f) : null, line };
  }

  private scopesOf(unit: Unit): UnitScopes | null {
    let s = this.scopes.get(unit.offset);
    if (s === undefined) {
      try {
        s = UnitScopes.scan(this.data, unit);
      } catch (e) {
        if (this.warnings.length < 20) this.warnings.push(e instanceof Error ? e.message : String(e));
        s = null;
      }
      this.scopes.set(unit.offset, s);
    }
    return s;
  }

  private subprogramAt(offset: number): { die: SubprogramDie; unit: Unit } | null {
    const unit = this.units.unitContaining(offset);
    if (!unit) return null;
    const die = this.scopesOf(unit)?.subprograms.get(offset);
    return die ? { die, unit } : null;
  }

  /** Name, linkage name and declaration of the function at a DIE, through specification/abstract-origin links. */
  private resolve(offset: number): ResolvedName {
    const cached = this.names.get(offset);
    if (cached) return cached;
    let name: string | null = null;
    let prefix = '';
    let linkageName: string | null = null;
    let declFile: string | null = null;
    let declLine: number | null = null;
    let language = 0;
    let at = offset;
    for (let hops = 0; hops < 8 && at >= 0; hops++) {
      const found = this.subprogramAt(at);
      if (!found) break;
      const { die, unit } = found;
      if (hops === 0) language = unit.root(this.data).language;
      if (name === null && die.name !== null) {
        name = die.name;
        prefix = die.prefix;
      }
      linkageName ??= die.linkageName;
      if (declLine === null && die.declLine > 0) {
        declLine = die.declLine;
        declFile = die.declFile >= 0 && this.lines ? this.lines.fileName(unit, die.declFile) : null;
      }
      if (name !== null && linkageName !== null && declLine !== null) break;
      at = die.abstractOrigin >= 0 ? die.abstractOrigin : die.specification;
    }
    let qualifiedName: string;
    const demangled = linkageName && language !== DW_LANG_Rust && /^_Z/.test(linkageName) ? demangle(linkageName) : null;
    if (demangled && demangled !== linkageName) {
      qualifiedName = stripParameters(demangled);
      // gdb names a member of a class local to a function without that function: `Local::f`, not
      // `main::Local::f` (its DWARF scope chain stops at the function); a lambda's closure has no name, and keeps it
      if (linkageName!.startsWith('_ZZ') && name !== null && !prefix.includes('{unnamed}')) {
        const keep = splitQualified(prefix + name).length;
        const parts = splitQualified(qualifiedName);
        if (parts.length > keep) qualifiedName = parts.slice(parts.length - keep).join('::');
      }
    } else if (name !== null) qualifiedName = prefix + name;
    else qualifiedName = linkageName ? stripParameters(demangle(linkageName)) : '??';
    const resolved: ResolvedName = { name: name ?? qualifiedName, qualifiedName, linkageName, declFile, declLine };
    this.names.set(offset, resolved);
    return resolved;
  }
}
