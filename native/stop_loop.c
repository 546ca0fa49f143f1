/*
 * jest-ustack's optional native stop loop, called through ffi-rs: one call per breakpoint hit
 * instead of four or five. It performs the pending resume of the previous stop (memory write,
 * SETREGS, CONT or SINGLESTEP), waits for the next stop of any tracee, and for a plain SIGTRAP
 * stop (a breakpoint or a step) fetches the registers and the top of the stack. All decisions
 * stay in TypeScript; this file only batches system calls. The pure ffi-rs path does the same
 * calls one by one when this library cannot be built or loaded.
 *
 * ustack_resume_wait_batch goes one step further for the steady state of a trace: at a
 * breakpoint TypeScript has marked as plain (its first instruction emulated by one of the
 * step-over plans below, in a thread whose live stack TypeScript has measured), it saves the
 * registers and the live stack into a ring, performs the same emulation TypeScript would, and
 * waits again. TypeScript unwinds and counts the saved hits afterwards, from the saved bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

/* Layout shared with src/ptrace/stop-channel.ts (byte offsets). */
struct ustack_io {
  int32_t resume_tid;     /*   0: tid to resume, or 0 */
  int32_t resume_sig;     /*   4: signal to deliver on resume */
  int32_t resume_flags;   /*   8: 1 = SETREGS from regs_in, 2 = write 8 bytes, 4 = single-step instead of cont */
  int32_t window_size;    /*  12: bytes of stack to read at a SIGTRAP stop */
  uint64_t write_addr;    /*  16 */
  uint64_t write_value;   /*  24 */
  int32_t stop_tid;       /*  32: out: tid of the stop, or -errno */
  int32_t stop_status;    /*  36: out: wait status */
  int32_t window_length;  /*  40: out: bytes of stack read (0 if none) */
  int32_t regs_valid;     /*  44: out: 1 when regs_out holds the stopped thread's registers */
  int32_t resume_result;  /*  48: out: 0 or -errno of the resume */
  int32_t pad;            /*  52 */
  uint64_t pad2;          /*  56 */
  struct user_regs_struct regs_in;  /*  64: 216 bytes */
  struct user_regs_struct regs_out; /* 280: 216 bytes */
  /* 496: padding to 512, then the stack window */
};

#define WINDOW_OFFSET 512
#define WAIT_FLAGS (__WALL | __WNOTHREAD)

static int read_window(pid_t tid, uint64_t sp, unsigned char *dst, int size) {
  struct iovec local = {dst, (size_t)size};
  struct iovec remote = {(void *)sp, (size_t)size};
  ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
  if (n >= 0) return (int)n;
  /* the window crosses the end of the stack mapping: read page by page up to the fault */
  int done = 0;
  while (done < size) {
    size_t chunk = 4096 - ((sp + done) & 4095);
    if (chunk > (size_t)(size - done)) chunk = size - done;
    local.iov_base = dst + done;
    local.iov_len = chunk;
    remote.iov_base = (void *)(sp + done);
    remote.iov_len = chunk;
    n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
    if (n <= 0) break;
    done += (int)n;
  }
  return done;
}

/* The pending resume of the previous stop: memory write, SETREGS, CONT or SINGLESTEP. */
static void resume_now(struct ustack_io *io) {
  io->resume_result = 0;
  if (io->resume_tid <= 0) return;
  pid_t tid = io->resume_tid;
  if ((io->resume_flags & 2) && ptrace(PTRACE_POKEDATA, tid, (void *)io->write_addr, (void *)io->write_value) == -1) io->resume_result = -errno;
  if ((io->resume_flags & 1) && ptrace(PTRACE_SETREGS, tid, 0, &io->regs_in) == -1) io->resume_result = -errno;
  long req = (io->resume_flags & 4) ? PTRACE_SINGLESTEP : PTRACE_CONT;
  if (ptrace(req, tid, 0, (void *)(long)io->resume_sig) == -1 && io->resume_result == 0) io->resume_result = -errno;
  io->resume_tid = 0;
}

/* Waits for the next stop of any tracee; true for a plain SIGTRAP stop (a breakpoint or a step). */
static int wait_stop(struct ustack_io *io) {
  int status = 0;
  pid_t tid = waitpid(-1, &status, WAIT_FLAGS);
  io->stop_tid = tid < 0 ? -errno : tid;
  io->stop_status = status;
  io->window_length = 0;
  io->regs_valid = 0;
  return tid > 0 && WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP && (status >> 16) == 0;
}

int ustack_resume_wait(struct ustack_io *io) {
  resume_now(io);
  if (wait_stop(io)) {
    pid_t tid = io->stop_tid;
    if (ptrace(PTRACE_GETREGS, tid, 0, &io->regs_out) == 0) {
      io->regs_valid = 1;
      if (io->window_size > 0) io->window_length = read_window(tid, io->regs_out.rsp, (unsigned char *)io + WINDOW_OFFSET, io->window_size);
    }
  }
  return io->stop_tid;
}

/* ---- batched hits (layout shared with src/ptrace/stop-channel.ts) ---- */

enum { OP_CONTINUE = 1, OP_PUSH = 2, OP_MOV_RIP = 3, OP_MOV_REG = 4 };

struct ustack_bp {        /* 32 bytes, sorted by address */
  uint64_t address;
  int32_t op;
  int32_t reg;            /* destination (OP_PUSH: the pushed register) */
  int32_t len;            /* instruction length */
  int32_t disp;           /* OP_MOV_RIP: rip-relative displacement; OP_MOV_REG: source register */
  int32_t wide;           /* 64-bit operand (else 32-bit, zero-extended) */
  int32_t pad;
};

struct ustack_thread {    /* 16 bytes */
  int32_t tid;
  int32_t pad;
  uint64_t stack_top;     /* end of the bytes an unwind of this thread reads */
};

#define MAX_BPS 1024
#define MAX_THREADS 256
#define RECORD_HEADER 24  /* tid, window length, breakpoint address, CLOCK_MONOTONIC ns */
#define RECORD_REGS ((int)sizeof(struct user_regs_struct))

struct ustack_batch {
  int32_t bp_count;       /*  0 */
  int32_t thread_count;   /*  4 */
  int32_t max_records;    /*  8 */
  int32_t records;        /* 12: out */
  int32_t used;           /* 16: out, bytes of the ring */
  int32_t capacity;       /* 20: bytes of the ring */
  int32_t max_window;     /* 24 */
  int32_t pad;            /* 28 */
  struct ustack_bp bps[MAX_BPS];             /* 32 */
  struct ustack_thread threads[MAX_THREADS]; /* 32 + 32 * 1024 */
  unsigned char ring[];                      /* 32 + 32 * 1024 + 16 * 256 */
};

/* user_regs_struct slots in x86 register-number order (rax rcx rdx rbx rsp rbp rsi rdi r8..r15) */
static unsigned long long *reg_slot(struct user_regs_struct *r, int n) {
  switch (n) {
  case 0: return &r->rax;
  case 1: return &r->rcx;
  case 2: return &r->rdx;
  case 3: return &r->rbx;
  case 4: return &r->rsp;
  case 5: return &r->rbp;
  case 6: return &r->rsi;
  case 7: return &r->rdi;
  case 8: return &r->r8;
  case 9: return &r->r9;
  case 10: return &r->r10;
  case 11: return &r->r11;
  case 12: return &r->r12;
  case 13: return &r->r13;
  case 14: return &r->r14;
  default: return &r->r15;
  }
}

static const struct ustack_bp *find_bp(const struct ustack_batch *b, uint64_t address) {
  int lo = 0, hi = b->bp_count - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    uint64_t a = b->bps[mid].address;
    if (a == address) return &b->bps[mid];
    if (a < address) lo = mid + 1;
    else hi = mid - 1;
  }
  return NULL;
}

static const struct ustack_thread *find_thread(const struct ustack_batch *b, int32_t tid) {
  for (int i = 0; i < b->thread_count; i++)
    if (b->threads[i].tid == tid) return &b->threads[i];
  return NULL;
}

/* The step-over of one plain breakpoint, as src/ptrace/step-over.ts does it; 0 when it cannot be done here. */
static int emulate(struct ustack_io *io, const struct ustack_bp *bp, pid_t tid) {
  struct user_regs_struct *in = &io->regs_in;
  *in = io->regs_out;
  io->resume_flags = 0;
  switch (bp->op) {
  case OP_CONTINUE:
    return 1;
  case OP_PUSH:
    in->rsp -= 8;
    io->write_addr = in->rsp;
    io->write_value = *reg_slot(&io->regs_out, bp->reg);
    in->rip = bp->address + bp->len;
    io->resume_flags = 3;
    return 1;
  case OP_MOV_RIP: {
    errno = 0;
    long v = ptrace(PTRACE_PEEKDATA, tid, (void *)(bp->address + bp->len + (int64_t)bp->disp), 0);
    if (v == -1 && errno != 0) return 0;
    *reg_slot(in, bp->reg) = bp->wide ? (unsigned long long)v : (unsigned long long)(uint32_t)v;
    in->rip = bp->address + bp->len;
    io->resume_flags = 1;
    return 1;
  }
  case OP_MOV_REG: {
    unsigned long long v = *reg_slot(&io->regs_out, bp->disp);
    *reg_slot(in, bp->reg) = bp->wide ? v : (uint32_t)v;
    in->rip = bp->address + bp->len;
    io->resume_flags = 1;
    return 1;
  }
  }
  return 0;
}

/* 1: the batch layout above (the tracer checks it before using ustack_resume_wait_batch). */
int ustack_batch_version(void) { return 1; }


/*
 * Like ustack_resume_wait, but plain breakpoint hits are saved into b->ring and stepped over here
 * until a stop that TypeScript must see arrives (returned as ustack_resume_wait returns it, after
 * the saved hits), or the ring is full (returns 0: only saved hits, every thread resumed).
 */
int ustack_resume_wait_batch(struct ustack_io *io, struct ustack_batch *b) {
  b->records = 0;
  b->used = 0;
  for (;;) {
    resume_now(io);
    if (!wait_stop(io)) return io->stop_tid;
    pid_t tid = io->stop_tid;
    if (ptrace(PTRACE_GETREGS, tid, 0, &io->regs_out) != 0) return io->stop_tid;
    io->regs_valid = 1;
    const struct ustack_bp *bp = b->bp_count > 0 ? find_bp(b, io->regs_out.rip - 1) : NULL;
    const struct ustack_thread *th = bp ? find_thread(b, tid) : NULL;
    uint64_t sp = io->regs_out.rsp;
    int64_t need = th ? (int64_t)(th->stack_top - sp) : -1;
    int record_size = RECORD_HEADER + RECORD_REGS + (int)((need + 7) & ~7LL);
    if (th && need > 0 && need <= b->max_window && b->used + record_size <= b->capacity) {
      unsigned char *rec = b->ring + b->used;
      int got = read_window(tid, sp, rec + RECORD_HEADER + RECORD_REGS, (int)need);
      if (got == need && emulate(io, bp, tid)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
        int32_t len = (int32_t)need;
        memcpy(rec, &tid, 4);
        memcpy(rec + 4, &len, 4);
        memcpy(rec + 8, &bp->address, 8);
        memcpy(rec + 16, &ns, 8);
        memcpy(rec + RECORD_HEADER, &io->regs_out, RECORD_REGS);
        b->used += record_size;
        b->records++;
        io->resume_tid = tid;
        io->resume_sig = 0;
        if (b->records >= b->max_records || b->capacity - b->used < RECORD_HEADER + RECORD_REGS + b->max_window) {
          resume_now(io);
          io->stop_tid = 0;
          io->regs_valid = 0;
          return 0;
        }
        continue;
      }
      io->resume_flags = 0;
    }
    if (io->window_size > 0) io->window_length = read_window(tid, sp, (unsigned char *)io + WINDOW_OFFSET, io->window_size);
    return io->stop_tid;
  }
}
