/**
 * Runs DW_CFA_* instructions (CIE initial instructions, then an FDE's) up to a pc and turns
 * the resulting row into an UnwindRule.
 */
import { CorruptCfiError } from '../errors';
import { ByteReader } from './byte-reader';
import { readEncodedPointer, type FrameDescriptionEntry } from './cfi-entries';
import {
  RULE_EXPRESSION,
  RULE_OFFSET,
  RULE_REGISTER,
  RULE_SAME_VALUE,
  RULE_UNDEFINED,
  RULE_VAL_EXPRESSION,
  RULE_VAL_OFFSET,
  UnwindRule,
} from './cfi-rule';
import { REG_RSP, REGISTER_COUNT } from './registers';

class RowState {
  cfaRegister = -2; // -2: not defined yet, -1: expression
  cfaOffset = 0;
  cfaExprStart = 0;
  cfaExprEnd = 0;
  kinds = new Uint8Array(REGISTER_COUNT);
  values = new Float64Array(REGISTER_COUNT);
  exprStart = new Int32Array(REGISTER_COUNT);
  exprEnd = new Int32Array(REGISTER_COUNT);

  constructor() {
    // the caller's stack pointer is the CFA unless a rule says otherwise
    this.kinds[REG_RSP] = RULE_VAL_OFFSET;
  }

  copyFrom(o: RowState): this {
    this.cfaRegister = o.cfaRegister;
    this.cfaOffset = o.cfaOffset;
    this.cfaExprStart = o.cfaExprStart;
    this.cfaExprEnd = o.cfaExprEnd;
    this.kinds.set(o.kinds);
    this.values.set(o.values);
    this.exprStart.set(o.exprStart);
    this.exprEnd.set(o.exprEnd);
    return this;
  }

  restoreRegister(reg: number, initial: RowState): void {
    this.kinds[reg] = initial.kinds[reg];
    this.values[reg] = initial.values[reg];
    this.exprStart[reg] = initial.exprStart[reg];
    this.exprEnd[reg] = initial.exprEnd[reg];
  }

  set(reg: number, kind: number, value: number): void {
    if (reg >= REGISTER_COUNT) return; // vector registers etc.: not tracked
    this.kinds[reg] = kind;
    this.values[reg] = value;
  }
}

/**
 * Executes instructions in [start, end) starting at location `loc`, stopping before the first
 * advance that moves past `pc`. Returns the end of the row's range (or NaN if not cut short).
 */
function execute(
  fde: FrameDescriptionEntry,
  start: number,
  end: number,
  state: RowState,
  initial: RowState | null,
  pc: number,
  loc: { value: number; rowStart: number },
): number {
  const cie = fde.cie;
  const section = cie.section;
  const r = new ByteReader(section.bytes.data, start);
  const stack: RowState[] = [];
  while (r.offset < end) {
    const op = r.u8();
    const high = op & 0xc0;
    const low = op & 0x3f;
    let advanceTo = NaN;
    if (high === 0x40) {
      advanceTo = loc.value + low * cie.codeAlign;
    } else if (high === 0x80) {
      state.set(low, RULE_OFFSET, r.uleb128() * cie.dataAlign);
    } else if (high === 0xc0) {
      if (initial && low < REGISTER_COUNT) state.restoreRegister(low, initial);
    } else {
      switch (op) {
        case 0x00: break; // nop
        case 0x01: // set_loc
          advanceTo = section.isEhFrame ? readEncodedPointer(r, cie.fdeEncoding, section.bytes, 0) : r.uint(cie.addressSize);
          break;
        case 0x02: advanceTo = loc.value + r.u8() * cie.codeAlign; break;
        case 0x03: advanceTo = loc.value + r.u16() * cie.codeAlign; break;
        case 0x04: advanceTo = loc.value + r.u32() * cie.codeAlign; break;
        case 0x05: { const reg = r.uleb128(); state.set(reg, RULE_OFFSET, r.uleb128() * cie.dataAlign); break; }
        case 0x06: { const reg = r.uleb128(); if (initial && reg < REGISTER_COUNT) state.restoreRegister(reg, initial); break; }
        case 0x07: state.set(r.uleb128(), RULE_UNDEFINED, 0); break;
        case 0x08: state.set(r.uleb128(), RULE_SAME_VALUE, 0); break;
        case 0x09: { const reg = r.uleb128(); const from = r.uleb128(); state.set(reg, from < REGISTER_COUNT ? RULE_REGISTER : RULE_UNDEFINED, from); break; }
        case 0x0a: stack.push(new RowState().copyFrom(state)); break; // remember_state
        case 0x0b: { // restore_state
          const saved = stack.pop();
          if (!saved) throw new CorruptCfiError(section.name, r.offset - 1, 'DW_CFA_restore_state without DW_CFA_remember_state');
          state.copyFrom(saved);
          break;
        }
        case 0x0c: state.cfaRegister = r.uleb128(); state.cfaOffset = r.uleb128(); break; // def_cfa
        case 0x0d: state.cfaRegister = r.uleb128(); break; // def_cfa_register
        case 0x0e: state.cfaOffset = r.uleb128(); break; // def_cfa_offset
        case 0x0f: { // def_cfa_expression
          const len = r.uleb128();
          state.cfaRegister = -1;
          state.cfaExprStart = r.offset;
          state.cfaExprEnd = r.offset + len;
          r.skip(len);
          break;
        }
        case 0x10: // expression
        case 0x16: { // val_expression
          const reg = r.uleb128();
          const len = r.uleb128();
          if (reg < REGISTER_COUNT) {
            state.set(reg, op === 0x10 ? RULE_EXPRESSION : RULE_VAL_EXPRESSION, 0);
            state.exprStart[reg] = r.offset;
            state.exprEnd[reg] = r.offset + len;
          }
          r.skip(len);
          break;
        }
        case 0x11: { const reg = r.uleb128(); state.set(reg, RULE_OFFSET, r.sleb128() * cie.dataAlign); break; }
        case 0x12: state.cfaRegister = r.uleb128(); state.cfaOffset = r.sleb128() * cie.dataAlign; break; // def_cfa_sf
        case 0x13: state.cfaOffset = r.sleb128() * cie.dataAlign; break; // def_cfa_offset_sf
        case 0x14: { const reg = r.uleb128(); state.set(reg, RULE_VAL_OFFSET, r.uleb128() * cie.dataAlign); break; }
        case 0x15: { const reg = r.uleb128(); state.set(reg, RULE_VAL_OFFSET, r.sleb128() * cie.dataAlign); break; }
        case 0x2e: r.uleb128(); break; // GNU_args_size: only matters when unwinding to a landing pad
        case 0x2f: { const reg = r.uleb128(); state.set(reg, RULE_OFFSET, -r.uleb128() * cie.dataAlign); break; }
        case 0x2d: break; // GNU_window_save (SPARC) / AArch64 negate_ra_state: nothing on x86-64
        default:
          throw new CorruptCfiError(section.name, r.offset - 1, `unknown call frame instruction 0x${op.toString(16)}`);
      }
    }
    if (advanceTo === advanceTo) {
      if (advanceTo > pc) return advanceTo;
      loc.value = advanceTo;
      loc.rowStart = advanceTo;
    }
  }
  return NaN;
}

/** The row of `fde` in force at link-time address `pc` (pcBegin <= pc < pcEnd). */
export function compileRule(fde: FrameDescriptionEntry, pc: number): UnwindRule {
  const cie = fde.cie;
  const state = new RowState();
  const loc = { value: fde.pcBegin, rowStart: fde.pcBegin };
  execute(fde, cie.instructionsStart, cie.instructionsEnd, state, null, Infinity, loc);
  const initial = new RowState().copyFrom(state);
  loc.value = fde.pcBegin;
  loc.rowStart = fde.pcBegin;
  const cut = execute(fde, fde.instructionsStart, fde.instructionsEnd, state, initial, pc, loc);

  const rule = new UnwindRule();
  rule.exprBuffer = cie.section.bytes.data;
  if (state.cfaRegister === -2) throw new CorruptCfiError(cie.section.name, fde.offset, 'no CFA rule for the FDE');
  rule.cfaRegister = state.cfaRegister;
  rule.cfaOffset = state.cfaOffset;
  rule.cfaExprStart = state.cfaExprStart;
  rule.cfaExprEnd = state.cfaExprEnd;
  rule.kinds.set(state.kinds);
  rule.values.set(state.values);
  rule.exprStart.set(state.exprStart);
  rule.exprEnd.set(state.exprEnd);
  rule.returnColumn = cie.returnColumn;
  rule.signalFrame = cie.signalFrame;
  rule.fdeStart = fde.pcBegin;
  rule.rowStart = loc.rowStart;
  rule.rowEnd = cut === cut ? Math.min(cut, fde.pcEnd) : fde.pcEnd;
  return rule.seal();
}
