import { AbbrevTable } from './debug-info-abbrev';
import { DebugSections } from './debug-sections';

const EMPTY = Buffer.alloc(0);

/** The debug sections the DIE and line readers share, plus a cache of parsed abbreviation tables. */
export class DwarfData {
  readonly info: Buffer;
  readonly abbrev: Buffer;
  readonly str: Buffer;
  readonly lineStr: Buffer;
  readonly strOffsets: Buffer;
  readonly addr: Buffer;
  readonly ranges: Buffer;
  readonly rnglists: Buffer;
  readonly aranges: Buffer | null;
  readonly line: Buffer | null;
  private readonly abbrevs = new Map<number, AbbrevTable>();

  constructor(s: DebugSections) {
    const get = (name: string): Buffer | null => s.section(name)?.data ?? null;
    this.info = get('.debug_info') ?? EMPTY;
    this.abbrev = get('.debug_abbrev') ?? EMPTY;
    this.str = get('.debug_str') ?? EMPTY;
    this.lineStr = get('.debug_line_str') ?? EMPTY;
    this.strOffsets = get('.debug_str_offsets') ?? EMPTY;
    this.addr = get('.debug_addr') ?? EMPTY;
    this.ranges = get('.debug_ranges') ?? EMPTY;
    this.rnglists = get('.debug_rnglists') ?? EMPTY;
    this.aranges = get('.debug_aranges');
    this.line = get('.debug_line');
  }

  abbrevTable(offset: number): AbbrevTable {
    let t = this.abbrevs.get(offset);
    if (!t) {
      t = AbbrevTable.parse(this.abbrev, offset);
      this.abbrevs.set(offset, t);
    }
    return t;
  }
}
