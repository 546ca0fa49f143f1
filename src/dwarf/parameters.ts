/**
 * A function's formal parameters as DWARF describes them at its entry pc: name, type, and the
 * location expression that holds at that pc (from DW_AT_location's single expression or the
 * location-list entry covering the pc, .debug_loc for DWARF 2-4, .debug_loclists for DWARF 5),
 * plus the return type and the frame base. Read once per function entry and cached.
 */
import { ByteReader } from './byte-reader';
import type { DebugInfo } from './debug-info';
import type { DebugSections } from './debug-sections';
import { indexedAddress } from './debug-info-forms';
import { DieReader, type AttrValue, type Die } from './die-reader';
import { readRanges } from './debug-info-ranges';
import { AT, TypeReader, type DwarfType } from './dwarf-types';
import { DW_FORM, DW_TAG } from './debug-info-constants';


export interface ParameterLocation {
  /** The expression valid at the pc; null: no location there (optimized out). */
  expr: Buffer | null;
  /** True when it came from a location list (so it is exact at that pc, prologue or not). */
  fromList: boolean;
}

export interface Parameter {
  name: string;
  type: DwarfType;
  /** `this` and other compiler-made parameters. */
  artificial: boolean;
  location: ParameterLocation;
  /** DW_AT_const_value: a parameter the compiler replaced by a constant. */
  constValue: number | null;
}

export interface FunctionSignature {
  name: string | null;
  parameters: Parameter[];
  returnType: DwarfType;
  /** DW_AT_frame_base of the function, or null. */
  frameBase: Buffer | null;
  /** True for an inlined copy (its parameters are the inlined_subroutine's). */
  inlined: boolean;
}

/** Per module: parameters and types from its DWARF. */
export class ParameterReader {
  readonly dies: DieReader;
  readonly types: TypeReader;
  private readonly byPc = new Map<number, FunctionSignature | null>();
  private readonly loc: Buffer | null;
  private readonly loclists: Buffer | null;

  constructor(
    private readonly info: DebugInfo,
    sections: DebugSections,
  ) {
    const { data, units } = info.dwarf;
    this.dies = new DieReader(data, units);
    this.types = new TypeReader(this.dies);
    this.loc = sections.section('.debug_loc')?.data ?? null;
    this.loclists = sections.section('.debug_loclists')?.data ?? null;
  }

  /**
   * The signature of the function entered at link-time `pc`: the out-of-line function starting
   * there, or (`inlineEntry`) the inlined copy whose block starts there. null without DWARF for it.
   */
  signatureAt(pc: number, inlineEntry = false): FunctionSignature | null {
    const key = inlineEntry ? -pc - 1 : pc;
    let s = this.byPc.get(key);
    if (s !== undefined) return s;
    s = null;
    const fn = this.info.functionContaining(pc);
    if (fn) {
      let die = this.dies.die(fn.die);
      let inlined = false;
      if (inlineEntry && die) {
        const block = this.inlinedBlockAt(die, pc);
        if (block) {
          die = block;
          inlined = true;
        } else die = null;
      }
      if (die) s = this.signature(die, pc, inlined);
    }
    this.byPc.set(key, s);
    return s;
  }

  private signature(die: Die, pc: number, inlined: boolean): FunctionSignature {
    const parameters: Parameter[] = [];
    for (const c of this.dies.children(die)) {
      if (c.tag !== DW_TAG.formal_parameter) continue;
      const origin = this.origin(c);
      const name = origin.attrs.get(AT.name)?.str ?? c.attrs.get(AT.name)?.str ?? `arg${parameters.length}`;
      const typeDie = c.attrs.has(AT.type) ? c : origin;
      const cv = c.attrs.get(AT.const_value) ?? origin.attrs.get(AT.const_value);
      parameters.push({
        name,
        type: this.types.typeOf(typeDie),
        artificial: c.attrs.has(AT.artificial) || origin.attrs.has(AT.artificial),
        location: this.locationAt(c, pc),
        constValue: cv && cv.block === null ? cv.signed : null,
      });
    }
    let returnType: DwarfType = { kind: 'void', name: 'void' };
    let name: string | null = null;
    let at: Die | null = die;
    for (let hops = 0; at && hops < 6; hops++) {
      name ??= at.attrs.get(AT.name)?.str ?? null;
      if (at.attrs.has(AT.type)) {
        returnType = this.types.typeOf(at);
        break;
      }
      const next: AttrValue | undefined = at.attrs.get(AT.abstract_origin) ?? at.attrs.get(AT.specification);
      at = next && next.ref >= 0 ? this.dies.die(next.ref) : null;
    }
    const frameBase = die.tag === DW_TAG.subprogram ? die.attrs.get(AT.frame_base)?.block ?? null : null;
    return { name, parameters, returnType, frameBase, inlined };
  }

  /** The DIE that names a concrete parameter (its abstract origin, for out-of-line and inlined copies). */
  private origin(die: Die): Die {
    let at = die;
    for (let hops = 0; hops < 4; hops++) {
      const o = at.attrs.get(AT.abstract_origin);
      const next = o && o.ref >= 0 ? this.dies.die(o.ref) : null;
      if (!next) break;
      at = next;
    }
    return at;
  }

  private inlinedBlockAt(die: Die, pc: number): Die | null {
    // the innermost inlined_subroutine whose low_pc (or first range) is pc
    let found: Die | null = null;
    const visit = (d: Die, depth: number) => {
      if (depth > 12) return;
      for (const c of this.dies.children(d)) {
        if (!c.hasChildren) continue;
        if (c.tag === DW_TAG.inlined_subroutine && this.blockStart(c) === pc) found = c;
        if (c.tag === DW_TAG.inlined_subroutine || c.tag === DW_TAG.lexical_block) visit(c, depth + 1);
      }
    };
    visit(die, 0);
    return found;
  }

  /** Where an inlined block starts as gdb 13 sees it: DW_AT_low_pc, else its first listed range. */
  private blockStart(die: Die): number {
    const low = die.attrs.get(0x11 /* low_pc */);
    if (low && !Number.isNaN(low.num)) return low.num;
    const ranges = die.attrs.get(0x55 /* ranges */);
    if (!ranges || Number.isNaN(ranges.num)) return NaN;
    const data = this.info.dwarf.data;
    const list = readRanges(data, die.unit, ranges.form, ranges.num, die.unit.root(data).lowPc);
    return list.length ? list[0] : NaN;
  }

  private locationAt(die: Die, pc: number): ParameterLocation {
    const a = die.attrs.get(AT.location);
    if (!a) return { expr: null, fromList: false };
    if (a.block) return { expr: a.block, fromList: false };
    if (a.form !== DW_FORM.sec_offset && a.form !== DW_FORM.loclistx && Number.isNaN(a.num)) return { expr: null, fromList: true };
    const unit = die.unit;
    const base = unit.root(this.info.dwarf.data).lowPc;
    const expr = unit.version >= 5 ? this.fromLoclists(a, unit, pc, base) : this.fromDebugLoc(a.num, pc, base);
    return { expr, fromList: true };
  }

  private fromDebugLoc(offset: number, pc: number, base: number): Buffer | null {
    const buf = this.loc;
    if (!buf) return null;
    const r = new ByteReader(buf, offset);
    while (r.offset + 16 <= buf.length) {
      const lo = buf.readBigUInt64LE(r.offset);
      const hi = buf.readBigUInt64LE(r.offset + 8);
      r.offset += 16;
      if (lo === 0n && hi === 0n) return null;
      if (lo === 0xffffffffffffffffn) {
        base = Number(hi);
        continue;
      }
      const n = r.u16();
      const expr = buf.subarray(r.offset, r.offset + n);
      r.offset += n;
      if (pc >= base + Number(lo) && pc < base + Number(hi)) return expr;
    }
    return null;
  }

  private fromLoclists(a: AttrValue, unit: Die['unit'], pc: number, base: number): Buffer | null {
    const buf = this.loclists;
    if (!buf) return null;
    const data = this.info.dwarf.data;
    let offset = a.num;
    if (a.form === DW_FORM.loclistx) {
      const root = this.dies.die(unit.dieOffset);
      const lb = root?.attrs.get(AT.loclists_base)?.num ?? 12;
      offset = lb + new ByteReader(buf, lb + a.num * unit.offsetSize).offsetOf(unit.offsetSize);
    }
    const r = new ByteReader(buf, offset);
    const addr = (i: number) => indexedAddress(i, unit, data);
    let fallback: Buffer | null = null;
    while (r.offset < buf.length) {
      const kind = r.u8();
      let lo = 0;
      let hi = 0;
      switch (kind) {
        case 0: // end_of_list
          return fallback;
        case 1: // base_addressx
          base = addr(r.uleb128());
          continue;
        case 2: // startx_endx
          lo = addr(r.uleb128());
          hi = addr(r.uleb128());
          break;
        case 3: // startx_length
          lo = addr(r.uleb128());
          hi = lo + r.uleb128();
          break;
        case 4: // offset_pair
          lo = base + r.uleb128();
          hi = base + r.uleb128();
          break;
        case 5: // default_location
          lo = -1;
          break;
        case 6: // base_address
          base = r.uint(unit.addressSize);
          continue;
        case 7: // start_end
          lo = r.uint(unit.addressSize);
          hi = r.uint(unit.addressSize);
          break;
        case 8: // start_length
          lo = r.uint(unit.addressSize);
          hi = lo + r.uleb128();
          break;
        case 9: // GNU_view_pair: two views, no expression
          r.uleb128();
          r.uleb128();
          continue;
        default:
          return null;
      }
      const n = r.uleb128();
      const expr = buf.subarray(r.offset, r.offset + n);
      r.offset += n;
      if (lo === -1) fallback = expr;
      else if (pc >= lo && pc < hi) return expr;
    }
    return fallback;
  }
}
