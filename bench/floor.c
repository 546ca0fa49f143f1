/*
 * The floor for any ptrace tracer on this machine: what a minimal C tracer pays per hit.
 * int3 on the entry of FUNC, and at every hit: GETREGS, read 16 KiB of stack through
 * /proc/PID/mem, step over the entry instruction without removing the breakpoint (endbr64:
 * nothing to do; push %reg and mov disp(%rip),%reg: emulated; anything else: restore the
 * byte, single-step, re-plant), continue. No unwinding, no symbols.
 *
 * usage: floor [--no-pin] FUNC PROGRAM [ARGS...]
 * prints on stderr: "floor: hits=N elapsed_us=T exit=CODE"
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK_WINDOW 16384
#define MAX_STEPPING 256

enum plan { PLAN_CONTINUE, PLAN_PUSH, PLAN_MOV_RIP, PLAN_STEP };

static void die(const char *what) {
  fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
  exit(2);
}

/* Symbol value of FUNC and the lowest PT_LOAD address of PROGRAM (for the load bias). */
static int find_symbol(const char *file, const char *func, uint64_t *value, uint64_t *first_load, int *is_pie) {
  int fd = open(file, O_RDONLY);
  if (fd < 0) die(file);
  struct stat st;
  if (fstat(fd, &st) < 0) die("fstat");
  const unsigned char *img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (img == MAP_FAILED) die("mmap");
  close(fd);
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) {
    fprintf(stderr, "floor: %s is not a 64-bit ELF file\n", file);
    exit(2);
  }
  *is_pie = eh->e_type == ET_DYN;
  *first_load = UINT64_MAX;
  const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff);
  for (int i = 0; i < eh->e_phnum; i++)
    if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < *first_load) *first_load = ph[i].p_vaddr & ~0xfffULL;
  const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
  for (int pass = 0; pass < 2; pass++) {
    unsigned want = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;
    for (int i = 0; i < eh->e_shnum; i++) {
      if (sh[i].sh_type != want) continue;
      const Elf64_Sym *syms = (const Elf64_Sym *)(img + sh[i].sh_offset);
      const char *names = (const char *)(img + sh[sh[i].sh_link].sh_offset);
      size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
      for (size_t k = 0; k < n; k++) {
        if (ELF64_ST_TYPE(syms[k].st_info) == STT_FUNC && syms[k].st_value && strcmp(names + syms[k].st_name, func) == 0) {
          *value = syms[k].st_value;
          return 0;
        }
      }
    }
  }
  return -1;
}

/* Start of the mapping of PROGRAM at file offset 0 in the tracee. */
static uint64_t mapping_start(pid_t pid, const char *file) {
  char path[64], real[4096], line[4608];
  snprintf(path, sizeof path, "/proc/%d/maps", pid);
  if (!realpath(file, real)) die("realpath");
  FILE *f = fopen(path, "r");
  if (!f) die(path);
  uint64_t start = 0;
  while (fgets(line, sizeof line, f)) {
    uint64_t lo, hi, off;
    char perms[8];
    int name_at = 0;
    if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n", &lo, &hi, perms, &off, &name_at) < 4 || !name_at) continue;
    char *name = line + name_at;
    name[strcspn(name, "\n")] = 0;
    if (off == 0 && strcmp(name, real) == 0) {
      start = lo;
      break;
    }
  }
  fclose(f);
  return start;
}

static uint64_t *reg_slot(struct user_regs_struct *r, int n) {
  /* x86-64 encoding order: rax rcx rdx rbx rsp rbp rsi rdi r8..r15 */
  static const size_t off[16] = {
    offsetof(struct user_regs_struct, rax), offsetof(struct user_regs_struct, rcx), offsetof(struct user_regs_struct, rdx),
    offsetof(struct user_regs_struct, rbx), offsetof(struct user_regs_struct, rsp), offsetof(struct user_regs_struct, rbp),
    offsetof(struct user_regs_struct, rsi), offsetof(struct user_regs_struct, rdi), offsetof(struct user_regs_struct, r8),
    offsetof(struct user_regs_struct, r9),  offsetof(struct user_regs_struct, r10), offsetof(struct user_regs_struct, r11),
    offsetof(struct user_regs_struct, r12), offsetof(struct user_regs_struct, r13), offsetof(struct user_regs_struct, r14),
    offsetof(struct user_regs_struct, r15)};
  return (uint64_t *)((char *)r + off[n]);
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  int pin = 1, a = 1;
  if (a < argc && strcmp(argv[a], "--no-pin") == 0) pin = 0, a++;
  if (argc - a < 2) {
    fprintf(stderr, "usage: floor [--no-pin] FUNC PROGRAM [ARGS...]\n");
    return 2;
  }
  const char *func = argv[a];
  char **prog = argv + a + 1;
  uint64_t sym, first_load;
  int pie;
  if (find_symbol(prog[0], func, &sym, &first_load, &pie) < 0) {
    fprintf(stderr, "floor: no function %s in %s\n", func, prog[0]);
    return 2;
  }
  double started = now_us();

  if (pin) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 1) {
      int last = -1;
      for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set)) last = c;
      CPU_ZERO(&set);
      CPU_SET(last, &set);
      sched_setaffinity(0, sizeof set, &set); /* the child inherits it */
    }
  }
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    execvp(prog[0], prog);
    _exit(127);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
    fprintf(stderr, "floor: the program did not start\n");
    return 2;
  }
  if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL) < 0) die("PTRACE_SETOPTIONS");

  char mem_path[64];
  snprintf(mem_path, sizeof mem_path, "/proc/%d/mem", pid);
  int mem = open(mem_path, O_RDWR);
  if (mem < 0) die(mem_path);
  uint64_t bp = sym + (pie ? mapping_start(pid, prog[0]) - first_load : 0);
  unsigned char code[16];
  if (pread(mem, code, sizeof code, bp) != sizeof code) die("read function entry");

  enum plan plan = PLAN_STEP;
  int reg = 0, len = 1;
  int32_t disp = 0;
  int rex = (code[0] & 0xf0) == 0x40 ? code[0] : 0;
  int op = code[rex ? 1 : 0];
  if (code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && code[3] == 0xfa) plan = PLAN_CONTINUE;
  else if (op >= 0x50 && op <= 0x57 && !(rex & 8)) {
    plan = PLAN_PUSH;
    reg = (op - 0x50) + ((rex & 1) ? 8 : 0);
    len = rex ? 2 : 1;
  } else if (op == 0x8b && (code[rex ? 2 : 1] & 0xc7) == 0x05) {
    int m = code[rex ? 2 : 1];
    plan = PLAN_MOV_RIP;
    reg = ((m >> 3) & 7) + ((rex & 4) ? 8 : 0);
    memcpy(&disp, code + (rex ? 3 : 2), 4);
    len = (rex ? 3 : 2) + 4;
    if (!(rex & 8)) plan = PLAN_STEP; /* 32-bit load: keep the floor simple */
  }
  unsigned char int3 = 0xcc;
  if (pwrite(mem, &int3, 1, bp) != 1) die("plant breakpoint");
  if (ptrace(PTRACE_CONT, pid, 0, 0) < 0) die("PTRACE_CONT");

  static unsigned char stack[STACK_WINDOW];
  pid_t stepping[MAX_STEPPING];
  int nstepping = 0;
  long hits = 0;
  int exit_code = -1;
  struct user_regs_struct regs;
  for (;;) {
    pid_t tid = waitpid(-1, &status, __WALL);
    if (tid < 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: every thread is gone */
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (tid == pid) exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      continue;
    }
    if (!WIFSTOPPED(status)) continue;
    int sig = WSTOPSIG(status);
    if (sig == SIGTRAP && (status >> 16) != 0) { /* clone event: the new thread is attached by the kernel */
      ptrace(PTRACE_CONT, tid, 0, 0);
      continue;
    }
    if (sig == SIGSTOP) { /* a new thread's first stop (or a real SIGSTOP: dropped, as tracers of tests do) */
      ptrace(PTRACE_CONT, tid, 0, 0);
      continue;
    }
    if (sig != SIGTRAP) {
      ptrace(PTRACE_CONT, tid, 0, sig);
      continue;
    }
    int was_stepping = -1;
    for (int i = 0; i < nstepping; i++)
      if (stepping[i] == tid) was_stepping = i;
    if (was_stepping >= 0) { /* in-place step done: re-plant */
      stepping[was_stepping] = stepping[--nstepping];
      pwrite(mem, &int3, 1, bp);
      ptrace(PTRACE_CONT, tid, 0, 0);
      continue;
    }
    if (ptrace(PTRACE_GETREGS, tid, 0, &regs) < 0) continue;
    if (regs.rip - 1 != bp) {
      ptrace(PTRACE_CONT, tid, 0, SIGTRAP);
      continue;
    }
    hits++;
    (void)!pread(mem, stack, STACK_WINDOW, regs.rsp);
    switch (plan) {
    case PLAN_CONTINUE:
      break;
    case PLAN_PUSH:
      regs.rsp -= 8;
      pwrite(mem, reg_slot(&regs, reg), 8, regs.rsp);
      regs.rip = bp + len;
      ptrace(PTRACE_SETREGS, tid, 0, &regs);
      break;
    case PLAN_MOV_RIP:
      pread(mem, reg_slot(&regs, reg), 8, bp + len + disp);
      regs.rip = bp + len;
      ptrace(PTRACE_SETREGS, tid, 0, &regs);
      break;
    case PLAN_STEP:
      regs.rip = bp;
      pwrite(mem, code, 1, bp);
      ptrace(PTRACE_SETREGS, tid, 0, &regs);
      if (nstepping < MAX_STEPPING) stepping[nstepping++] = tid;
      ptrace(PTRACE_SINGLESTEP, tid, 0, 0);
      continue;
    }
    ptrace(PTRACE_CONT, tid, 0, 0);
  }
  double elapsed = now_us() - started;
  fprintf(stderr, "floor: hits=%ld elapsed_us=%.0f exit=%d\n", hits, elapsed, exit_code);
  return exit_code < 0 ? 1 : exit_code;
}
