/**
 * The libc calls the ptrace backend needs, through ffi-rs. One params object per function is
 * reused for every call (ffi.load with a prebuilt object is the cheapest ffi-rs path, about
 * 3 µs per ptrace call against 4.5 µs for define() wrappers), and all out-parameters live in one malloc'ed arena viewed as an external Buffer.
 */
import { ffi } from './ffi';

const { DataType: T } = ffi;
const LIB = 'libc';

let opened = false;
function openLibc(): void {
  if (!opened) {
    ffi.open({ library: LIB, path: '' });
    opened = true;
  }
}

type Params = {
  library: string;
  funcName: string;
  retType: number;
  paramsType: number[];
  paramsValue: unknown[];
  errno?: boolean;
};

function params(funcName: string, retType: number, paramsType: number[], errno = false): Params {
  return { library: LIB, funcName, retType, paramsType, paramsValue: new Array(paramsType.length).fill(0), errno };
}

function call(p: Params, ...args: unknown[]): any {
  const values = p.paramsValue;
  for (let i = 0; i < args.length; i++) values[i] = args[i];
  return ffi.load(p as any);
}

// Arena layout (bytes). Everything the kernel or libc writes back lands here.
const ARENA_SIZE = 1 << 16;
export const OFF_REGS = 0; // struct user_regs_struct, 27 * 8
export const OFF_STATUS = 256; // int
export const OFF_PID = 264; // pid_t
export const OFF_EVENTMSG = 272; // unsigned long
export const OFF_SIGINFO = 512; // siginfo_t, 128
export const OFF_FILE_ACTIONS = 1024; // posix_spawn_file_actions_t, 80
export const OFF_SPAWNATTR = 1280; // posix_spawnattr_t, 336
export const OFF_SIGSET = 1664; // sigset_t, 128
export const OFF_CPUSET = 1792; // cpu_set_t, 128
export const OFF_STRINGS = 4096; // argv/envp pointer arrays and strings

export interface ErrnoResult {
  value: number;
  errnoCode: number;
  errnoMessage: string;
}

export class Libc {
  readonly arena: Buffer;
  readonly arenaAddress: number;

  private readonly pPtrace = params('ptrace', T.I64, [T.I64, T.I32, T.I64, T.I64]);
  private readonly pPtraceErrno = params('ptrace', T.I64, [T.I64, T.I32, T.I64, T.I64], true);
  private readonly pWaitpid = params('waitpid', T.I32, [T.I32, T.I64, T.I32]);
  private readonly pWaitpidErrno = params('waitpid', T.I32, [T.I32, T.I64, T.I32], true);
  private readonly pKill = params('kill', T.I32, [T.I32, T.I32]);
  private readonly pTgkill = params('tgkill', T.I32, [T.I32, T.I32, T.I32]);
  private readonly pMalloc = params('malloc', T.I64, [T.I64]);
  private readonly pFree = params('free', T.Void, [T.I64]);
  private readonly pSpawn = params('posix_spawn', T.I32, [T.I64, T.I64, T.I64, T.I64, T.I64, T.I64]);
  private readonly pFaInit = params('posix_spawn_file_actions_init', T.I32, [T.I64]);
  private readonly pFaDestroy = params('posix_spawn_file_actions_destroy', T.I32, [T.I64]);
  private readonly pFaDup2 = params('posix_spawn_file_actions_adddup2', T.I32, [T.I64, T.I32, T.I32]);
  private readonly pFaOpen = params('posix_spawn_file_actions_addopen', T.I32, [T.I64, T.I32, T.I64, T.I32, T.I32]);
  private readonly pFaChdir = params('posix_spawn_file_actions_addchdir_np', T.I32, [T.I64, T.I64]);
  private readonly pAttrInit = params('posix_spawnattr_init', T.I32, [T.I64]);
  private readonly pAttrDestroy = params('posix_spawnattr_destroy', T.I32, [T.I64]);
  private readonly pAttrSetflags = params('posix_spawnattr_setflags', T.I32, [T.I64, T.I16]);
  private readonly pAttrSetsigdefault = params('posix_spawnattr_setsigdefault', T.I32, [T.I64, T.I64]);
  private readonly pAttrSetsigmask = params('posix_spawnattr_setsigmask', T.I32, [T.I64, T.I64]);
  private readonly pAttrSetpgroup = params('posix_spawnattr_setpgroup', T.I32, [T.I64, T.I32]);
  private readonly pSigfillset = params('sigfillset', T.I32, [T.I64]);
  private readonly pSigemptyset = params('sigemptyset', T.I32, [T.I64]);
  private readonly pSetaffinity = params('sched_setaffinity', T.I32, [T.I32, T.I64, T.I64]);
  private readonly pGetaffinity = params('sched_getaffinity', T.I32, [T.I32, T.I64, T.I64]);
  private readonly pGettid = params('gettid', T.I32, []);

  constructor() {
    openLibc();
    this.arenaAddress = call(this.pMalloc, ARENA_SIZE);
    const ext = ffi.unwrapPointer(ffi.createPointer({ paramsType: [T.I64], paramsValue: [this.arenaAddress] }))[0];
    this.arena = ffi.createExternalBuffer(ext, ARENA_SIZE);
    this.arena.fill(0);
  }

  /** ptrace(2) without errno: returns -1 on failure (hot path). */
  ptrace(request: number, pid: number, addr: number, data: number): number {
    return call(this.pPtrace, request, pid, addr, data);
  }

  ptraceErrno(request: number, pid: number, addr: number, data: number): ErrnoResult {
    return call(this.pPtraceErrno, request, pid, addr, data);
  }

  /** waitpid(2) with the status written to the arena; returns the pid or -1. */
  waitpid(pid: number, options: number): number {
    return call(this.pWaitpid, pid, this.arenaAddress + OFF_STATUS, options);
  }

  waitpidErrno(pid: number, options: number): ErrnoResult {
    return call(this.pWaitpidErrno, pid, this.arenaAddress + OFF_STATUS, options);
  }

  get status(): number {
    return this.arena.readInt32LE(OFF_STATUS);
  }

  kill(pid: number, sig: number): number {
    return call(this.pKill, pid, sig);
  }

  tgkill(tgid: number, tid: number, sig: number): number {
    return call(this.pTgkill, tgid, tid, sig);
  }

  gettid(): number {
    return call(this.pGettid);
  }

  malloc(size: number): number {
    return call(this.pMalloc, size);
  }

  free(address: number): void {
    call(this.pFree, address);
  }

  /** Restricts a thread (tid 0 = the caller) to the given CPUs; returns false if not possible. */
  setAffinity(tid: number, cpus: number[]): boolean {
    this.arena.fill(0, OFF_CPUSET, OFF_CPUSET + 128);
    for (const cpu of cpus) this.arena[OFF_CPUSET + (cpu >> 3)] |= 1 << (cpu & 7);
    return call(this.pSetaffinity, tid, 128, this.arenaAddress + OFF_CPUSET) === 0;
  }

  /** CPUs the thread may run on. */
  getAffinity(tid: number): number[] {
    if (call(this.pGetaffinity, tid, 128, this.arenaAddress + OFF_CPUSET) !== 0) return [];
    const cpus: number[] = [];
    for (let i = 0; i < 1024; i++) if (this.arena[OFF_CPUSET + (i >> 3)] & (1 << (i & 7))) cpus.push(i);
    return cpus;
  }

  // posix_spawn pieces; addresses are into the arena or malloc'ed blocks.
  fileActionsInit(): number {
    const p = this.arenaAddress + OFF_FILE_ACTIONS;
    call(this.pFaInit, p);
    return p;
  }
  fileActionsDestroy(p: number): void {
    call(this.pFaDestroy, p);
  }
  fileActionsDup2(p: number, fd: number, newfd: number): number {
    return call(this.pFaDup2, p, fd, newfd);
  }
  fileActionsOpen(p: number, fd: number, pathAddress: number, flags: number, mode: number): number {
    return call(this.pFaOpen, p, fd, pathAddress, flags, mode);
  }
  fileActionsChdir(p: number, pathAddress: number): number {
    return call(this.pFaChdir, p, pathAddress);
  }
  spawnAttrInit(): number {
    const p = this.arenaAddress + OFF_SPAWNATTR;
    call(this.pAttrInit, p);
    return p;
  }
  spawnAttrDestroy(p: number): void {
    call(this.pAttrDestroy, p);
  }
  spawnAttrSetFlags(p: number, flags: number): number {
    return call(this.pAttrSetflags, p, flags);
  }
  /** Resets every signal to its default action and unblocks all of them in the child (Node ignores SIGPIPE). */
  spawnAttrResetSignals(p: number): void {
    const set = this.arenaAddress + OFF_SIGSET;
    call(this.pSigfillset, set);
    call(this.pAttrSetsigdefault, p, set);
    call(this.pSigemptyset, set);
    call(this.pAttrSetsigmask, p, set);
  }
  spawnAttrSetPgroup(p: number, pgroup: number): number {
    return call(this.pAttrSetpgroup, p, pgroup);
  }
  /** Returns 0 or an errno value; the child pid is at OFF_PID. */
  spawn(path: number, fileActions: number, attr: number, argv: number, envp: number): number {
    return call(this.pSpawn, this.arenaAddress + OFF_PID, path, fileActions, attr, argv, envp);
  }
  get spawnedPid(): number {
    return this.arena.readInt32LE(OFF_PID);
  }
}

let shared: Libc | null = null;
/** One Libc per thread (the arena is not shared between threads). */
export function libc(): Libc {
  if (!shared) shared = new Libc();
  return shared;
}

/** Loads ffi-rs in this thread without calling anything (the process crashes when a worker that loaded it exits unless the main thread holds it too). */
export function preloadFfi(): void {
  openLibc();
}
