/** Linux x86-64 ptrace and wait constants (from <sys/ptrace.h>, <linux/ptrace.h>, <sys/wait.h>). */
export const PTRACE_PEEKDATA = 2;
export const PTRACE_POKEDATA = 5;
export const PTRACE_CONT = 7;
export const PTRACE_KILL = 8;
export const PTRACE_SINGLESTEP = 9;
export const PTRACE_GETREGS = 12;
export const PTRACE_SETREGS = 13;
export const PTRACE_DETACH = 17;
export const PTRACE_SETOPTIONS = 0x4200;
export const PTRACE_GETEVENTMSG = 0x4201;
export const PTRACE_GETSIGINFO = 0x4202;
export const PTRACE_SEIZE = 0x4206;
export const PTRACE_INTERRUPT = 0x4207;
export const PTRACE_LISTEN = 0x4208;

export const PTRACE_O_TRACEFORK = 0x02;
export const PTRACE_O_TRACEVFORK = 0x04;
export const PTRACE_O_TRACECLONE = 0x08;
export const PTRACE_O_TRACEEXEC = 0x10;
export const PTRACE_O_EXITKILL = 0x100000;

export const PTRACE_EVENT_FORK = 1;
export const PTRACE_EVENT_VFORK = 2;
export const PTRACE_EVENT_CLONE = 3;
export const PTRACE_EVENT_EXEC = 4;
export const PTRACE_EVENT_STOP = 128;

/** siginfo si_code of the SIGTRAP an int3 raises (a single step's is TRAP_TRACE, raise()'s SI_TKILL). */
export const SI_KERNEL = 0x80;

export const WNOHANG = 1;
export const WUNTRACED = 2;
export const __WNOTHREAD = 0x20000000;
export const __WALL = 0x40000000;

export const ECHILD = 10;
export const ESRCH = 3;
export const EPERM = 1;

export const POSIX_SPAWN_SETPGROUP = 0x02;
export const POSIX_SPAWN_SETSIGDEF = 0x04;
export const POSIX_SPAWN_SETSIGMASK = 0x08;

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_CREAT = 0o100;
export const O_TRUNC = 0o1000;

/** Byte offsets of fields in struct user_regs_struct. */
export const REGS = {
  r15: 0, r14: 8, r13: 16, r12: 24, rbp: 32, rbx: 40, r11: 48, r10: 56, r9: 64, r8: 72,
  rax: 80, rcx: 88, rdx: 96, rsi: 104, rdi: 112, orig_rax: 120, rip: 128, cs: 136, eflags: 144,
  rsp: 152, ss: 160, fs_base: 168, gs_base: 176, ds: 184, es: 192, fs: 200, gs: 208,
} as const;

/** user_regs_struct offset of each DWARF register number 0..16 (16 = rip). */
export const DWARF_TO_REGS_OFFSET = [
  REGS.rax, REGS.rdx, REGS.rcx, REGS.rbx, REGS.rsi, REGS.rdi, REGS.rbp, REGS.rsp,
  REGS.r8, REGS.r9, REGS.r10, REGS.r11, REGS.r12, REGS.r13, REGS.r14, REGS.r15, REGS.rip,
];

/** x86 register number (ModRM/REX encoding 0..15) to user_regs_struct offset. */
export const X86_REG_OFFSET = [
  REGS.rax, REGS.rcx, REGS.rdx, REGS.rbx, REGS.rsp, REGS.rbp, REGS.rsi, REGS.rdi,
  REGS.r8, REGS.r9, REGS.r10, REGS.r11, REGS.r12, REGS.r13, REGS.r14, REGS.r15,
];
