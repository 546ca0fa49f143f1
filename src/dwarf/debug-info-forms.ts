/**
 * Reading and skipping attribute values by DW_FORM, for DWARF 2-5 (32- and 64-bit).
 * Indexed forms (strx, addrx, rnglistx) are resolved through the unit's *_base attributes.
 */
import { ByteReader, stringAt } from './byte-reader';
import { DW_FORM } from './debug-info-constants';
import { DwarfData } from './debug-info-data';
import { MalformedDwarfError } from '../errors';

/** What a unit header and its root DIE say about how to decode the unit's attribute values. */
export interface UnitEncoding {
  /** Offset of the unit header in .debug_info. */
  offset: number;
  version: number;
  addressSize: number;
  offsetSize: number;
  strOffsetsBase: number;
  addrBase: number;
  rnglistsBase: number;
}

export function skipForm(r: ByteReader, form: number, u: UnitEncoding): void {
  switch (form) {
    case DW_FORM.flag_present:
    case DW_FORM.implicit_const:
      return;
    case DW_FORM.data1:
    case DW_FORM.ref1:
    case DW_FORM.flag:
    case DW_FORM.strx1:
    case DW_FORM.addrx1:
      r.offset += 1;
      return;
    case DW_FORM.data2:
    case DW_FORM.ref2:
    case DW_FORM.strx2:
    case DW_FORM.addrx2:
      r.offset += 2;
      return;
    case DW_FORM.strx3:
    case DW_FORM.addrx3:
      r.offset += 3;
      return;
    case DW_FORM.data4:
    case DW_FORM.ref4:
    case DW_FORM.ref_sup4:
    case DW_FORM.strx4:
    case DW_FORM.addrx4:
      r.offset += 4;
      return;
    case DW_FORM.data8:
    case DW_FORM.ref8:
    case DW_FORM.ref_sig8:
    case DW_FORM.ref_sup8:
      r.offset += 8;
      return;
    case DW_FORM.data16:
      r.offset += 16;
      return;
    case DW_FORM.addr:
      r.offset += u.addressSize;
      return;
    case DW_FORM.ref_addr:
      r.offset += u.version <= 2 ? u.addressSize : u.offsetSize;
      return;
    case DW_FORM.strp:
    case DW_FORM.line_strp:
    case DW_FORM.sec_offset:
    case DW_FORM.strp_sup:
    case DW_FORM.GNU_ref_alt:
    case DW_FORM.GNU_strp_alt:
      r.offset += u.offsetSize;
      return;
    case DW_FORM.sdata:
    case DW_FORM.udata:
    case DW_FORM.ref_udata:
    case DW_FORM.strx:
    case DW_FORM.addrx:
    case DW_FORM.loclistx:
    case DW_FORM.rnglistx:
    case DW_FORM.GNU_addr_index:
    case DW_FORM.GNU_str_index:
      r.uleb128();
      return;
    case DW_FORM.string: {
      const end = r.buf.indexOf(0, r.offset);
      r.offset = end < 0 ? r.buf.length : end + 1;
      return;
    }
    case DW_FORM.block1:
      { const n = r.u8(); r.offset += n; }
      return;
    case DW_FORM.block2:
      { const n = r.u16(); r.offset += n; }
      return;
    case DW_FORM.block4:
      { const n = r.u32(); r.offset += n; }
      return;
    case DW_FORM.block:
    case DW_FORM.exprloc:
      { const n = r.uleb128(); r.offset += n; }
      return;
    case DW_FORM.indirect:
      skipForm(r, r.uleb128(), u);
      return;
    default:
      throw new MalformedDwarfError(`unknown attribute form 0x${form.toString(16)} in the unit at .debug_info+0x${u.offset.toString(16)}`);
  }
}

/** A string-class value (string, strp, line_strp, strx*), or null for forms of other classes. */
export function readString(r: ByteReader, form: number, u: UnitEncoding, d: DwarfData): string | null {
  switch (form) {
    case DW_FORM.string:
      return r.cstring();
    case DW_FORM.strp:
      return stringAt(d.str, r.offsetOf(u.offsetSize));
    case DW_FORM.line_strp:
      return stringAt(d.lineStr, r.offsetOf(u.offsetSize));
    case DW_FORM.strx:
    case DW_FORM.GNU_str_index:
      return indexedString(r.uleb128(), u, d);
    case DW_FORM.strx1:
      return indexedString(r.u8(), u, d);
    case DW_FORM.strx2:
      return indexedString(r.u16(), u, d);
    case DW_FORM.strx3:
      return indexedString(r.u24(), u, d);
    case DW_FORM.strx4:
      return indexedString(r.u32(), u, d);
    case DW_FORM.indirect:
      return readString(r, r.uleb128(), u, d);
    default:
      skipForm(r, form, u);
      return null;
  }
}

function indexedString(index: number, u: UnitEncoding, d: DwarfData): string {
  const at = u.strOffsetsBase + index * u.offsetSize;
  const off = u.offsetSize === 8 ? d.strOffsets.readUInt32LE(at) + d.strOffsets.readUInt32LE(at + 4) * 0x100000000 : d.strOffsets.readUInt32LE(at);
  return stringAt(d.str, off);
}

/** An address-class value (addr, addrx*), resolved through .debug_addr. */
export function readAddress(r: ByteReader, form: number, u: UnitEncoding, d: DwarfData): number {
  switch (form) {
    case DW_FORM.addr:
      return r.uint(u.addressSize);
    case DW_FORM.addrx:
    case DW_FORM.GNU_addr_index:
      return indexedAddress(r.uleb128(), u, d);
    case DW_FORM.addrx1:
      return indexedAddress(r.u8(), u, d);
    case DW_FORM.addrx2:
      return indexedAddress(r.u16(), u, d);
    case DW_FORM.addrx3:
      return indexedAddress(r.u24(), u, d);
    case DW_FORM.addrx4:
      return indexedAddress(r.u32(), u, d);
    default:
      return readNumber(r, form, u, 0);
  }
}

export function indexedAddress(index: number, u: UnitEncoding, d: DwarfData): number {
  return new ByteReader(d.addr, u.addrBase + index * u.addressSize).uint(u.addressSize);
}

export function isAddressForm(form: number): boolean {
  return form === DW_FORM.addr || (form >= DW_FORM.addrx1 && form <= DW_FORM.addrx4) || form === DW_FORM.addrx || form === DW_FORM.GNU_addr_index;
}

/**
 * A constant, flag, section offset or index as a number (the caller knows the class).
 * Unknown classes are skipped and read as NaN.
 */
export function readNumber(r: ByteReader, form: number, u: UnitEncoding, implicitConst: number): number {
  switch (form) {
    case DW_FORM.data1:
    case DW_FORM.flag:
    case DW_FORM.ref1:
      return r.u8();
    case DW_FORM.data2:
    case DW_FORM.ref2:
      return r.u16();
    case DW_FORM.data4:
    case DW_FORM.ref4:
      return r.u32();
    case DW_FORM.data8:
    case DW_FORM.ref8:
      return r.u64();
    case DW_FORM.sdata:
      return r.sleb128();
    case DW_FORM.udata:
    case DW_FORM.ref_udata:
    case DW_FORM.loclistx:
    case DW_FORM.rnglistx:
      return r.uleb128();
    case DW_FORM.sec_offset:
      return r.offsetOf(u.offsetSize);
    case DW_FORM.addr:
      return r.uint(u.addressSize);
    case DW_FORM.flag_present:
      return 1;
    case DW_FORM.implicit_const:
      return implicitConst;
    case DW_FORM.indirect:
      return readNumber(r, r.uleb128(), u, implicitConst);
    default:
      skipForm(r, form, u);
      return NaN;
  }
}

/** A reference as an absolute .debug_info offset; -1 for references into other files (type signatures, dwz). */
export function readRef(r: ByteReader, form: number, u: UnitEncoding): number {
  switch (form) {
    case DW_FORM.ref1:
      return u.offset + r.u8();
    case DW_FORM.ref2:
      return u.offset + r.u16();
    case DW_FORM.ref4:
      return u.offset + r.u32();
    case DW_FORM.ref8:
      return u.offset + r.u64();
    case DW_FORM.ref_udata:
      return u.offset + r.uleb128();
    case DW_FORM.ref_addr:
      return r.offsetOf(u.version <= 2 ? u.addressSize : u.offsetSize);
    case DW_FORM.indirect:
      return readRef(r, r.uleb128(), u);
    default:
      skipForm(r, form, u);
      return -1;
  }
}
