/**
 * Call sites of one compilation unit (DW_TAG_call_site, and DW_TAG_GNU_call_site of GCC's DWARF 4
 * extension): where each call returns to, which function it calls when that is known
 * (DW_AT_call_origin / DW_AT_abstract_origin), and whether it is a tail call. Debuggers use them
 * to show the frames of functions that left the machine stack by tail-calling (`jmp`) another one.
 */
import { ByteReader } from './byte-reader';
import { DW_AT, DW_TAG } from './debug-info-constants';
import { DwarfData } from './debug-info-data';
import { readAddress, readNumber, readRef, skipForm } from './debug-info-forms';
import { Unit } from './debug-info-units';
import { MalformedDwarfError } from '../errors';

const DW_TAG_call_site = 0x48;
const DW_TAG_GNU_call_site = 0x4109;
const DW_AT_call_origin = 0x7f;
const DW_AT_call_return_pc = 0x7d;
const DW_AT_call_tail_call = 0x82;
const DW_AT_GNU_tail_call = 0x2115;

export interface CallSite {
  /** Link-time address just past the call (or jump) instruction. */
  returnPc: number;
  /** DIE of the called function, or -1 for an indirect call. */
  origin: number;
  tailCall: boolean;
  /** DIE of the out-of-line function (DW_TAG_subprogram) that holds the call site. */
  caller: number;
}

export class UnitCallSites {
  private readonly byReturnPc = new Map<number, CallSite>();
  private readonly tailCallsOf = new Map<number, CallSite[]>();

  private constructor(readonly unit: Unit) {}

  static scan(d: DwarfData, unit: Unit): UnitCallSites {
    const sites = new UnitCallSites(unit);
    sites.walk(d);
    return sites;
  }

  /** The call site whose return address is `returnPc`, if the unit describes one. */
  at(returnPc: number): CallSite | null {
    return this.byReturnPc.get(returnPc) ?? null;
  }

  /** The tail calls made by the function whose DIE is at `subprogram`. */
  tailCalls(subprogram: number): readonly CallSite[] {
    return this.tailCallsOf.get(subprogram) ?? [];
  }

  private walk(d: DwarfData): void {
    const u = this.unit;
    u.root(d); // sets the unit's string/address bases
    const abbrevs = d.abbrevTable(u.abbrevOffset);
    const r = new ByteReader(d.info, u.dieOffset);
    // the enclosing subprogram DIE at each depth
    const functionAt: number[] = [-1];
    let depth = 0;
    while (r.offset < u.end) {
      const dieOffset = r.offset;
      const code = r.uleb128();
      if (code === 0) {
        if (depth > 0) depth--;
        if (depth === 0) break;
        continue;
      }
      const abbrev = abbrevs.get(code);
      if (!abbrev) throw new MalformedDwarfError(`DIE at .debug_info+0x${dieOffset.toString(16)} uses unknown abbreviation ${code}`);
      const attrs = abbrev.attrs;
      const forms = abbrev.forms;
      if (abbrev.tag === DW_TAG_call_site || abbrev.tag === DW_TAG_GNU_call_site) {
        let returnPc = NaN;
        let origin = -1;
        let tailCall = false;
        for (let i = 0; i < attrs.length; i++) {
          const form = forms[i];
          switch (attrs[i]) {
            case DW_AT_call_return_pc:
            case DW_AT.low_pc: // GCC's DW_TAG_GNU_call_site: the return address
              returnPc = readAddress(r, form, u, d);
              break;
            case DW_AT_call_origin:
            case DW_AT.abstract_origin:
              origin = readRef(r, form, u);
              break;
            case DW_AT_call_tail_call:
            case DW_AT_GNU_tail_call:
              tailCall = readNumber(r, form, u, abbrev.implicitConsts[i]) !== 0;
              break;
            default:
              skipForm(r, form, u);
          }
        }
        const caller = functionAt[depth];
        if (!Number.isNaN(returnPc) && caller >= 0) {
          const site: CallSite = { returnPc, origin, tailCall, caller };
          this.byReturnPc.set(returnPc, site);
          if (tailCall) {
            const list = this.tailCallsOf.get(caller);
            if (list) list.push(site);
            else this.tailCallsOf.set(caller, [site]);
          }
        }
      } else {
        for (let i = 0; i < attrs.length; i++) skipForm(r, forms[i], u);
      }
      if (abbrev.hasChildren) {
        depth++;
        functionAt[depth] = abbrev.tag === DW_TAG.subprogram ? dieOffset : functionAt[depth - 1];
      }
    }
  }
}

/** One step of a tail-call chain: the function that tail-called and the address just past its jump. */
export interface TailCallStep {
  /** Link-time entry address of the function that made the tail call. */
  function: number;
  /** Link-time address just past the tail-call instruction. */
  returnPc: number;
}

export interface TailCallGraph {
  /** The tail calls made by the function at `functionEntry`: callee entry (null if unknown) and the address past the jump. */
  tailCallTargets(functionEntry: number): { target: number | null; returnPc: number }[];
}

const MAX_CHAIN = 32;
const MAX_EDGES = 10_000;

/**
 * The tail-call frames between a caller whose callee was function `from` and a frame in function
 * `to` (entries), innermost first. With one chain of tail calls from `from` to `to`, its every
 * step; with several, as gdb does, only the steps all of them share at their start and at their
 * end (the path in between cannot be known); with none, nothing.
 */
export function tailCallChainSteps(graph: TailCallGraph, from: number, to: number): TailCallStep[] {
  const common = { chains: 0, shortest: Infinity, prefix: [] as TailCallStep[], suffix: [] as TailCallStep[] };
  let edges = 0;
  const path: TailCallStep[] = [];
  const onPath = new Set<number>([from]);
  const same = (a: TailCallStep, b: TailCallStep) => a.function === b.function && a.returnPc === b.returnPc;
  const found = (): void => {
    common.shortest = Math.min(common.shortest, path.length);
    if (common.chains++ === 0) {
      common.prefix = path.slice();
      common.suffix = path.slice();
      return;
    }
    const { prefix, suffix } = common;
    let p = 0;
    while (p < prefix.length && p < path.length && same(prefix[p], path[p])) p++;
    prefix.length = p;
    let q = 0;
    while (q < suffix.length && q < path.length && same(suffix[suffix.length - 1 - q], path[path.length - 1 - q])) q++;
    common.suffix = suffix.slice(suffix.length - q);
  };
  // false stops the search: too much work, or nothing left in common
  const visit = (fn: number): boolean => {
    for (const site of graph.tailCallTargets(fn)) {
      if (++edges > MAX_EDGES) return false;
      if (site.target === null) continue;
      path.push({ function: fn, returnPc: site.returnPc });
      if (site.target === to) {
        found();
        if (common.chains > 1 && common.prefix.length === 0 && common.suffix.length === 0) return false;
      } else if (!onPath.has(site.target) && path.length < MAX_CHAIN) {
        onPath.add(site.target);
        const ok = visit(site.target);
        onPath.delete(site.target);
        if (!ok) return false;
      }
      path.pop();
    }
    return true;
  };
  if (!visit(from) || common.chains === 0) return [];
  const callers = common.prefix;
  // one chain is all prefix; the shared start and end of chains of different lengths must not overlap
  const callees = common.chains === 1 ? [] : common.suffix.slice(Math.max(0, callers.length + common.suffix.length - common.shortest));
  return [...callees.reverse(), ...callers.slice().reverse()];
}
