/**
 * Walks a thread's stack from its registers using DWARF CFI, falling back to the rbp chain
 * where a pc has no CFI. The per-frame path allocates nothing: rules are cached per pc by
 * each module's CfiTable and registers live in two preallocated files used in turn.
 */
import {
  RULE_EXPRESSION,
  RULE_OFFSET,
  RULE_REGISTER,
  RULE_VAL_EXPRESSION,
  RULE_VAL_OFFSET,
  type UnwindRule,
} from './cfi-rule';
import type { CfiTable } from './cfi-table';
import { evaluateExpression } from './expression';
import type { MemoryReader } from './memory';
import { REG_RBP, REG_RIP, REG_RSP, REGISTER_COUNT, type RegisterFile } from './registers';

export interface UnwindModule {
  /** Load bias: link-time address = pc - bias. */
  bias: number;
  cfi: CfiTable | null;
}

export type ModuleLookup = (pc: number) => UnwindModule | null;

/** flags bit: the frame was reached through a signal frame, its pc is exact (symbolize pc, not pc - 1). */
export const FRAME_EXACT_PC = 1;
/** flags bit: the frame is a signal trampoline (__restore_rt; its FDE has the 'S' augmentation). */
export const FRAME_SIGNAL_TRAMPOLINE = 2;
/** flags bit: the step from this frame to its caller used the frame-pointer chain (no CFI covered pc). */
export const FRAME_UNWOUND_BY_FP = 4;

/** The callee-saved registers (DWARF numbers rbx, rbp, r12-r15) kept per frame in `savedRegisters`. */
export const SAVED_REGISTERS: readonly number[] = [3, 6, 12, 13, 14, 15];
const SAVED = SAVED_REGISTERS.length;

export class Unwinder {
  private readonly scratch = new Float64Array(REGISTER_COUNT);
  /** The last unwind stopped where the CFI says the stack ends (return address undefined), not on an error or the frame limit. */
  reachedEnd = false;

  constructor(private readonly lookup: ModuleLookup) {}

  /**
   * Walks from the registers of frame 0 (regs is clobbered). Writes return addresses/pcs into
   * `pcs` (pcs[0] = regs[RIP]); sets flags[i] FRAME_EXACT_PC (1) when frame i was reached through
   * a signal frame and FRAME_SIGNAL_TRAMPOLINE (2) when frame i is a signal trampoline.
   * Returns the frame count. `atFunctionEntry`: frame 0 is a function's first instruction (a hook's
   * entry breakpoint), so where no CFI covers it the return address is at [rsp] (a library built
   * without unwind tables, such as Debian's musl), not behind an rbp the function has not pushed yet.
   */
  unwind(regs: RegisterFile, mem: MemoryReader, pcs: Float64Array, flags: Uint8Array, maxFrames: number, savedRegisters?: Float64Array, atFunctionEntry = false): number {
    let cur: RegisterFile = regs;
    let next: RegisterFile = this.scratch;
    let n = 0;
    let exactPc = true; // frame 0's pc is where the thread stopped, not a return address
    const limit = Math.min(maxFrames, pcs.length, flags.length);
    this.reachedEnd = false;
    while (n < limit) {
      const pc = cur[REG_RIP];
      if (!(pc > 0)) {
        this.reachedEnd = n > 0;
        break;
      }
      pcs[n] = pc;
      flags[n] = n > 0 && exactPc ? FRAME_EXACT_PC : 0;
      // frame n's callee-saved registers as its call left them (what call-site DW_OP_bregN values name)
      if (savedRegisters) for (let k = 0; k < SAVED; k++) savedRegisters[n * SAVED + k] = cur[SAVED_REGISTERS[k]];
      n++;
      if (n >= limit) break;

      const mod = this.lookup(pc);
      const cfi = mod ? mod.cfi : null;
      const rule: UnwindRule | null = cfi ? cfi.ruleAt((exactPc ? pc : pc - 1) - mod!.bias) : null;
      if (rule !== null) {
        if (rule.signalFrame) flags[n - 1] |= FRAME_SIGNAL_TRAMPOLINE;
        if (!applyRule(rule, cur, next, mem)) break;
        // loop protection: a caller's frame lies above its callee's (except across a signal,
        // whose handler may run on an alternate stack)
        if (!rule.signalFrame && !(next[REG_RSP] > cur[REG_RSP])) break;
        exactPc = rule.signalFrame;
      } else if (n === 1 && atFunctionEntry) {
        for (let r = 0; r < REGISTER_COUNT; r++) next[r] = cur[r];
        next[REG_RIP] = mem.readU64(cur[REG_RSP]);
        next[REG_RSP] = cur[REG_RSP] + 8;
        exactPc = false;
      } else {
        const rbp = cur[REG_RBP];
        if (!(rbp > 0) || !(rbp + 16 > cur[REG_RSP])) break;
        for (let r = 0; r < REGISTER_COUNT; r++) next[r] = cur[r];
        next[REG_RIP] = mem.readU64(rbp + 8);
        next[REG_RBP] = mem.readU64(rbp);
        next[REG_RSP] = rbp + 16;
        flags[n - 1] |= FRAME_UNWOUND_BY_FP;
        exactPc = false;
      }
      const t = cur;
      cur = next;
      next = t;
    }
    return n;
  }
}

/** Computes the caller's registers into `out`; false when the CFA cannot be computed. */
function applyRule(rule: UnwindRule, cur: RegisterFile, out: RegisterFile, mem: MemoryReader): boolean {
  const cfa =
    rule.cfaRegister >= 0
      ? cur[rule.cfaRegister] + rule.cfaOffset
      : evaluateExpression(rule.exprBuffer!, rule.cfaExprStart, rule.cfaExprEnd, cur, mem, NaN);
  if (!(cfa > 0)) return false; // also catches NaN and a CFA register >= REGISTER_COUNT (undefined + n)
  const kinds = rule.kinds;
  const values = rule.values;
  const changed = rule.changed;
  out.set(cur); // every register not in `changed` keeps its value (RULE_SAME_VALUE)
  for (let i = 0; i < changed.length; i++) {
    const r = changed[i];
    const kind = kinds[r];
    if (kind === RULE_OFFSET) out[r] = mem.readU64(cfa + values[r]);
    else if (kind === RULE_VAL_OFFSET) out[r] = cfa + values[r];
    else if (kind === RULE_REGISTER) out[r] = cur[values[r]];
    else if (kind === RULE_EXPRESSION) {
      const at = evaluateExpression(rule.exprBuffer!, rule.exprStart[r], rule.exprEnd[r], cur, mem, cfa);
      out[r] = at === at ? mem.readU64(at) : NaN;
    } else if (kind === RULE_VAL_EXPRESSION) {
      out[r] = evaluateExpression(rule.exprBuffer!, rule.exprStart[r], rule.exprEnd[r], cur, mem, cfa);
    } else out[r] = NaN; // RULE_UNDEFINED
  }
  if (rule.returnColumn !== REG_RIP) out[REG_RIP] = rule.returnColumn < REGISTER_COUNT ? out[rule.returnColumn] : NaN;
  return true;
}
