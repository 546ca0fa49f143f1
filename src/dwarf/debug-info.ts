/**
 * Function names and inline frames from .debug_info. Only the compilation unit that covers a
 * looked-up pc is parsed (found through .debug_aranges or unit ranges), once, and cached, so a big
 * binary with libstd units costs little when few pcs are asked for.
 * Naming follows gdb: C++ functions by their demangled linkage name without parameters
 * (`ns::Klass::method`, `main::{lambda(int, int)#1}::operator()`), others (C, Rust) by their DIE
 * name qualified with the enclosing namespaces/classes (`src_rust::parser::parse_value`).
 */
import { DW_LANG_Rust } from './debug-info-constants';
import { DwarfData } from './debug-info-data';
import { SubprogramDie, UnitScopes } from './debug-info-scopes';
import { Unit, UnitIndex } from './debug-info-units';
import { DebugSections } from './debug-sections';
import { LineTable } from './line-table';
import { demangle, stripParameters } from '../symbolize/demangle';

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

interface ResolvedName {
  name: string;
  qualifiedName: string;
  linkageName: string | null;
  declFile: string | null;
  declLine: number | null;
}

const FRAME_CACHE_LIMIT = 50_000;

export class DebugInfo {
  private readonly scopes = new Map<number, UnitScopes | null>();
  private readonly names = new Map<number, ResolvedName>();
  private readonly frameCache = new Map<number, SourceFrame[]>();
  private functionList: FunctionInfo[] | null = null;
  /** Problems met while parsing (a damaged unit is skipped, not fatal). */
  readonly warnings: string[] = [];

  private constructor(
    private readonly data: DwarfData,
    private readonly units: UnitIndex,
    private readonly lines: LineTable | null,
  ) {}

  /** null when the sections have no .debug_info. Pass the module's LineTable to share its caches. */
  static fromSections(s: DebugSections, lines?: LineTable | null): DebugInfo | null {
    if (!s.section('.debug_info')) return null;
    if (lines) return new DebugInfo(lines.data, lines.units, lines);
    const data = new DwarfData(s);
    const units = new UnitIndex(data);
    return new DebugInfo(data, units, LineTable.fromData(data, units));
  }

  /**
   * Frames at link-time `pc`, innermost first: the inlined subroutines (inlined: true), then the
   * function they were inlined into. The innermost frame's file:line is the line table's at pc (with
   * gdb's preference for is_stmt rows, LineTable.lookupStatement); each
   * outer frame's is the call site (DW_AT_call_file/call_line) of the frame inside it.
   * Callers pass pc - 1 for return addresses. Empty when no DWARF function covers pc.
   * `atBreakpoint`: pc is where a hook/breakpoint stopped (frame 0); as gdb does there, inlined calls
   * that begin exactly at pc are not entered yet, so a hook on `f` reports `f` as frame 0.
   */
  framesAt(pc: number, atBreakpoint = false): SourceFrame[] {
    const key = atBreakpoint ? -pc - 1 : pc;
    const hit = this.frameCache.get(key);
    if (hit) return hit;
    const frames = this.computeFrames(pc, atBreakpoint);
    if (this.frameCache.size >= FRAME_CACHE_LIMIT) this.frameCache.clear();
    this.frameCache.set(key, frames);
    return frames;
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

  private computeFrames(pc: number, atBreakpoint: boolean): SourceFrame[] {
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
      while (chain.length > 1 && scopes.scopeRanges[chain[chain.length - 1]][0] === pc) skipped = chain.pop()!;
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
    const f = scopes.callFile[inlined];
    return { file: f >= 0 && this.lines ? this.lines.fileName(unit, f) : null, line: scopes.callLine[inlined] || null };
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
    if (demangled && demangled !== linkageName) qualifiedName = stripParameters(demangled);
    else if (name !== null) qualifiedName = prefix + name;
    else qualifiedName = linkageName ? stripParameters(demangle(linkageName)) : '??';
    const resolved: ResolvedName = { name: name ?? qualifiedName, qualifiedName, linkageName, declFile, declLine };
    this.names.set(offset, resolved);
    return resolved;
  }
}
