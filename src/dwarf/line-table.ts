/**
 * Address -> file:line for one module, from .debug_line. Line programs are parsed lazily, one per
 * compilation unit (found through .debug_aranges or the unit's ranges), and cached.
 */
import { DwarfData } from './debug-info-data';
import { Unit, UnitIndex } from './debug-info-units';
import { DebugSections } from './debug-sections';
import { LineProgram } from './line-program';

export interface SourceLocation {
  file: string;
  line: number;
  column?: number;
}

export class LineTable {
  private readonly programs = new Map<number, LineProgram | null>();
  /** Programs of a .debug_line that has no .debug_info to say which unit covers what. */
  private orphanPrograms: LineProgram[] | null = null;
  /** Problems met while parsing (a damaged unit is skipped, not fatal). */
  readonly warnings: string[] = [];

  private constructor(
    readonly data: DwarfData,
    readonly units: UnitIndex,
  ) {}

  /** null when the sections have no .debug_line. */
  static fromSections(s: DebugSections): LineTable | null {
    const data = new DwarfData(s);
    return LineTable.fromData(data, new UnitIndex(data));
  }

  /** For DebugInfo: share the parsed sections and unit index. */
  static fromData(data: DwarfData, units: UnitIndex): LineTable | null {
    if (!data.line) return null;
    return new LineTable(data, units);
  }

  /**
   * Source location of link-time address `address`, or null when no line row covers it.
   * Where several rows share the address, the last one wins, as in addr2line.
   */
  lookup(address: number): SourceLocation | null {
    return this.find(address, false);
  }

  /**
   * Like lookup, but where several rows share the address and the last is not a statement
   * boundary (is_stmt), the last one that is wins: the line gdb shows for a frame.
   */
  lookupStatement(address: number): SourceLocation | null {
    return this.find(address, true);
  }

  private find(address: number, statement: boolean): SourceLocation | null {
    const unit = this.units.unitForPc(address);
    if (unit) {
      const prog = this.programFor(unit);
      return prog ? locationAt(prog, address, statement) : null;
    }
    if (this.units.units().length > 0) return null;
    for (const prog of this.orphans()) {
      const loc = locationAt(prog, address, statement);
      if (loc) return loc;
    }
    return null;
  }

  /**
   * Where gdb 13's `break F` goes for a function at link-time [entry, end) whose line table marks the
   * end of its prologue (DW_LNS_set_prologue_end, which LLVM emits: clang, rustc; GCC does not): the
   * first such row in the function. Null when there is none.
   */
  prologueEnd(entry: number, end: number): number | null {
    const unit = this.units.unitForPc(entry);
    const prog = unit ? this.programFor(unit) : null;
    return prog ? prog.prologueEndIn(entry, end) : null;
  }

  /** The line program of a compilation unit (null when it has none or it cannot be read). */
  programFor(unit: Unit): LineProgram | null {
    let root;
    try {
      root = unit.root(this.data);
    } catch (e) {
      this.warn(e);
      return null;
    }
    if (root.stmtList < 0) return null;
    let prog = this.programs.get(root.stmtList);
    if (prog === undefined) {
      try {
        prog = LineProgram.parse(this.data, root.stmtList, root.compDir, root.name, unit.addressSize);
      } catch (e) {
        this.warn(e);
        prog = null;
      }
      this.programs.set(root.stmtList, prog);
    }
    return prog;
  }

  /** File name (full path) of a unit's file index, as DW_AT_decl_file / DW_AT_call_file use it. */
  fileName(unit: Unit, index: number): string | null {
    return this.programFor(unit)?.files[index] ?? null;
  }

  private orphans(): LineProgram[] {
    if (this.orphanPrograms) return this.orphanPrograms;
    const list: LineProgram[] = [];
    const buf = this.data.line!;
    let offset = 0;
    while (offset + 4 <= buf.length) {
      try {
        list.push(LineProgram.parse(this.data, offset, null, null));
      } catch (e) {
        this.warn(e);
        break;
      }
      const len = buf.readUInt32LE(offset);
      offset += len === 0xffffffff ? 12 + Number(buf.readBigUInt64LE(offset + 4)) : 4 + len;
    }
    this.orphanPrograms = list;
    return list;
  }

  private warn(e: unknown): void {
    if (this.warnings.length < 20) this.warnings.push(e instanceof Error ? e.message : String(e));
  }
}

function locationAt(prog: LineProgram, address: number, statement: boolean): SourceLocation | null {
  const i = prog.rowAt(address);
  if (i < 0) return null;
  const line = statement ? prog.stmtLines[i] : prog.lines[i];
  const file = prog.files[statement ? prog.stmtFileIndexes[i] : prog.fileIndexes[i]];
  if (line === 0 || !file) return null;
  const column = prog.columns[i];
  return column ? { file, line, column } : { file, line };
}
