/**
 * The unwind tables of one module: .eh_frame (found through .eh_frame_hdr's binary search
 * table when present, else through a sorted index built on first use) and .debug_frame.
 * `ruleAt` compiles the row for a pc once and caches it, so repeated hits cost one Map lookup.
 */
import { CorruptCfiError, UstackError } from '../errors';
import { ByteReader } from './byte-reader';
import { CfiSection, encodedPointerSize, readEncodedPointer, type FrameDescriptionEntry, type SectionBytes } from './cfi-entries';
import { compileRule } from './cfi-program';
import type { UnwindRule } from './cfi-rule';

export type { SectionBytes } from './cfi-entries';
export { UnwindRule } from './cfi-rule';

/** Sorted FDE start/end addresses of one section, for binary search. */
class FdeIndex {
  readonly starts: Float64Array;
  readonly ends: Float64Array;
  readonly offsets: Float64Array;

  constructor(section: CfiSection) {
    const list: FrameDescriptionEntry[] = [];
    section.forEachFde((fde) => {
      // discarded functions keep FDEs at address 0 (or empty ones) in some objects
      if (fde.pcEnd > fde.pcBegin && fde.pcBegin !== 0) list.push(fde);
    });
    list.sort((a, b) => a.pcBegin - b.pcBegin);
    this.starts = new Float64Array(list.length);
    this.ends = new Float64Array(list.length);
    this.offsets = new Float64Array(list.length);
    for (let i = 0; i < list.length; i++) {
      this.starts[i] = list[i].pcBegin;
      this.ends[i] = list[i].pcEnd;
      this.offsets[i] = list[i].offset;
    }
  }

  /** Section offset of the FDE covering pc, or -1. */
  find(pc: number): number {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= pc) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // nested/overlapping FDEs are rare; look back a little for one that covers pc
    for (let i = found; i >= 0 && i > found - 4; i--) if (pc < this.ends[i]) return this.offsets[i];
    return -1;
  }

  get size(): number {
    return this.starts.length;
  }
}

/** The .eh_frame_hdr binary search table. */
class EhFrameHdrTable {
  private readonly tableStart: number;
  private readonly count: number;
  private readonly entrySize: number;
  private readonly reader: ByteReader;

  private constructor(
    private readonly hdr: SectionBytes,
    private readonly tableEncoding: number,
    tableStart: number,
    count: number,
  ) {
    this.tableStart = tableStart;
    this.count = count;
    this.entrySize = 2 * encodedPointerSize(tableEncoding);
    this.reader = new ByteReader(hdr.data, 0);
  }

  /** Null when the header has no usable table (then an index of .eh_frame is built instead). */
  static parse(hdr: SectionBytes): EhFrameHdrTable | null {
    const buf = hdr.data;
    if (buf.length < 4 || buf[0] !== 1) return null;
    const ptrEnc = buf[1];
    const countEnc = buf[2];
    const tableEnc = buf[3];
    if (countEnc === 0xff || tableEnc === 0xff || encodedPointerSize(tableEnc) === 0) return null;
    const r = new ByteReader(buf, 4);
    readEncodedPointer(r, ptrEnc, hdr, hdr.address);
    const count = readEncodedPointer(r, countEnc, hdr, hdr.address);
    if (!(count > 0) || r.offset + count * 2 * encodedPointerSize(tableEnc) > buf.length) return null;
    return new EhFrameHdrTable(hdr, tableEnc, r.offset, count);
  }

  private initialLocation(i: number): number {
    const at = this.tableStart + i * this.entrySize;
    if (this.tableEncoding === 0x3b) return this.hdr.address + this.hdr.data.readInt32LE(at); // datarel|sdata4
    this.reader.offset = at;
    return readEncodedPointer(this.reader, this.tableEncoding, this.hdr, this.hdr.address);
  }

  private fdeAddress(i: number): number {
    const at = this.tableStart + i * this.entrySize + this.entrySize / 2;
    if (this.tableEncoding === 0x3b) return this.hdr.address + this.hdr.data.readInt32LE(at);
    this.reader.offset = at;
    return readEncodedPointer(this.reader, this.tableEncoding, this.hdr, this.hdr.address);
  }

  /** Link-time address of the FDE whose start is the last one <= pc, or NaN. */
  find(pc: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.initialLocation(mid) <= pc) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? NaN : this.fdeAddress(found);
  }
}

export class CfiTable {
  private readonly eh: CfiSection | null;
  private readonly debug: CfiSection | null;
  private readonly hdr: EhFrameHdrTable | null;
  private ehIndex: FdeIndex | null = null;
  private debugIndex: FdeIndex | null = null;
  private readonly cache = new Map<number, UnwindRule | null>();
  /** Problems met while compiling rows (the affected pcs fall back to frame pointers). */
  readonly errors: UstackError[] = [];

  private constructor(eh: SectionBytes | null, hdr: SectionBytes | null, debug: SectionBytes | null) {
    this.eh = eh && eh.data.length ? new CfiSection(eh, true) : null;
    this.debug = debug && debug.data.length ? new CfiSection(debug, false) : null;
    this.hdr = this.eh && hdr && hdr.data.length ? EhFrameHdrTable.parse(hdr) : null;
  }

  static fromSections(s: { ehFrame?: SectionBytes | null; ehFrameHdr?: SectionBytes | null; debugFrame?: SectionBytes | null }): CfiTable {
    return new CfiTable(s.ehFrame ?? null, s.ehFrameHdr ?? null, s.debugFrame ?? null);
  }

  /** The unwind rule in force at link-time address `pc`, or null if no FDE covers it. */
  ruleAt(pc: number): UnwindRule | null {
    let rule = this.cache.get(pc);
    if (rule === undefined) {
      rule = this.compile(pc);
      this.cache.set(pc, rule);
    }
    return rule;
  }

  /** The FDE covering link-time address `pc`, or null. */
  fdeFor(pc: number): FrameDescriptionEntry | null {
    if (this.eh) {
      let fde: FrameDescriptionEntry | null = null;
      if (this.hdr) {
        const addr = this.hdr.find(pc);
        if (addr === addr) fde = this.eh.fdeAt(addr - this.eh.bytes.address);
      } else {
        this.ehIndex ??= new FdeIndex(this.eh);
        const off = this.ehIndex.find(pc);
        if (off >= 0) fde = this.eh.fdeAt(off);
      }
      if (fde && fde.pcBegin <= pc && pc < fde.pcEnd) return fde;
    }
    if (this.debug) {
      this.debugIndex ??= new FdeIndex(this.debug);
      const off = this.debugIndex.find(pc);
      if (off >= 0) return this.debug.fdeAt(off);
    }
    return null;
  }

  /** Every FDE of .eh_frame and .debug_frame (tests, diagnostics). */
  allFdes(): FrameDescriptionEntry[] {
    const out: FrameDescriptionEntry[] = [];
    this.eh?.forEachFde((f) => out.push(f));
    this.debug?.forEachFde((f) => out.push(f));
    return out;
  }

  private compile(pc: number): UnwindRule | null {
    try {
      const fde = this.fdeFor(pc);
      return fde ? compileRule(fde, pc) : null;
    } catch (e) {
      if (e instanceof CorruptCfiError) {
        if (this.errors.length < 16) this.errors.push(e);
        return null;
      }
      if (e instanceof RangeError) {
        // reads past the end of a truncated section
        if (this.errors.length < 16) this.errors.push(new CorruptCfiError('CFI', pc, e.message));
        return null;
      }
      throw e;
    }
  }
}
