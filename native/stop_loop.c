/*
 * jest-ustack's optional native stop loop, called through ffi-rs: one call per breakpoint hit
 * instead of four or five. It performs the pending resume of the previous stop (memory write,
 * SETREGS, CONT or SINGLESTEP), waits for the next stop of any tracee, and for a plain SIGTRAP
 * stop (a breakpoint or a step) fetches the registers and the top of the stack. All decisions
 * stay in TypeScript; this file only batches system calls. The pure ffi-rs path does the same
 * calls one by one when this library cannot be built or loaded.
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

int ustack_resume_wait(struct ustack_io *io) {
  io->resume_result = 0;
  if (io->resume_tid > 0) {
    pid_t tid = io->resume_tid;
    if ((io->resume_flags & 2) && ptrace(PTRACE_POKEDATA, tid, (void *)io->write_addr, (void *)io->write_value) == -1) io->resume_result = -errno;
    if ((io->resume_flags & 1) && ptrace(PTRACE_SETREGS, tid, 0, &io->regs_in) == -1) io->resume_result = -errno;
    long req = (io->resume_flags & 4) ? PTRACE_SINGLESTEP : PTRACE_CONT;
    if (ptrace(req, tid, 0, (void *)(long)io->resume_sig) == -1 && io->resume_result == 0) io->resume_result = -errno;
    io->resume_tid = 0;
  }
  int status = 0;
  pid_t tid = waitpid(-1, &status, WAIT_FLAGS);
  io->stop_tid = tid < 0 ? -errno : tid;
  io->stop_status = status;
  io->window_length = 0;
  io->regs_valid = 0;
  if (tid > 0 && WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP && (status >> 16) == 0) {
    if (ptrace(PTRACE_GETREGS, tid, 0, &io->regs_out) == 0) {
      io->regs_valid = 1;
      if (io->window_size > 0) io->window_length = read_window(tid, io->regs_out.rsp, (unsigned char *)io + WINDOW_OFFSET, io->window_size);
    }
  }
  return io->stop_tid;
}
