/**
 * Address ranges of DIEs (DW_AT_ranges): .debug_ranges (DWARF 2-4) and .debug_rnglists (DWARF 5),
 * returned flat as [lo0, hi0, lo1, hi1, ...] with empty ranges dropped.
 */
import { ByteReader } from './byte-reader';
import { DW_FORM } from './debug-info-constants';
import { DwarfData } from './debug-info-data';
import { indexedAddress, UnitEncoding } from './debug-info-forms';
import { MalformedDwarfError } from '../errors';

const MAX_ADDRESS_8 = 0xffffffff * 0x100000000 + 0xffffffff;

const DW_RLE = {
  end_of_list: 0,
  base_addressx: 1,
  startx_endx: 2,
  startx_length: 3,
  offset_pair: 4,
  base_address: 5,
  start_end: 6,
  start_length: 7,
} as const;

/** Ranges of DW_AT_ranges whose raw value (offset or rnglistx index) was read with `form`. */
export function readRanges(d: DwarfData, u: UnitEncoding, form: number, value: number, base: number, out: number[] = []): number[] {
  if (u.version >= 5) {
    let offset = value;
    if (form === DW_FORM.rnglistx) {
      const at = u.rnglistsBase + value * u.offsetSize;
      offset = u.rnglistsBase + new ByteReader(d.rnglists, at).offsetOf(u.offsetSize);
    }
    return readRngList(d, u, offset, base, out);
  }
  return readDebugRanges(d, u, value, base, out);
}

function readDebugRanges(d: DwarfData, u: UnitEncoding, offset: number, base: number, out: number[]): number[] {
  const r = new ByteReader(d.ranges, offset);
  const size = u.addressSize;
  const max = size === 8 ? MAX_ADDRESS_8 : 0xffffffff;
  while (r.offset + 2 * size <= d.ranges.length) {
    const start = r.uint(size);
    const end = r.uint(size);
    if (start === 0 && end === 0) return out;
    if (start === max) {
      base = end;
      continue;
    }
    if (end > start) out.push(base + start, base + end);
  }
  throw new MalformedDwarfError(`.debug_ranges list at 0x${offset.toString(16)} runs past the section end`);
}

function readRngList(d: DwarfData, u: UnitEncoding, offset: number, base: number, out: number[]): number[] {
  const r = new ByteReader(d.rnglists, offset);
  const size = u.addressSize;
  while (r.offset < d.rnglists.length) {
    const kind = r.u8();
    switch (kind) {
      case DW_RLE.end_of_list:
        return out;
      case DW_RLE.base_addressx:
        base = indexedAddress(r.uleb128(), u, d);
        break;
      case DW_RLE.startx_endx: {
        const lo = indexedAddress(r.uleb128(), u, d);
        const hi = indexedAddress(r.uleb128(), u, d);
        if (hi > lo) out.push(lo, hi);
        break;
      }
      case DW_RLE.startx_length: {
        const lo = indexedAddress(r.uleb128(), u, d);
        const len = r.uleb128();
        if (len > 0) out.push(lo, lo + len);
        break;
      }
      case DW_RLE.offset_pair: {
        const lo = r.uleb128();
        const hi = r.uleb128();
        if (hi > lo) out.push(base + lo, base + hi);
        break;
      }
      case DW_RLE.base_address:
        base = r.uint(size);
        break;
      case DW_RLE.start_end: {
        const lo = r.uint(size);
        const hi = r.uint(size);
        if (hi > lo) out.push(lo, hi);
        break;
      }
      case DW_RLE.start_length: {
        const lo = r.uint(size);
        const len = r.uleb128();
        if (len > 0) out.push(lo, lo + len);
        break;
      }
      default:
        throw new MalformedDwarfError(`unknown range list entry kind ${kind} in .debug_rnglists at 0x${(r.offset - 1).toString(16)}`);
    }
  }
  throw new MalformedDwarfError(`.debug_rnglists list at 0x${offset.toString(16)} runs past the section end`);
}
