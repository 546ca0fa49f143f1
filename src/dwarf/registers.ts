/**
 * x86-64 registers in DWARF numbering, as the unwinder tracks them: one Float64Array slot per
 * register (0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8..15 r8..r15, 16 return
 * address / rip). NaN marks a register whose value is unknown in that frame.
 */
import { hostWords } from './memory';

export const REG_RAX = 0;
export const REG_RDX = 1;
export const REG_RCX = 2;
export const REG_RBX = 3;
export const REG_RSI = 4;
export const REG_RDI = 5;
export const REG_RBP = 6;
export const REG_RSP = 7;
export const REG_R8 = 8;
export const REG_R15 = 15;
export const REG_RIP = 16;
export const REGISTER_COUNT = 17;

export type RegisterFile = Float64Array;

/** A register file with every register unknown. */
export function newRegisterFile(): RegisterFile {
  return new Float64Array(REGISTER_COUNT).fill(NaN);
}

/** DWARF register names, index = DWARF number (for messages and tests). */
export const REGISTER_NAMES: readonly string[] = [
  'rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip',
];

/**
 * Offsets (in 8-byte words) of each DWARF register inside Linux's `struct user_regs_struct`
 * (the PTRACE_GETREGS layout, also the pr_reg of a core file's NT_PRSTATUS).
 */
export const USER_REGS_WORD: readonly number[] = [
  10 /* rax */, 12 /* rdx */, 11 /* rcx */, 5 /* rbx */, 13 /* rsi */, 14 /* rdi */, 4 /* rbp */, 19 /* rsp */,
  9 /* r8 */, 8 /* r9 */, 7 /* r10 */, 6 /* r11 */, 3 /* r12 */, 2 /* r13 */, 1 /* r14 */, 0 /* r15 */, 16 /* rip */,
];

/** Fills `regs` from a `struct user_regs_struct` image starting at `offset` of `buf`. */
export function registersFromUserRegs(buf: Buffer, offset: number, regs: RegisterFile): RegisterFile {
  const first = buf.byteOffset + offset;
  if ((first & 3) === 0) {
    // 32-bit words of the host (little-endian) memory: no per-byte assembly (this runs once a hit)
    const words = hostWords(buf);
    const base = first >>> 2;
    for (let r = 0; r < REGISTER_COUNT; r++) {
      const w = base + USER_REGS_WORD[r] * 2;
      regs[r] = words[w + 1] * 0x100000000 + words[w];
    }
    return regs;
  }
  for (let r = 0; r < REGISTER_COUNT; r++) {
    const at = offset + USER_REGS_WORD[r] * 8;
    regs[r] = buf.readUInt32LE(at + 4) * 0x100000000 + buf.readUInt32LE(at);
  }
  return regs;
}
