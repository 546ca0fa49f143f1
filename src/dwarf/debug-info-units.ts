/**
 * The compilation units of .debug_info: headers (walked once, cheaply: each header says where the
 * next one starts), root DIEs parsed on demand, and an address -> unit map built from
 * .debug_aranges, falling back to a unit's own DW_AT_low_pc/high_pc/ranges when aranges miss it.
 */
import { ByteReader } from './byte-reader';
import { DW_AT, DW_TAG } from './debug-info-constants';
import { DwarfData } from './debug-info-data';
import { isAddressForm, readAddress, readNumber, readString, skipForm, UnitEncoding } from './debug-info-forms';
import { readRanges } from './debug-info-ranges';
import { MalformedDwarfError } from '../errors';

const DW_UT_type = 2;
const DW_UT_skeleton = 4;
const DW_UT_split_compile = 5;
const DW_UT_split_type = 6;

export interface UnitRoot {
  tag: number;
  name: string | null;
  compDir: string | null;
  /** Offset of the unit's line program in .debug_line, or -1. */
  stmtList: number;
  /** DW_AT_low_pc of the unit: the base address of its range lists. */
  lowPc: number;
  /** Code ranges of the unit, flat [lo, hi, ...]. */
  ranges: number[];
  language: number;
}

export class Unit implements UnitEncoding {
  strOffsetsBase = 0;
  addrBase = 0;
  rnglistsBase = 0;
  private rootCache: UnitRoot | null = null;

  constructor(
    readonly index: number,
    readonly offset: number,
    /** End of the unit (exclusive) in .debug_info. */
    readonly end: number,
    readonly version: number,
    readonly unitType: number,
    readonly addressSize: number,
    readonly offsetSize: number,
    readonly abbrevOffset: number,
    /** Offset of the root DIE. */
    readonly dieOffset: number,
  ) {}

  get isCode(): boolean {
    return this.unitType !== DW_UT_type && this.unitType !== DW_UT_split_type;
  }

  /** The root DIE's attributes; also sets the unit's str_offsets/addr/rnglists bases. */
  root(d: DwarfData): UnitRoot {
    if (this.rootCache) return this.rootCache;
    const abbrevs = d.abbrevTable(this.abbrevOffset);
    const r = new ByteReader(d.info, this.dieOffset);
    const code = r.uleb128();
    const abbrev = abbrevs.get(code);
    if (!abbrev) throw new MalformedDwarfError(`unit at .debug_info+0x${this.offset.toString(16)} has unknown abbreviation ${code}`);
    // first pass: the bases that indexed forms of the other attributes need
    const start = r.offset;
    for (let i = 0; i < abbrev.attrs.length; i++) {
      const at = abbrev.attrs[i];
      const form = abbrev.forms[i];
      if (at === DW_AT.str_offsets_base) this.strOffsetsBase = readNumber(r, form, this, abbrev.implicitConsts[i]);
      else if (at === DW_AT.addr_base || at === DW_AT.GNU_addr_base) this.addrBase = readNumber(r, form, this, abbrev.implicitConsts[i]);
      else if (at === DW_AT.rnglists_base) this.rnglistsBase = readNumber(r, form, this, abbrev.implicitConsts[i]);
      else skipForm(r, form, this);
    }
    r.offset = start;
    const root: UnitRoot = { tag: abbrev.tag, name: null, compDir: null, stmtList: -1, lowPc: 0, ranges: [], language: 0 };
    let highPc = NaN;
    let highIsOffset = false;
    let rangesForm = 0;
    let rangesValue = -1;
    for (let i = 0; i < abbrev.attrs.length; i++) {
      const at = abbrev.attrs[i];
      const form = abbrev.forms[i];
      switch (at) {
        case DW_AT.name:
          root.name = readString(r, form, this, d);
          break;
        case DW_AT.comp_dir:
          root.compDir = readString(r, form, this, d);
          break;
        case DW_AT.stmt_list:
          root.stmtList = readNumber(r, form, this, abbrev.implicitConsts[i]);
          break;
        case DW_AT.low_pc:
          root.lowPc = readAddress(r, form, this, d);
          break;
        case DW_AT.high_pc:
          highIsOffset = !isAddressForm(form);
          highPc = highIsOffset ? readNumber(r, form, this, abbrev.implicitConsts[i]) : readAddress(r, form, this, d);
          break;
        case DW_AT.ranges:
          rangesForm = form;
          rangesValue = readNumber(r, form, this, abbrev.implicitConsts[i]);
          break;
        case DW_AT.language:
          root.language = readNumber(r, form, this, abbrev.implicitConsts[i]);
          break;
        default:
          skipForm(r, form, this);
      }
    }
    if (rangesValue >= 0) readRanges(d, this, rangesForm, rangesValue, root.lowPc, root.ranges);
    else if (!Number.isNaN(highPc)) {
      const hi = highIsOffset ? root.lowPc + highPc : highPc;
      if (hi > root.lowPc) root.ranges.push(root.lowPc, hi);
    }
    this.rootCache = root;
    return root;
  }
}

export class UnitIndex {
  private unitList: Unit[] | null = null;
  private los: Float64Array | null = null;
  private his: Float64Array | null = null;
  private owners: Int32Array | null = null;

  constructor(readonly data: DwarfData) {}

  /** Every unit header of .debug_info, in section order. */
  units(): Unit[] {
    if (this.unitList) return this.unitList;
    const list: Unit[] = [];
    const info = this.data.info;
    const r = new ByteReader(info, 0);
    while (r.offset + 11 <= info.length) {
      const offset = r.offset;
      const length = r.initialLength();
      const offsetSize = r.lastOffsetSize;
      const end = r.offset + length;
      if (length === 0 || end > info.length) break;
      const version = r.u16();
      let unitType = 1;
      let addressSize: number;
      let abbrevOffset: number;
      if (version >= 5) {
        unitType = r.u8();
        addressSize = r.u8();
        abbrevOffset = r.offsetOf(offsetSize);
        if (unitType === DW_UT_skeleton || unitType === DW_UT_split_compile) r.skip(8);
        else if (unitType === DW_UT_type || unitType === DW_UT_split_type) r.skip(8 + offsetSize);
      } else {
        abbrevOffset = r.offsetOf(offsetSize);
        addressSize = r.u8();
      }
      if (version >= 2 && version <= 5) {
        list.push(new Unit(list.length, offset, end, version, unitType, addressSize, offsetSize, abbrevOffset, r.offset));
      }
      r.offset = end;
    }
    this.unitList = list;
    return list;
  }

  /** The unit whose bytes hold .debug_info offset `dieOffset`. */
  unitContaining(dieOffset: number): Unit | null {
    const list = this.units();
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const u = list[mid];
      if (dieOffset < u.offset) hi = mid - 1;
      else if (dieOffset >= u.end) lo = mid + 1;
      else return u;
    }
    return null;
  }

  /** The compilation unit whose code covers link-time address `pc`. */
  unitForPc(pc: number): Unit | null {
    if (!this.los) this.buildAddressMap();
    const los = this.los!;
    const his = this.his!;
    let lo = 0;
    let hi = los.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (los[mid] <= pc) lo = mid + 1;
      else hi = mid;
    }
    // a few ranges can overlap (code discarded by the linker is relocated to 0): look back a little
    for (let i = lo - 1, n = 0; i >= 0 && n < 8; i--, n++) {
      if (pc < his[i]) return this.units()[this.owners![i]];
    }
    return null;
  }

  private buildAddressMap(): void {
    const units = this.units();
    const entries: number[] = []; // lo, hi, unit index triples
    const covered = new Set<number>();
    if (this.data.aranges) this.readAranges(this.data.aranges, entries, covered);
    for (const u of units) {
      if (!u.isCode || covered.has(u.offset)) continue;
      let root: UnitRoot;
      try {
        root = u.root(this.data);
      } catch {
        continue; // a unit we cannot read has no addresses for us
      }
      if (root.tag !== DW_TAG.compile_unit && root.tag !== DW_TAG.skeleton_unit) continue;
      for (let i = 0; i < root.ranges.length; i += 2) entries.push(root.ranges[i], root.ranges[i + 1], u.index);
    }
    const n = entries.length / 3;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => entries[a * 3] - entries[b * 3] || entries[a * 3 + 1] - entries[b * 3 + 1]);
    this.los = new Float64Array(n);
    this.his = new Float64Array(n);
    this.owners = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const k = order[i] * 3;
      this.los[i] = entries[k];
      this.his[i] = entries[k + 1];
      this.owners[i] = entries[k + 2];
    }
  }

  private readAranges(buf: Buffer, entries: number[], covered: Set<number>): void {
    const r = new ByteReader(buf, 0);
    while (r.offset + 16 <= buf.length) {
      const setStart = r.offset;
      const length = r.initialLength();
      const offsetSize = r.lastOffsetSize;
      const end = r.offset + length;
      if (length === 0 || end > buf.length) break;
      r.u16(); // version 2
      const infoOffset = r.offsetOf(offsetSize);
      const addressSize = r.u8();
      const segmentSize = r.u8();
      const unit = this.unitContaining(infoOffset);
      const tuple = 2 * addressSize + segmentSize;
      const rem = (r.offset - setStart) % tuple;
      if (rem) r.skip(tuple - rem);
      if (unit && unit.offset === infoOffset) {
        covered.add(infoOffset);
        while (r.offset + tuple <= end) {
          r.skip(segmentSize);
          const addr = r.uint(addressSize);
          const len = r.uint(addressSize);
          if (addr === 0 && len === 0) break;
          if (len > 0) entries.push(addr, addr + len, unit.index);
        }
      }
      r.offset = end;
    }
  }
}
