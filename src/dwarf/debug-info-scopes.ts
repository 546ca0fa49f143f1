/**
 * One walk over a compilation unit's DIE tree that keeps what symbolization needs: every
 * subprogram DIE (name, linkage name, enclosing namespace/class prefix, specification and
 * abstract-origin links, declaration file/line) and the tree of code scopes (functions with code
 * and the inlined subroutines inside them, each with its address ranges and call site).
 */
import { ByteReader } from './byte-reader';
import { DW_AT, DW_TAG } from './debug-info-constants';
import { DwarfData } from './debug-info-data';
import { isAddressForm, readAddress, readNumber, readRef, readString, skipForm } from './debug-info-forms';
import { readRanges } from './debug-info-ranges';
import { Unit } from './debug-info-units';
import { MalformedDwarfError } from '../errors';

export interface SubprogramDie {
  offset: number;
  name: string | null;
  linkageName: string | null;
  /** Names of the enclosing namespaces/classes/structures, joined with "::" and ending in "::" (or ""). */
  prefix: string;
  specification: number;
  abstractOrigin: number;
  declFile: number;
  declLine: number;
}

const NAMED_SCOPE = new Set<number>([
  DW_TAG.namespace,
  DW_TAG.class_type,
  DW_TAG.structure_type,
  DW_TAG.union_type,
  DW_TAG.interface_type,
]);

export class UnitScopes {
  readonly subprograms = new Map<number, SubprogramDie>();
  // code scopes in DIE (depth-first) order
  readonly scopeDie: number[] = [];
  /** The DIE naming an inlined scope (its abstract origin); the scope's own DIE for functions. */
  readonly scopeOrigin: number[] = [];
  readonly scopeParent: number[] = [];
  /** Index just past the scope's last descendant. */
  readonly scopeEnd: number[] = [];
  readonly scopeInlined: boolean[] = [];
  readonly scopeRanges: number[][] = [];
  readonly callFile: number[] = [];
  readonly callLine: number[] = [];
  // physical (out-of-line) functions sorted by range start
  private physLo = new Float64Array(0);
  private physHi = new Float64Array(0);
  private physScope = new Int32Array(0);

  constructor(readonly unit: Unit) {}

  static scan(d: DwarfData, unit: Unit): UnitScopes {
    const scopes = new UnitScopes(unit);
    scopes.walk(d);
    scopes.indexPhysical();
    return scopes;
  }

  /** Scope index of the innermost out-of-line function whose ranges hold `pc`, or -1. */
  physicalAt(pc: number): number {
    const los = this.physLo;
    let lo = 0;
    let hi = los.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (los[mid] <= pc) lo = mid + 1;
      else hi = mid;
    }
    let best = -1;
    // nested functions and code moved to address 0 by the linker make a few ranges overlap
    for (let i = lo - 1, n = 0; i >= 0 && n < 16; i--, n++) {
      if (pc < this.physHi[i]) {
        const s = this.physScope[i];
        if (best < 0 || s > best) best = s; // a later scope in DIE order is nested deeper
      }
    }
    return best;
  }

  contains(scope: number, pc: number): boolean {
    const r = this.scopeRanges[scope];
    for (let i = 0; i < r.length; i += 2) if (pc >= r[i] && pc < r[i + 1]) return true;
    return false;
  }

  private walk(d: DwarfData): void {
    const u = this.unit;
    const root = u.root(d); // sets the unit's string/address/range-list bases
    const abbrevs = d.abbrevTable(u.abbrevOffset);
    const r = new ByteReader(d.info, u.dieOffset);
    const prefixAt: string[] = [''];
    const scopeAt: number[] = [-1];
    const openScopes: number[] = []; // scope indexes whose subtree is still being read
    const openDepth: number[] = [];
    let depth = 0;
    while (r.offset < u.end) {
      const dieOffset = r.offset;
      const code = r.uleb128();
      if (code === 0) {
        if (depth > 0) depth--;
        while (openScopes.length && openDepth[openDepth.length - 1] > depth) {
          this.scopeEnd[openScopes.pop()!] = this.scopeDie.length;
          openDepth.pop();
        }
        if (depth === 0) break;
        continue;
      }
      const abbrev = abbrevs.get(code);
      if (!abbrev) throw new MalformedDwarfError(`DIE at .debug_info+0x${dieOffset.toString(16)} uses unknown abbreviation ${code}`);
      const tag = abbrev.tag;
      const attrs = abbrev.attrs;
      const forms = abbrev.forms;
      const isSub = tag === DW_TAG.subprogram;
      const isInlined = tag === DW_TAG.inlined_subroutine;
      const isNamedScope = NAMED_SCOPE.has(tag);
      let scopeIndex = -1;
      let childPrefix = prefixAt[depth];
      if (!isSub && !isInlined && !isNamedScope) {
        for (let i = 0; i < attrs.length; i++) skipForm(r, forms[i], u);
      } else {
        let name: string | null = null;
        let linkageName: string | null = null;
        let lowPc = NaN;
        let highPc = NaN;
        let highIsOffset = false;
        let rangesForm = 0;
        let rangesValue = -1;
        let origin = -1;
        let spec = -1;
        let declFile = -1;
        let declLine = 0;
        let callFile = -1;
        let callLine = 0;
        let declaration = false;
        for (let i = 0; i < attrs.length; i++) {
          const form = forms[i];
          switch (attrs[i]) {
            case DW_AT.name:
              name = readString(r, form, u, d);
              break;
            case DW_AT.linkage_name:
            case DW_AT.MIPS_linkage_name:
              linkageName = readString(r, form, u, d);
              break;
            case DW_AT.low_pc:
              lowPc = readAddress(r, form, u, d);
              break;
            case DW_AT.high_pc:
              highIsOffset = !isAddressForm(form);
              highPc = highIsOffset ? readNumber(r, form, u, abbrev.implicitConsts[i]) : readAddress(r, form, u, d);
              break;
            case DW_AT.ranges:
              rangesForm = form;
              rangesValue = readNumber(r, form, u, abbrev.implicitConsts[i]);
              break;
            case DW_AT.abstract_origin:
              origin = readRef(r, form, u);
              break;
            case DW_AT.specification:
              spec = readRef(r, form, u);
              break;
            case DW_AT.decl_file:
              declFile = readNumber(r, form, u, abbrev.implicitConsts[i]);
              break;
            case DW_AT.decl_line:
              declLine = readNumber(r, form, u, abbrev.implicitConsts[i]);
              break;
            case DW_AT.call_file:
              callFile = readNumber(r, form, u, abbrev.implicitConsts[i]);
              break;
            case DW_AT.call_line:
              callLine = readNumber(r, form, u, abbrev.implicitConsts[i]);
              break;
            case DW_AT.declaration:
              declaration = readNumber(r, form, u, abbrev.implicitConsts[i]) !== 0;
              break;
            default:
              skipForm(r, forms[i], u);
          }
        }
        if (isNamedScope) {
          childPrefix = `${prefixAt[depth]}${name ?? (tag === DW_TAG.namespace ? '(anonymous namespace)' : '{unnamed}')}::`;
        } else {
          if (isSub) {
            this.subprograms.set(dieOffset, {
              offset: dieOffset,
              name,
              linkageName,
              prefix: prefixAt[depth],
              specification: spec,
              abstractOrigin: origin,
              declFile,
              declLine,
            });
          }
          let ranges: number[] | null = null;
          if (!declaration) {
            if (rangesValue >= 0) ranges = readRanges(d, u, rangesForm, rangesValue, root.lowPc);
            else if (!Number.isNaN(lowPc) && !Number.isNaN(highPc)) {
              const hi = highIsOffset ? lowPc + highPc : highPc;
              ranges = hi > lowPc ? [lowPc, hi] : null;
            }
          }
          if (ranges && ranges.length) {
            scopeIndex = this.scopeDie.length;
            this.scopeDie.push(dieOffset);
            this.scopeOrigin.push(isInlined ? origin : dieOffset);
            this.scopeParent.push(scopeAt[depth]);
            this.scopeEnd.push(scopeIndex + 1);
            this.scopeInlined.push(isInlined);
            this.scopeRanges.push(ranges);
            this.callFile.push(callFile);
            this.callLine.push(callLine);
          }
        }
      }
      if (abbrev.hasChildren) {
        depth++;
        prefixAt[depth] = childPrefix;
        scopeAt[depth] = scopeIndex >= 0 ? scopeIndex : scopeAt[depth - 1];
        if (scopeIndex >= 0) {
          openScopes.push(scopeIndex);
          openDepth.push(depth);
        }
      }
    }
    while (openScopes.length) this.scopeEnd[openScopes.pop()!] = this.scopeDie.length;
  }

  private indexPhysical(): void {
    const entries: number[] = [];
    for (let s = 0; s < this.scopeDie.length; s++) {
      if (this.scopeInlined[s]) continue;
      const r = this.scopeRanges[s];
      for (let i = 0; i < r.length; i += 2) entries.push(r[i], r[i + 1], s);
    }
    const n = entries.length / 3;
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => entries[a * 3] - entries[b * 3] || entries[a * 3 + 2] - entries[b * 3 + 2]);
    this.physLo = new Float64Array(n);
    this.physHi = new Float64Array(n);
    this.physScope = new Int32Array(n);
    order.forEach((k, i) => {
      this.physLo[i] = entries[k * 3];
      this.physHi[i] = entries[k * 3 + 1];
      this.physScope[i] = entries[k * 3 + 2];
    });
  }
}
