/**
 * A compiled CFI row: how to find the CFA and every tracked register of the caller at one pc.
 * Built once per pc by CfiTable and then only read by the unwinder.
 */
import { REGISTER_COUNT } from './registers';

/** How a caller register is recovered (values of UnwindRule.kinds). */
export const RULE_SAME_VALUE = 0;
export const RULE_UNDEFINED = 1;
/** saved at CFA + value */
export const RULE_OFFSET = 2;
/** is CFA + value */
export const RULE_VAL_OFFSET = 3;
/** is in register `value` of the callee */
export const RULE_REGISTER = 4;
/** saved at the address the expression computes (CFA pushed first) */
export const RULE_EXPRESSION = 5;
/** is the value the expression computes (CFA pushed first) */
export const RULE_VAL_EXPRESSION = 6;

export class UnwindRule {
  /** CFA = register cfaRegister + cfaOffset, or (cfaRegister = -1) the value of cfaExpression. */
  cfaRegister = 7;
  cfaOffset = 8;
  /** Bytes holding the expressions: cfaExpression and register expressions index into it. */
  exprBuffer: Buffer | null = null;
  cfaExprStart = 0;
  cfaExprEnd = 0;
  readonly kinds = new Uint8Array(REGISTER_COUNT);
  readonly values = new Float64Array(REGISTER_COUNT);
  /** [start, end) of each register's expression in exprBuffer (RULE_EXPRESSION / RULE_VAL_EXPRESSION). */
  readonly exprStart = new Int32Array(REGISTER_COUNT);
  readonly exprEnd = new Int32Array(REGISTER_COUNT);
  /** Registers whose rule is not RULE_SAME_VALUE, so the unwinder visits only those. */
  changed: Uint8Array = new Uint8Array(0);
  /** Register column of the return address (16 on x86-64). */
  returnColumn = 16;
  /** The FDE describes a signal trampoline (__restore_rt): the caller's pc is exact. */
  signalFrame = false;
  /** Link-time start of the FDE's range (for diagnostics). */
  fdeStart = 0;
  /** Link-time range [rowStart, rowEnd) over which this row holds. */
  rowStart = 0;
  rowEnd = 0;

  /** Fills `changed` from `kinds`; call after the kinds are final. */
  seal(): this {
    const list: number[] = [];
    for (let r = 0; r < REGISTER_COUNT; r++) if (this.kinds[r] !== RULE_SAME_VALUE) list.push(r);
    this.changed = Uint8Array.from(list);
    return this;
  }
}
