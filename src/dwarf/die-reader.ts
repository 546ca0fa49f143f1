/**
 * Random access to single DIEs of .debug_info: a DIE's tag and attribute values by offset, and
 * its children. The scope scanner walks whole units for symbolization; this reader serves the few
 * DIEs that describing a function's parameters and their types needs (read on demand, cached).
 */
import { ByteReader } from './byte-reader';
import { DW_FORM } from './debug-info-constants';
import { DwarfData } from './debug-info-data';
import { isAddressForm, readAddress, readNumber, readRef, readString, skipForm } from './debug-info-forms';
import { Unit, UnitIndex } from './debug-info-units';

/** One attribute value, read by the class its form belongs to. */
export interface AttrValue {
  form: number;
  /** Constants, flags, section offsets, addresses (unsigned reading of data forms). */
  num: number;
  /** String forms. */
  str: string | null;
  /** exprloc and block forms. */
  block: Buffer | null;
  /** Reference forms: absolute .debug_info offset (-1 when not a reference). */
  ref: number;
  /** Signed reading of data1/2/4/8 (DW_AT_const_value, bounds of signed ranges). */
  signed: number;
}

export interface Die {
  offset: number;
  tag: number;
  hasChildren: boolean;
  attrs: Map<number, AttrValue>;
  /** Offset just past the attributes: the first child, when there are children. */
  childrenAt: number;
  unit: Unit;
}

const DW_AT_sibling = 0x01;

export class DieReader {
  private readonly cache = new Map<number, Die | null>();

  constructor(
    readonly data: DwarfData,
    readonly units: UnitIndex,
  ) {}

  die(offset: number): Die | null {
    let d = this.cache.get(offset);
    if (d !== undefined) return d;
    const unit = this.units.unitContaining(offset);
    d = unit ? this.read(unit, offset) : null;
    this.cache.set(offset, d);
    return d;
  }

  /** The DIE's direct children, in order. */
  children(die: Die): Die[] {
    const out: Die[] = [];
    if (!die.hasChildren) return out;
    let at = die.childrenAt;
    const end = die.unit.end;
    while (at < end) {
      const r = new ByteReader(this.data.info, at);
      if (r.uleb128() === 0) break;
      const child = this.die(at);
      if (!child) break;
      out.push(child);
      at = this.skipSubtree(child);
    }
    return out;
  }

  private skipSubtree(die: Die): number {
    if (!die.hasChildren) return die.childrenAt;
    const sibling = die.attrs.get(DW_AT_sibling);
    if (sibling && sibling.ref > die.offset) return sibling.ref;
    let at = die.childrenAt;
    const end = die.unit.end;
    while (at < end) {
      const r = new ByteReader(this.data.info, at);
      if (r.uleb128() === 0) return r.offset;
      const child = this.die(at);
      if (!child) return end;
      at = this.skipSubtree(child);
    }
    return end;
  }

  private read(unit: Unit, offset: number): Die | null {
    unit.root(this.data); // string/address bases
    const r = new ByteReader(this.data.info, offset);
    const code = r.uleb128();
    if (code === 0) return null;
    const abbrev = this.data.abbrevTable(unit.abbrevOffset).get(code);
    if (!abbrev) return null;
    const attrs = new Map<number, AttrValue>();
    for (let i = 0; i < abbrev.attrs.length; i++) {
      const form = abbrev.forms[i];
      const v: AttrValue = { form, num: NaN, str: null, block: null, ref: -1, signed: NaN };
      const start = r.offset;
      switch (form) {
        case DW_FORM.exprloc:
        case DW_FORM.block: {
          const n = r.uleb128();
          v.block = this.data.info.subarray(r.offset, r.offset + n);
          r.offset += n;
          break;
        }
        case DW_FORM.block1:
        case DW_FORM.block2:
        case DW_FORM.block4: {
          const n = form === DW_FORM.block1 ? r.u8() : form === DW_FORM.block2 ? r.u16() : r.u32();
          v.block = this.data.info.subarray(r.offset, r.offset + n);
          r.offset += n;
          break;
        }
        case DW_FORM.ref1:
        case DW_FORM.ref2:
        case DW_FORM.ref4:
        case DW_FORM.ref8:
        case DW_FORM.ref_udata:
        case DW_FORM.ref_addr:
          v.ref = readRef(r, form, unit);
          break;
        case DW_FORM.string:
        case DW_FORM.strp:
        case DW_FORM.line_strp:
        case DW_FORM.strx:
        case DW_FORM.strx1:
        case DW_FORM.strx2:
        case DW_FORM.strx3:
        case DW_FORM.strx4:
        case DW_FORM.GNU_str_index:
          v.str = readString(r, form, unit, this.data);
          break;
        case DW_FORM.data1:
          v.signed = r.buf.readInt8(r.offset);
          v.num = r.u8();
          break;
        case DW_FORM.data2:
          v.signed = r.buf.readInt16LE(r.offset);
          v.num = r.u16();
          break;
        case DW_FORM.data4:
          v.signed = r.buf.readInt32LE(r.offset);
          v.num = r.u32();
          break;
        case DW_FORM.data8:
          v.signed = Number(r.buf.readBigInt64LE(r.offset));
          v.num = r.u64();
          break;
        case DW_FORM.sdata:
          v.signed = v.num = r.sleb128();
          break;
        case DW_FORM.ref_sig8:
        case DW_FORM.GNU_ref_alt:
          skipForm(r, form, unit);
          break;
        default:
          if (isAddressForm(form)) v.num = readAddress(r, form, unit, this.data);
          else v.num = readNumber(r, form, unit, abbrev.implicitConsts[i]);
          v.signed = v.num;
      }
      if (r.offset === start && form !== DW_FORM.flag_present && form !== DW_FORM.implicit_const && form !== DW_FORM.indirect) {
        // nothing consumed: an unknown form would desynchronize the rest of the DIE
        return null;
      }
      attrs.set(abbrev.attrs[i], v);
    }
    return { offset, tag: abbrev.tag, hasChildren: abbrev.hasChildren, attrs, childrenAt: r.offset, unit };
  }
}
