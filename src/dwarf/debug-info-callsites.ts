/**
 * Call sites of one compilation unit (DW_TAG.call_site, and DW_TAG.GNU_call_site of GCC's DWARF 4
 * extension): where each call returns to, which function it calls when that is known
 * (DW_AT.call_origin / DW_AT_abstract_origin, or a DW_AT.call_target expression), whether it is a
 * tail call, and the parameter values it passes where DWARF gives them (DW_TAG.call_site_parameter).
 * Debuggers use them to show the frames of functions that left the machine stack by tail-calling
 * (`jmp`) another one.
 */
import { ByteReader } from './byte-reader';
import { DW_AT, DW_FORM, DW_TAG } from './debug-info-constants';
import { DwarfData } from './debug-info-data';
import { indexedAddress, readAddress, readNumber, readRef, skipForm } from './debug-info-forms';
import { Unit } from './debug-info-units';
import { MalformedDwarfError } from '../errors';


/**
 * A value a call site's DWARF expression gives: a constant (DW_OP_addr, DW_OP_addrx, DW_OP_litN,
 * DW_OP_constu); `entryOf`: the value a register had when the calling function was entered
 * (DW_OP_entry_value(DW_OP_regN)), which the call site that entered it may give in turn; or
 * `breg`: a register of the calling frame plus `constant` (DW_OP_bregN), known where that frame's
 * registers are (callee-saved ones, as the unwinder recovered them). Anything else (memory, a
 * computation) is not kept.
 */
export interface CallSiteValue {
  constant: number;
  /** DWARF register number, or -1. */
  entryOf: number;
  /** DWARF register number, or -1; the value is that register's + `constant`. */
  breg: number;
}

/** A parameter a call passes: the DWARF register it is in at the call, and its value. */
export interface CallSiteParameter extends CallSiteValue {
  register: number;
}

function blockOf(r: ByteReader, form: number): Buffer | null {
  let n: number;
  if (form === DW_FORM.exprloc || form === DW_FORM.block) n = r.uleb128();
  else if (form === DW_FORM.block1) n = r.u8();
  else if (form === DW_FORM.block2) n = r.u16();
  else if (form === DW_FORM.block4) n = r.u32();
  else return null;
  const b = r.buf.subarray(r.offset, r.offset + n);
  r.offset += n;
  return b;
}

/** A value expression, when it is one of the forms CallSiteValue knows. */
function valueOf(expr: Buffer, u: Unit, d: DwarfData): CallSiteValue | null {
  if (expr.length === 0) return null;
  const op = expr[0];
  if (op === 0x03 && expr.length === 9) return { constant: expr.readUInt32LE(1) + expr.readUInt32LE(5) * 0x100000000, entryOf: -1, breg: -1 };
  if (op >= 0x30 && op <= 0x4f && expr.length === 1) return { constant: op - 0x30, entryOf: -1, breg: -1 };
  const r = new ByteReader(expr, 1);
  if (op === 0x10) {
    const v = r.uleb128();
    return r.offset === expr.length ? { constant: v, entryOf: -1, breg: -1 } : null;
  }
  if (op === 0xa1) {
    const index = r.uleb128();
    return r.offset === expr.length ? { constant: indexedAddress(index, u, d), entryOf: -1, breg: -1 } : null;
  }
  if ((op >= 0x70 && op <= 0x8f) || op === 0x92) {
    const reg = op === 0x92 ? r.uleb128() : op - 0x70;
    const offset = r.sleb128();
    return r.offset === expr.length ? { constant: offset, entryOf: -1, breg: reg } : null;
  }
  if (op === 0xa3 || op === 0xf3) {
    // DW_OP_entry_value / DW_OP_GNU_entry_value of exactly DW_OP_regN (or DW_OP_regx N)
    const len = r.uleb128();
    const inner = r.offset;
    if (inner + len !== expr.length) return null;
    if (len === 1 && expr[inner] >= 0x50 && expr[inner] <= 0x6f) return { constant: NaN, entryOf: expr[inner] - 0x50, breg: -1 };
    if (expr[inner] === 0x90) {
      r.offset = inner + 1;
      const reg = r.uleb128();
      return r.offset === expr.length ? { constant: NaN, entryOf: reg, breg: -1 } : null;
    }
  }
  return null;
}

/** The register of a parameter's location at the call (DW_OP_regN, DW_OP_regx N), or -1. */
function registerOf(expr: Buffer): number {
  if (expr.length === 1 && expr[0] >= 0x50 && expr[0] <= 0x6f) return expr[0] - 0x50;
  if (expr.length >= 2 && expr[0] === 0x90) {
    const r = new ByteReader(expr, 1);
    const reg = r.uleb128();
    return r.offset === expr.length ? reg : -1;
  }
  return -1;
}

export interface CallSite {
  /** Link-time address just past the call (or jump) instruction. */
  returnPc: number;
  /** DIE of the called function, or -1 for an indirect call. */
  origin: number;
  /** An indirect call's callee from its DW_AT.call_target expression, when it is a known value. */
  target: CallSiteValue | null;
  /** Parameters with a known value (DW_TAG.call_site_parameter children). */
  parameters: CallSiteParameter[];
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
    // the enclosing subprogram DIE at each depth, and the call site whose children are read there
    const functionAt: number[] = [-1];
    const siteAt: (CallSite | null)[] = [null];
    let depth = 0;
    let site: CallSite | null = null;
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
      if (abbrev.tag === DW_TAG.call_site || abbrev.tag === DW_TAG.GNU_call_site) {
        let returnPc = NaN;
        let origin = -1;
        let tailCall = false;
        let target: CallSiteValue | null = null;
        for (let i = 0; i < attrs.length; i++) {
          const form = forms[i];
          switch (attrs[i]) {
            case DW_AT.call_target:
            case DW_AT.GNU_call_site_target: {
              const block = blockOf(r, form);
              if (block) target = valueOf(block, u, d);
              else skipForm(r, form, u);
              break;
            }
            case DW_AT.call_return_pc:
            case DW_AT.low_pc: // GCC's DW_TAG.GNU_call_site: the return address
              returnPc = readAddress(r, form, u, d);
              break;
            case DW_AT.call_origin:
            case DW_AT.abstract_origin:
              origin = readRef(r, form, u);
              break;
            case DW_AT.call_tail_call:
            case DW_AT.GNU_tail_call:
              tailCall = readNumber(r, form, u, abbrev.implicitConsts[i]) !== 0;
              break;
            default:
              skipForm(r, form, u);
          }
        }
        const caller = functionAt[depth];
        site = null;
        if (!Number.isNaN(returnPc) && caller >= 0) {
          site = { returnPc, origin, target, parameters: [], tailCall, caller };
          this.byReturnPc.set(returnPc, site);
          if (tailCall) {
            const list = this.tailCallsOf.get(caller);
            if (list) list.push(site);
            else this.tailCallsOf.set(caller, [site]);
          }
        }
      } else if ((abbrev.tag === DW_TAG.call_site_parameter || abbrev.tag === DW_TAG.GNU_call_site_parameter) && siteAt[depth]) {
        let register = -1;
        let value: CallSiteValue | null = null;
        for (let i = 0; i < attrs.length; i++) {
          const form = forms[i];
          const attr = attrs[i];
          const block = attr === DW_AT.location || attr === DW_AT.call_value || attr === DW_AT.GNU_call_site_value ? blockOf(r, form) : null;
          if (!block) skipForm(r, form, u);
          else if (attr === DW_AT.location) register = registerOf(block);
          else value = valueOf(block, u, d);
        }
        if (register >= 0 && value) siteAt[depth]!.parameters.push({ register, ...value });
      } else {
        for (let i = 0; i < attrs.length; i++) skipForm(r, forms[i], u);
      }
      if (abbrev.hasChildren) {
        depth++;
        functionAt[depth] = abbrev.tag === DW_TAG.subprogram ? dieOffset : functionAt[depth - 1];
        siteAt[depth] = abbrev.tag === DW_TAG.call_site || abbrev.tag === DW_TAG.GNU_call_site ? site : null;
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

/** One tail call of a graph node: its callee when known, else how its target register was set on entry. */
export interface TailCallEdge {
  target: number | null;
  /** An indirect jump through a register that holds its value from the function's entry (DW_OP_entry_value), or -1. */
  targetEntryOf?: number;
  /** The parameters the jump passes on (for the callee's own entry-value targets). */
  parameters?: readonly CallSiteParameter[];
  returnPc: number;
}

export interface TailCallGraph {
  /** The tail calls made by the function at `functionEntry` (addresses in the graph's own space). */
  tailCallTargets(functionEntry: number): TailCallEdge[];
}

const MAX_CHAIN = 32;
const MAX_EDGES = 10_000;

/**
 * The tail-call frames between a caller whose callee was function `from` and a frame in function
 * `to` (entries), innermost first. With one chain of tail calls from `from` to `to`, its every
 * step; with several, as gdb does, only the steps all of them share at their start and at their
 * end (the path in between cannot be known); with none, nothing.
 */
export function tailCallChainSteps(graph: TailCallGraph, from: number, to: number, fromParameters: readonly CallSiteParameter[] = []): TailCallStep[] {
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
  // the parameters each function on the path was entered with: [0] from the real caller's call site
  const entered: (readonly CallSiteParameter[])[] = [fromParameters];
  const entryValue = (depth: number, register: number): number | null => {
    for (let k = depth; k >= 0; k--) {
      const p = entered[k].find((q) => q.register === register);
      if (!p || p.breg >= 0) return null; // a register of a frame that is gone (the caller resolves its own beforehand)
      if (p.entryOf < 0) return p.constant;
      register = p.entryOf; // passed on from the entry of the function before
    }
    return null;
  };
  // false stops the search: too much work, or nothing left in common
  const visit = (fn: number): boolean => {
    for (const site of graph.tailCallTargets(fn)) {
      if (++edges > MAX_EDGES) return false;
      const target = site.target ?? (site.targetEntryOf !== undefined && site.targetEntryOf >= 0 ? entryValue(entered.length - 1, site.targetEntryOf) : null);
      if (target === null) continue;
      path.push({ function: fn, returnPc: site.returnPc });
      if (target === to) {
        found();
        if (common.chains > 1 && common.prefix.length === 0 && common.suffix.length === 0) return false;
      } else if (!onPath.has(target) && path.length < MAX_CHAIN) {
        onPath.add(target);
        entered.push(site.parameters ?? []);
        const ok = visit(target);
        entered.pop();
        onPath.delete(target);
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
