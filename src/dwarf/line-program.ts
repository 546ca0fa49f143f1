/**
 * One line-number program of .debug_line (DWARF 2-5): its header (directories and file names,
 * including the DWARF 5 entry formats) and its rows, run through the state machine of
 * DWARF 5 section 6.2 and kept as sorted typed arrays for binary search.
 */
import { ByteReader } from './byte-reader';
import { DW_FORM } from './debug-info-constants';
import { DwarfData } from './debug-info-data';
import { readNumber, readString, skipForm, UnitEncoding } from './debug-info-forms';
import { MalformedDwarfError } from '../errors';

const DW_LNS = {
  copy: 1,
  advance_pc: 2,
  advance_line: 3,
  set_file: 4,
  set_column: 5,
  negate_stmt: 6,
  set_basic_block: 7,
  const_add_pc: 8,
  fixed_advance_pc: 9,
  set_prologue_end: 10,
  set_epilogue_begin: 11,
  set_isa: 12,
} as const;

const DW_LNE = { end_sequence: 1, set_address: 2, define_file: 3, set_discriminator: 4 } as const;

const DW_LNCT = { path: 1, directory_index: 2 } as const;

/** Numbers per row while collecting: address, file, line, column, statement file, statement line. */
const ROW = 6;

/** Joins a directory and a file name the way addr2line and gdb print them (no normalization). */
export function joinPath(dir: string | null, name: string): string {
  if (name.startsWith('/') || !dir) return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

export class LineProgram {
  /** Full paths by the file index the program (and DW_AT_decl_file/call_file) uses. */
  readonly files: (string | null)[] = [];
  /** Row addresses, ascending. A row with line -1 marks the end of a sequence (no location). */
  addresses: Float64Array = new Float64Array(0);
  fileIndexes: Int32Array = new Int32Array(0);
  lines: Int32Array = new Int32Array(0);
  columns: Int32Array = new Int32Array(0);
  /**
   * gdb's choice where several rows share an address: binutils keeps the last row (fileIndexes/lines),
   * gdb prefers the last row marked is_stmt when the last one is not (stmtFileIndexes/stmtLines).
   */
  stmtFileIndexes: Int32Array = new Int32Array(0);
  stmtLines: Int32Array = new Int32Array(0);
  /** Addresses of rows with the prologue_end flag, sorted. */
  prologueEnds: Float64Array = new Float64Array(0);

  private constructor(readonly offset: number) {}

  static parse(d: DwarfData, offset: number, compDir: string | null, unitName: string | null, defaultAddressSize = 8): LineProgram {
    const buf = d.line;
    if (!buf || offset >= buf.length) throw new MalformedDwarfError(`line program offset 0x${offset.toString(16)} is outside .debug_line`);
    const prog = new LineProgram(offset);
    const r = new ByteReader(buf, offset);
    const unitLength = r.initialLength();
    const offsetSize = r.lastOffsetSize;
    const end = r.offset + unitLength;
    if (end > buf.length) throw new MalformedDwarfError(`line program at .debug_line+0x${offset.toString(16)} runs past the section end`);
    const version = r.u16();
    if (version < 2 || version > 5) throw new MalformedDwarfError(`line program at .debug_line+0x${offset.toString(16)} has unsupported version ${version}`);
    let addressSize = defaultAddressSize;
    if (version >= 5) {
      addressSize = r.u8();
      r.u8(); // segment selector size
    }
    const headerLength = r.offsetOf(offsetSize);
    const programStart = r.offset + headerLength;
    const minInstLength = r.u8();
    if (version >= 4) r.u8(); // maximum_operations_per_instruction (VLIW only)
    const defaultIsStmt = r.u8() !== 0;
    const lineBase = r.i8();
    const lineRange = r.u8();
    const opcodeBase = r.u8();
    const standardLengths: number[] = [0];
    for (let i = 1; i < opcodeBase; i++) standardLengths.push(r.u8());

    const enc: UnitEncoding = { offset: 0, version, addressSize, offsetSize, strOffsetsBase: 0, addrBase: 0, rnglistsBase: 0 };
    if (version >= 5) {
      const dirs = readEntries(r, d, enc).map((e) => e.path);
      const resolvedDirs = dirs.map((dir, i) => (i === 0 || !dir || dir.startsWith('/') ? dir : joinPath(dirs[0] ?? compDir, dir)));
      for (const f of readEntries(r, d, enc)) {
        prog.files.push(f.path === null ? null : joinPath(resolvedDirs[f.dir] ?? compDir, f.path));
      }
    } else {
      const dirs: (string | null)[] = [compDir];
      for (;;) {
        const dir = r.cstring();
        if (!dir) break;
        dirs.push(dir.startsWith('/') ? dir : joinPath(compDir, dir));
      }
      prog.files.push(unitName === null ? null : joinPath(compDir, unitName));
      for (;;) {
        const name = r.cstring();
        if (!name) break;
        const dir = r.uleb128();
        r.uleb128(); // mtime
        r.uleb128(); // length
        prog.files.push(joinPath(dirs[dir] ?? null, name));
      }
    }

    // state machine; sequences are collected separately and sorted by start address afterwards
    r.offset = programStart;
    const seqs: number[][] = [];
    let rows: number[] = []; // address, file, line, column, statement file, statement line
    let address = 0;
    let file = 1;
    let line = 1;
    let column = 0;
    let isStmt = defaultIsStmt;
    // the last is_stmt row at the address being emitted (-1: none yet)
    let groupStmtFile = -1;
    let groupStmtLine = -1;
    let prologueEnd = false;
    const prologueEnds: number[] = [];
    // gdb (PR 17276) records no row that repeats the line last recorded in the same file once that
    // line has had a non-zero discriminator: the earlier row's line covers its addresses
    let discriminator = 0;
    let lineHasDiscriminator = false;
    let gdbLastLine = 0;
    let gdbLastFile = -1;
    const advanceLine = (delta: number): void => {
      line += delta;
      if (delta !== 0) lineHasDiscriminator = discriminator !== 0;
    };
    const emit = (endSeq: boolean): void => {
      if (prologueEnd && !endSeq) prologueEnds.push(address);
      prologueEnd = false;
      const n = rows.length;
      const l = endSeq ? -1 : line;
      const sameAddress = n >= ROW && rows[n - ROW] === address;
      if (!sameAddress) groupStmtLine = -1;
      const gdbSkips = !endSeq && n >= ROW && file === gdbLastFile && line === gdbLastLine && lineHasDiscriminator;
      discriminator = 0;
      if (!endSeq && !gdbSkips) {
        gdbLastFile = file;
        gdbLastLine = line;
      }
      if (isStmt && !endSeq && !gdbSkips) {
        groupStmtFile = file;
        groupStmtLine = l;
      }
      // keep only the last row for one address, as binutils does; gdb's line is the last row too,
      // unless it is not is_stmt and an earlier row at the address is (then the last such row)
      let stmtFile = file;
      let stmtLine = l;
      if (gdbSkips) {
        stmtFile = rows[n - ROW + 4];
        stmtLine = rows[n - ROW + 5];
      } else if (!isStmt && !endSeq && groupStmtLine > 0) {
        stmtFile = groupStmtFile;
        stmtLine = groupStmtLine;
      }
      if (sameAddress) rows.length = n - ROW;
      rows.push(address, file, l, column, stmtFile, stmtLine);
    };
    while (r.offset < end) {
      const op = r.u8();
      if (op >= opcodeBase) {
        const adjusted = op - opcodeBase;
        address += Math.floor(adjusted / lineRange) * minInstLength;
        advanceLine(lineBase + (adjusted % lineRange));
        emit(false);
        continue;
      }
      switch (op) {
        case 0: {
          const len = r.uleb128();
          const next = r.offset + len;
          const sub = len > 0 ? r.u8() : 0;
          if (sub === DW_LNE.end_sequence) {
            isStmt = true;
            emit(true);
            seqs.push(rows);
            rows = [];
            address = 0;
            file = 1;
            line = 1;
            discriminator = 0;
            lineHasDiscriminator = false;
            gdbLastLine = 0;
            gdbLastFile = -1;
            column = 0;
            isStmt = defaultIsStmt;
          } else if (sub === DW_LNE.set_address) {
            address = r.uint(len - 1);
          } else if (sub === DW_LNE.set_discriminator) {
            discriminator = r.uleb128();
            if (discriminator !== 0) lineHasDiscriminator = true;
          } else if (sub === DW_LNE.define_file) {
            const name = r.cstring();
            prog.files.push(name);
          }
          r.offset = next;
          break;
        }
        case DW_LNS.copy:
          emit(false);
          break;
        case DW_LNS.advance_pc:
          address += r.uleb128() * minInstLength;
          break;
        case DW_LNS.advance_line:
          advanceLine(r.sleb128());
          break;
        case DW_LNS.set_file:
          file = r.uleb128();
          break;
        case DW_LNS.set_column:
          column = r.uleb128();
          break;
        case DW_LNS.negate_stmt:
          isStmt = !isStmt;
          break;
        case DW_LNS.const_add_pc:
          address += Math.floor((255 - opcodeBase) / lineRange) * minInstLength;
          break;
        case DW_LNS.fixed_advance_pc:
          address += r.u16();
          break;
        case DW_LNS.set_prologue_end:
          prologueEnd = true;
          break;
        case DW_LNS.set_basic_block:
        case DW_LNS.set_epilogue_begin:
          break;
        case DW_LNS.set_isa:
          r.uleb128();
          break;
        default:
          for (let i = 0; i < standardLengths[op]; i++) r.uleb128();
      }
    }
    prog.setRows(seqs);
    prog.prologueEnds = Float64Array.from(prologueEnds).sort();
    return prog;
  }

  private setRows(seqs: number[][]): void {
    seqs = seqs.filter((s) => s.length >= 2 * ROW);
    seqs.sort((a, b) => a[0] - b[0]);
    let total = 0;
    for (const s of seqs) total += s.length / ROW;
    const addresses = new Float64Array(total);
    const files = new Int32Array(total);
    const lines = new Int32Array(total);
    const columns = new Int32Array(total);
    const stmtFiles = new Int32Array(total);
    const stmtLines = new Int32Array(total);
    let n = 0;
    for (const s of seqs) {
      for (let i = 0; i < s.length; i += ROW) {
        // a sequence that starts where the previous one ended replaces its end marker
        if (n > 0 && addresses[n - 1] === s[i]) n--;
        addresses[n] = s[i];
        files[n] = s[i + 1];
        lines[n] = s[i + 2];
        columns[n] = s[i + 3];
        stmtFiles[n] = s[i + 4];
        stmtLines[n] = s[i + 5];
        n++;
      }
    }
    this.addresses = addresses.subarray(0, n);
    this.fileIndexes = files.subarray(0, n);
    this.lines = lines.subarray(0, n);
    this.columns = columns.subarray(0, n);
    this.stmtFileIndexes = stmtFiles.subarray(0, n);
    this.stmtLines = stmtLines.subarray(0, n);
  }

  /** The first address at or after `from` and before `to` where a row has the prologue_end flag (LLVM sets it), or null. */
  prologueEndIn(from: number, to: number): number | null {
    const a = this.prologueEnds;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < a.length && a[lo] < to ? a[lo] : null;
  }

  /** Index of the row covering `address`, or -1 (outside every sequence, or in a gap). */
  rowAt(address: number): number {
    const a = this.addresses;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] <= address) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    if (i < 0 || this.lines[i] < 0) return -1;
    return i;
  }
}

interface FileEntry {
  path: string | null;
  dir: number;
}

/** A DWARF 5 directory or file-name table: entry formats, then the entries. */
function readEntries(r: ByteReader, d: DwarfData, enc: UnitEncoding): FileEntry[] {
  const formatCount = r.u8();
  const types: number[] = [];
  const forms: number[] = [];
  for (let i = 0; i < formatCount; i++) {
    types.push(r.uleb128());
    forms.push(r.uleb128());
  }
  const count = r.uleb128();
  const entries: FileEntry[] = [];
  for (let e = 0; e < count; e++) {
    const entry: FileEntry = { path: null, dir: 0 };
    for (let i = 0; i < formatCount; i++) {
      if (types[i] === DW_LNCT.path) entry.path = readString(r, forms[i], enc, d);
      else if (types[i] === DW_LNCT.directory_index) entry.dir = readNumber(r, forms[i], enc, 0);
      else if (forms[i] === DW_FORM.data16) r.skip(16);
      else skipForm(r, forms[i], enc);
    }
    entries.push(entry);
  }
  return entries;
}
