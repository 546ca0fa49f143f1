/**
 * Stepping over a breakpoint without removing it: the int3 replaces the first byte of the
 * function's first instruction, so the tracer performs that instruction itself (registers and
 * memory) and resumes at the next one. Breakpoints stay planted, so no thread ever runs past a
 * hooked function unseen. Instructions not emulated here fall back to an in-place step
 * (restore the byte, single-step with the other threads stopped, re-plant).
 */
import { REGS, X86_REG_OFFSET } from './constants';

/** Registers as the raw user_regs_struct bytes, and the tracee memory the emulation needs. */
export interface EmulationContext {
  regs: Buffer;
  readU64(address: number): number;
  readBytes(address: number, length: number): Buffer | null;
  writeU64(address: number, value: bigint): boolean;
}

export type StepOverResult =
  /** rip already points at a harmless remainder (endbr64): just continue. */
  | 'continue'
  /** registers changed: the caller writes them back (SETREGS) then continues. */
  | 'setregs'
  /** emulation failed (memory unreadable): use the in-place step. */
  | 'fallback';

/** How the native stop loop (native/stop_loop.c) steps over a plain breakpoint (the same emulation as its StepOverPlan). */
export interface NativeStepOver {
  op: typeof OP_CONTINUE | typeof OP_PUSH | typeof OP_MOV_RIP | typeof OP_MOV_REG;
  /** Destination register (OP_PUSH: the pushed one), x86 encoding order. */
  reg: number;
  /** Instruction length. */
  len: number;
  /** OP_MOV_RIP: displacement; OP_MOV_REG: source register. */
  disp: number;
  wide: boolean;
}
export const OP_CONTINUE = 1;
export const OP_PUSH = 2;
export const OP_MOV_RIP = 3;
export const OP_MOV_REG = 4;

export interface StepOverPlan {
  /** Short mnemonic for diagnostics and tests. */
  readonly kind: string;
  /** The same step-over for the native loop, when it can do it (plain register and stack effects, no flags). */
  readonly native?: NativeStepOver;
  /** Runs with regs.rip already at the breakpoint address. */
  emulate(ctx: EmulationContext, address: number): StepOverResult;
}

const RIP = REGS.rip;
const RSP = REGS.rsp;
const EFLAGS = REGS.eflags;
const MASK64 = (1n << 64n) - 1n;

function getReg(regs: Buffer, reg: number): bigint {
  return regs.readBigUInt64LE(X86_REG_OFFSET[reg]);
}

function setReg(regs: Buffer, reg: number, value: bigint, wide: boolean): void {
  regs.writeBigUInt64LE(wide ? value & MASK64 : value & 0xffffffffn, X86_REG_OFFSET[reg]);
}

/** A 64-bit register of a user_regs_struct image as a number (user-space addresses fit exactly). */
export function readRegister(regs: Buffer, offset: number): number {
  return regs.readUInt32LE(offset + 4) * 0x100000000 + regs.readUInt32LE(offset);
}

export function setRip(regs: Buffer, rip: number): void {
  regs.writeUInt32LE(rip % 0x100000000, RIP);
  regs.writeUInt32LE(Math.floor(rip / 0x100000000), RIP + 4);
}

function parity(v: bigint): boolean {
  let b = Number(v & 0xffn);
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  return (b & 1) === 0;
}

const ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7, ALU_TEST = 8;

/** Computes an ALU result and the x86 status flags exactly (CF, PF, AF, ZF, SF, OF). */
function alu(op: number, a: bigint, b: bigint, bits: 32 | 64, regs: Buffer): bigint {
  const mask = bits === 64 ? MASK64 : 0xffffffffn;
  const sign = 1n << BigInt(bits - 1);
  a &= mask;
  b &= mask;
  let r: bigint;
  let cf = false;
  let of = false;
  let af = false;
  switch (op) {
    case ALU_ADD:
      r = (a + b) & mask;
      cf = a + b > mask;
      of = ((a ^ r) & (b ^ r) & sign) !== 0n;
      af = ((a ^ b ^ r) & 0x10n) !== 0n;
      break;
    case ALU_SUB:
    case ALU_CMP:
      r = (a - b) & mask;
      cf = a < b;
      of = ((a ^ b) & (a ^ r) & sign) !== 0n;
      af = ((a ^ b ^ r) & 0x10n) !== 0n;
      break;
    case ALU_OR:
      r = a | b;
      break;
    case ALU_AND:
    case ALU_TEST:
      r = a & b;
      break;
    case ALU_XOR:
      r = a ^ b;
      break;
    default:
      throw new Error(`unsupported ALU op ${op}`);
  }
  let flags = Number(regs.readBigUInt64LE(EFLAGS) & ~0x8d5n);
  if (cf) flags |= 0x1;
  if (parity(r)) flags |= 0x4;
  if (af) flags |= 0x10;
  if (r === 0n) flags |= 0x40;
  if (r & sign) flags |= 0x80;
  if (of) flags |= 0x800;
  regs.writeBigUInt64LE(BigInt(flags), EFLAGS);
  return r;
}

function plan(kind: string, emulate: StepOverPlan['emulate'], native?: NativeStepOver): StepOverPlan {
  return native ? { kind, emulate, native } : { kind, emulate };
}

/** Decodes the first instruction of a hooked function (its original bytes) into a step-over plan. */
export function planStepOver(code: Buffer): StepOverPlan | null {
  let i = 0;
  // endbr64: the int3 sits on the f3 prefix, 0f 1e fa that remains is a hint no-op.
  if (code[0] === 0xf3 && code[1] === 0x0f && code[2] === 0x1e && code[3] === 0xfa) {
    return plan('endbr64', () => 'continue', { op: OP_CONTINUE, reg: 0, len: 0, disp: 0, wide: false });
  }
  let rex = 0;
  if ((code[i] & 0xf0) === 0x40) rex = code[i++];
  const w = (rex & 8) !== 0;
  const rexR = (rex & 4) ? 8 : 0;
  const rexB = (rex & 1) ? 8 : 0;
  const op = code[i++];
  const modrm = code[i];
  const mod = modrm >> 6;
  const reg = ((modrm >> 3) & 7) + rexR;
  const rm = (modrm & 7) + rexB;
  const ripRelative = mod === 0 && (modrm & 7) === 5;

  // push r64
  if (op >= 0x50 && op <= 0x57 && !w) {
    const r = (op - 0x50) + rexB;
    const len = i;
    return plan('push', (ctx, address) => {
      const regs = ctx.regs;
      const value = getReg(regs, r);
      const rsp = regs.readBigUInt64LE(RSP) - 8n;
      if (!ctx.writeU64(Number(rsp), value)) return 'fallback';
      regs.writeBigUInt64LE(rsp, RSP);
      setRip(regs, address + len);
      return 'setregs';
    }, { op: OP_PUSH, reg: r, len, disp: 0, wide: true });
  }
  // mov r, r/m (89) and mov r/m, r (8b), register forms and rip-relative loads
  if ((op === 0x89 || op === 0x8b) && mod === 3) {
    const len = i + 1;
    const dst = op === 0x89 ? rm : reg;
    const src = op === 0x89 ? reg : rm;
    return plan('mov', (ctx, address) => {
      setReg(ctx.regs, dst, getReg(ctx.regs, src), w);
      setRip(ctx.regs, address + len);
      return 'setregs';
    }, { op: OP_MOV_REG, reg: dst, len, disp: src, wide: w });
  }
  if (op === 0x8b && ripRelative) {
    const disp = code.readInt32LE(i + 1);
    const len = i + 5;
    return plan('mov-rip', (ctx, address) => {
      const bytes = ctx.readBytes(address + len + disp, 8);
      if (!bytes) return 'fallback';
      setReg(ctx.regs, reg, w ? bytes.readBigUInt64LE(0) : BigInt(bytes.readUInt32LE(0)), w);
      setRip(ctx.regs, address + len);
      return 'setregs';
    }, { op: OP_MOV_RIP, reg, len, disp, wide: w });
  }
  // lea disp(%rip), r
  if (op === 0x8d && ripRelative) {
    const disp = code.readInt32LE(i + 1);
    const len = i + 5;
    return plan('lea-rip', (ctx, address) => {
      setReg(ctx.regs, reg, BigInt(address + len + disp), w);
      setRip(ctx.regs, address + len);
      return 'setregs';
    });
  }
  // mov $imm, r32 (b8+r) and movabs $imm64, r64 (REX.W b8+r)
  if (op >= 0xb8 && op <= 0xbf) {
    const r = (op - 0xb8) + rexB;
    const imm = w ? code.readBigUInt64LE(i) : BigInt(code.readUInt32LE(i));
    const len = i + (w ? 8 : 4);
    return plan('mov-imm', (ctx, address) => {
      setReg(ctx.regs, r, imm, w);
      setRip(ctx.regs, address + len);
      return 'setregs';
    });
  }
  // ALU r/m, imm8/imm32 on a register (sub $8,%rsp; add $1,%rdi; cmp $3,%edi; ...)
  if ((op === 0x83 || op === 0x81) && mod === 3) {
    const aluOp = (modrm >> 3) & 7;
    if (aluOp === ALU_ADD || aluOp === ALU_OR || aluOp === ALU_AND || aluOp === ALU_SUB || aluOp === ALU_XOR || aluOp === ALU_CMP) {
      const imm = op === 0x83 ? BigInt(code.readInt8(i + 1)) : BigInt(code.readInt32LE(i + 1));
      const len = i + 1 + (op === 0x83 ? 1 : 4);
      return plan('alu-imm', (ctx, address) => {
        const r = alu(aluOp, getReg(ctx.regs, rm), imm, w ? 64 : 32, ctx.regs);
        if (aluOp !== ALU_CMP) setReg(ctx.regs, rm, r, w);
        setRip(ctx.regs, address + len);
        return 'setregs';
      });
    }
  }
  // ALU r/m, r and r, r/m with register operands (xor %eax,%eax; test %rdi,%rdi; cmp %rsi,%rdi; ...)
  const aluRegOps: Record<number, [number, boolean]> = {
    0x01: [ALU_ADD, false], 0x03: [ALU_ADD, true], 0x09: [ALU_OR, false], 0x0b: [ALU_OR, true],
    0x21: [ALU_AND, false], 0x23: [ALU_AND, true], 0x29: [ALU_SUB, false], 0x2b: [ALU_SUB, true],
    0x31: [ALU_XOR, false], 0x33: [ALU_XOR, true], 0x39: [ALU_CMP, false], 0x3b: [ALU_CMP, true],
    0x85: [ALU_TEST, false],
  };
  if (aluRegOps[op] && mod === 3) {
    const [aluOp, toReg] = aluRegOps[op];
    const dst = toReg ? reg : rm;
    const src = toReg ? rm : reg;
    const len = i + 1;
    return plan('alu-reg', (ctx, address) => {
      const r = alu(aluOp, getReg(ctx.regs, dst), getReg(ctx.regs, src), w ? 64 : 32, ctx.regs);
      if (aluOp !== ALU_CMP && aluOp !== ALU_TEST) setReg(ctx.regs, dst, r, w);
      setRip(ctx.regs, address + len);
      return 'setregs';
    });
  }
  // jmp rel32 / rel8 (tail-call stubs)
  if (op === 0xe9 && !rex) {
    const disp = code.readInt32LE(i);
    return plan('jmp', (ctx, address) => {
      setRip(ctx.regs, address + i + 4 + disp);
      return 'setregs';
    });
  }
  if (op === 0xeb && !rex) {
    const disp = code.readInt8(i);
    return plan('jmp', (ctx, address) => {
      setRip(ctx.regs, address + i + 1 + disp);
      return 'setregs';
    });
  }
  return null;
}

/** How to execute an instruction out of line, in a scratch slot of the same module. */
export interface DisplacedStep {
  /** Offset of a RIP-relative disp32 to rebase, or -1. */
  ripDisplacementAt: number;
  /** An indirect call: the return address it pushes must be moved back to the original code. */
  indirectCall: boolean;
}

const PREFIXES = new Set([0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65]);
/** One-byte opcodes that take a ModRM byte. */
const MODRM_1 = new Set<number>([
  ...[0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x11, 0x12, 0x13, 0x18, 0x19, 0x1a, 0x1b],
  ...[0x20, 0x21, 0x22, 0x23, 0x28, 0x29, 0x2a, 0x2b, 0x30, 0x31, 0x32, 0x33, 0x38, 0x39, 0x3a, 0x3b],
  ...[0x63, 0x69, 0x6b, 0x80, 0x81, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f],
  ...[0xc0, 0xc1, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xf6, 0xf7, 0xfe, 0xff],
]);
/** Relative branches and returns: their effect depends on where they run, so they are emulated or stepped in place. */
const RELATIVE_1 = new Set<number>([...Array.from({ length: 16 }, (_, i) => 0x70 + i), 0xe0, 0xe1, 0xe2, 0xe3, 0xe8, 0xe9, 0xeb, 0xc2, 0xc3, 0xca, 0xcb, 0xcc, 0xcd, 0xcf]);
/** Two-byte (0f xx) opcodes without ModRM. */
const NO_MODRM_2 = new Set<number>([0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x0e, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x37, 0x77, 0xa0, 0xa1, 0xa2, 0xa8, 0xa9, 0xaa, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf]);

/**
 * Decodes enough of an instruction to run it out of line: where its ModRM is (to rebase a
 * RIP-relative operand) and whether it is a branch that cannot run elsewhere (null then).
 */
export function planDisplacedStep(code: Buffer): DisplacedStep | null {
  let i = 0;
  while (i < 14 && PREFIXES.has(code[i])) i++;
  if ((code[i] & 0xf0) === 0x40) i++; // REX
  const op = code[i];
  let modrmAt = -1;
  let indirectCall = false;
  if (op === 0xc4 || op === 0xc5) {
    modrmAt = i + (op === 0xc4 ? 4 : 3); // VEX: prefix bytes, opcode, ModRM
  } else if (op === 0x0f) {
    const op2 = code[i + 1];
    if (op2 === 0x38 || op2 === 0x3a) modrmAt = i + 3;
    else if (op2 >= 0x80 && op2 <= 0x8f) return null; // jcc rel32
    else if (!NO_MODRM_2.has(op2)) modrmAt = i + 2;
    else if (op2 === 0x05 || op2 === 0x07) return null; // syscall/sysret: run in place
  } else {
    if (RELATIVE_1.has(op)) return null;
    if (MODRM_1.has(op)) modrmAt = i + 1;
    if (op === 0xff) {
      const reg = (code[i + 1] >> 3) & 7;
      if (reg === 2 || reg === 3) indirectCall = true;
      if (reg === 3 || reg === 5) return null; // far call/jmp
    }
  }
  let ripDisplacementAt = -1;
  if (modrmAt >= 0) {
    const modrm = code[modrmAt];
    if ((modrm >> 6) === 0 && (modrm & 7) === 5) ripDisplacementAt = modrmAt + 1;
  }
  return { ripDisplacementAt, indirectCall };
}

/** call rel32 and ret at a function's first instruction, emulated (they cannot run out of line as they are). */
export function planBranchStepOver(code: Buffer): StepOverPlan | null {
  if (code[0] === 0xe8) {
    const disp = code.readInt32LE(1);
    return plan('call', (ctx, address) => {
      const rsp = ctx.regs.readBigUInt64LE(RSP) - 8n;
      if (!ctx.writeU64(Number(rsp), BigInt(address + 5))) return 'fallback';
      ctx.regs.writeBigUInt64LE(rsp, RSP);
      setRip(ctx.regs, address + 5 + disp);
      return 'setregs';
    });
  }
  if (code[0] === 0xc3) {
    return plan('ret', (ctx) => {
      const rsp = ctx.regs.readBigUInt64LE(RSP);
      const target = ctx.readU64(Number(rsp));
      if (Number.isNaN(target)) return 'fallback';
      ctx.regs.writeBigUInt64LE(rsp + 8n, RSP);
      setRip(ctx.regs, target);
      return 'setregs';
    });
  }
  return null;
}
