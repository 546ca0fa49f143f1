/**
 * The ptrace tracer: runs one program (and, by default, its children) with int3 breakpoints on
 * the hooked functions, and records the raw stack (pcs) of every hit. Synchronous: it blocks in
 * waitpid, so it runs in a worker thread (see ptrace-backend.ts); symbolization happens after
 * the run, from module snapshots taken when the stacks were recorded.
 */
import * as fs from 'node:fs';
import { PackedHits } from '../capture/packed-hits';
import type { ArgValue, HookResolution, NoReturnReason, ResolvedHook, ReturnInfo } from '../capture/types';
import type { FunctionSignature } from '../dwarf/parameters';
import { REG_RIP, REGISTER_COUNT, registersFromUserRegs } from '../dwarf/registers';
import { FRAME_EXACT_PC, FRAME_SIGNAL_TRAMPOLINE, SAVED_REGISTERS, Unwinder, type UnwindModule } from '../dwarf/unwinder';
import { CfiTable } from '../dwarf/cfi-table';
import type { ElfFile } from '../elf/elf-file';
import { debugInfoStatus, symbolSource } from '../elf/debuginfo';
import { prepareDebugInfoSync } from '../elf/debug-prepare';
import { debuginfodWarnings, missingDebugInfoText } from '../elf/debug-advice';
import { runnerOfOtherPrograms } from '../elf/scripts';
import { NoDebugInfoError, PtraceDeniedError, UnknownHookError, UstackError } from '../errors';
import { readProcessMaps } from '../symbolize/process-maps';
import { ModuleMap, type LoadedModule } from '../symbolize/module-map';
import { isGlob, parseHookSpec, type HookSpec } from '../symbolize/hook-spec';
import { hookModule, moduleMatches, planHook, resolvedHookOf, unknownHookError } from '../symbolize/hook-resolver';
import { demangle } from '../symbolize/demangle';
import { moduleDwarf } from '../symbolize/module-debug';
import * as C from './constants';
import { Libc, OFF_EVENTMSG, OFF_REGS, OFF_SIGINFO } from './libc';
import { CRASH_SIGNALS, FAULT_ADDRESS_SIGNALS, SIGKILL, SIGTRAP, STOP_SIGNALS, signalName } from './signals';
import { spawnStopped, type SpawnRequest } from './spawn';
import { planBranchStepOver, planDisplacedStep, planStepOver, readRegister, setRip, type DisplacedStep, type EmulationContext, type NativeStepOver, type StepOverPlan } from './step-over';
import { TraceeMemory } from './tracee-memory';
import { openStopChannel, type HitBatch, type PendingResume, type StopChannel } from './stop-channel';
import { CallCapture } from './call-capture';
import { ReturnTracker, type Settled } from './return-breakpoints';

export interface TracerOptions {
  hooks: string[];
  maxFrames: number;
  maxHits: number;
  followChildren: boolean;
  /** Pin tracer and tracee to one CPU (a hit cost 4-5x less in a 2-vCPU VM). */
  pinCpu: boolean;
  /** Polled after every stop: when it returns true the whole traced tree is killed. */
  shouldStop?: () => boolean;
  /** Called with every process id that joins the traced tree (for the caller's kill switch). */
  onProcess?: (pid: number) => void;
  /** Maximum number of distinct stacks remembered per hook for uniqueness counting. */
  maxUniqueStacks?: number;
  /** Record each hooked function's parameters at entry (issue 13). */
  args?: boolean;
  /** Also stop at each hooked call's return: return value and duration (issue 13). */
  returns?: boolean;
  /** Distinct stacks stored (default 10,000); further ones are folded into one stack per hook and breakpoint. */
  maxStacks?: number;
  /** Let the native stop loop save plain hits and step over them itself (default true; see HitBatch). */
  batch?: boolean;
}

/** A recorded stack before symbolization. */
export interface RawStack {
  hooks: number[];
  pid: number;
  tid: number;
  seq: number;
  pcs: Float64Array;
  frameFlags: Uint8Array;
  modules: ModuleMap;
  /** Stopped at an inlined copy's entry: symbolize frame 0 into its inline frames. */
  atInlineEntry?: boolean;
  /** Cut at maxFrames. */
  truncated?: boolean;
}

/** The values of one hooked call (`args`/`returns` options): filled at entry, completed at its return. Kept rows share it as their `call` column. */
export interface CallRecord {
  /** Parameters at entry (`args` option). */
  args?: Record<string, ArgValue>;
  /** The call's return (`returns` option); null when it never returned, with `noReturn` saying why. */
  ret?: ReturnInfo | null;
  noReturn?: NoReturnReason;
}

export interface RawCrash extends RawStack {
  signal: string;
  faultAddress: number | null;
}

/** One distinct stack of one hook, before symbolization, with its true hit count. */
export interface DistinctStack {
  hook: number;
  pcs: Float64Array;
  frameFlags: Uint8Array;
  modules: ModuleMap;
  /** Stopped at an inlined copy's entry: symbolize frame 0 into its inline frames. */
  atInlineEntry: boolean;
  count: number;
  /** seq of its first hit. */
  first: number;
  /** The catch-all of this hook and breakpoint past the stack limit: pcs holds frame 0 only. */
  folded: boolean;
  /** Cut at maxFrames: its outermost callers (main among them) are missing. */
  truncated: boolean;
  /**
   * Registers of calling frames that its tail-call frames depend on (DebugInfo.registerNeeds), as
   * [frame, DWARF register, value] triples; null for almost every stack. Part of its identity.
   */
  frameRegs: number[] | null;
  /** [frame, register, index into the unwinder's saved registers] of frameRegs: what a hit with the same pcs compares. */
  regSlots: number[] | null;
  hash: number;
  /** Its index in TraceResult.stacks. */
  index: number;
}


export interface TraceResult {
  exit: { code: number | null; signal: string | null };
  stacks: DistinctStack[];
  /** The kept hits (row i = one hit); `stack` indexes `stacks`; `extra` holds optional per-hit columns. */
  rows: PackedHits;
  crash: RawCrash | null;
  hooks: HookResolution[];
  hitCount: number;
  dropped: number;
  uniqueStacks: number;
  /** Distinct stacks folded past the stack limit (counted up to a bound), and their hits. */
  foldedStacks: number;
  foldedHits: number;
  killedLeftovers: number;
  stopped: boolean;
  warnings: string[];
  /** Hooked calls seen returning (`returns` option). */
  returns?: number;
  /** Hits the native loop saved and stepped over itself (unwound afterwards from the saved stack). */
  batchedHits: number;
}

const BREAKPOINT = Buffer.from([0xcc]);
/** Where unwindCurrent finds the stack top: read it now, the stop channel's, or already set (a saved hit's). */
const WINDOW_READ = 0;
const WINDOW_CHANNEL = 1;
const WINDOW_PRESET = 2;
const R_STATE_OFFSET = 24; // struct r_debug { int r_version; link_map *r_map; ElfW(Addr) r_brk; r_state; ... }
const RT_CONSISTENT = 0;

interface Breakpoint {
  address: number;
  original: Buffer; // first 16 bytes of the function as in the file
  plan: StepOverPlan | null;
  /** Out-of-line execution of the first instruction when it is not emulated. */
  displaced: DisplacedStep | null;
  hooks: number[];
  /** The dynamic linker's _dl_debug_state: the library list changed. */
  linkerEvent: boolean;
  /** The entry of an inlined copy of the hooked function (frame 0 is an inline frame there). */
  inlineEntry: boolean;
  module: string;
  /** An IFUNC resolver of hooked functions, or the return point of a resolver call (see onIfuncStop). */
  ifunc?: { resolverOf: number[]; symbol: string; returnPoint: boolean };
  /** longjmp, a throw or a catch, watched for `returns` (calls that will never return). */
  unwindKind?: UnwindWatch;
}

/** What a pending return carries: the recorded hit (null past maxHits or in a fork's copy) and how to decode the value. */
interface CallData {
  hit: CallRecord | null;
  sig: FunctionSignature | null;
}

/**
 * Where the stack gets cut without returns: longjmp (the target rsp is in the jmp_buf), a C++
 * catch handler starting (`__cxa_begin_catch` is called from the catching frame), and the
 * start of an exception's unwinding (blamed when no catch is seen).
 */
type UnwindWatch = 'longjmp' | 'catch' | 'throw';
const UNWIND_WATCH: [string, UnwindWatch][] = [
  ['_Unwind_RaiseException', 'throw'],
  ['__cxa_begin_catch', 'catch'],
  ['longjmp', 'longjmp'],
  ['_longjmp', 'longjmp'],
  ['siglongjmp', 'longjmp'],
  ['__longjmp_chk', 'longjmp'],
  ['__libc_siglongjmp', 'longjmp'],
  ['__libc_longjmp', 'longjmp'],
];
/** glibc's jmp_buf: rsp is word 6, mangled with the thread's pointer guard (fs:0x30) and rotated left 17 bits. */
const JB_RSP = 6;
const POINTER_GUARD = 0x30;

interface Thread {
  tid: number;
  process: TracedProcess;
  /** In-place step in progress over this breakpoint. */
  stepping: Breakpoint | null;
  /** Out-of-line step in progress: the scratch slot the instruction runs in. */
  displaced: { bp: Breakpoint; slot: number; slotAddress: number } | null;
  /** A signal interrupted a step: the breakpoint will trap again for the same call, do not count it twice. */
  skipHitAt: number;
  /** False until the first stop of an auto-attached thread/child (a PTRACE_EVENT_STOP that is not a group-stop). */
  started: boolean;
  /** Inside an IFUNC resolver of hooked functions: where it returns to, and the hooks its result gets. */
  ifuncCall?: { returnAddress: number; hooks: number[]; resolver: string } | null;
  /**
   * End of the stack bytes a complete unwind of this thread read, all inside its stop window (0:
   * not known). The outermost frames of a thread stay put, so a later hit needs the bytes from its
   * rsp up to here, which the native loop can save with the hit (HitBatch).
   */
  stackTop: number;
}

class TracedProcess {
  readonly breakpoints = new Map<number, Breakpoint>();
  /**
   * Addresses whose int3 we took out while the program ran (return breakpoints): another thread
   * may already have executed it, its stop not yet reported. Such a stop is ours, never the
   * program's (gdb's "moribund locations"); see onStrayTrap.
   */
  readonly removedBreakpoints = new Set<number>();
  /** Bumped whenever `breakpoints` changes (the native loop's table is rebuilt then). */
  breakpointsVersion = 0;
  readonly threads = new Set<number>();
  memory: TraceeMemory;
  modules: ModuleMap = new ModuleMap([]);
  /** Module paths already searched for hooks in this image. */
  readonly searched = new Set<string>();
  rDebug = 0;
  consistentSeen = false;
  /** Unfollowed vfork child: detach at exec, never record. */
  detachAtExec = false;
  unwindCache = new Map<LoadedModule, UnwindModule>();
  /** Return address -> registers of its frame that tail-call frames under it need (usually none). */
  readonly registerNeeds = new Map<number, readonly number[]>();
  /** Per module: scratch slots for out-of-line steps, in the unused tail of its last code page. */
  readonly scratch = new Map<string, ScratchArea | null>();

  constructor(readonly pid: number) {
    this.memory = new TraceeMemory(pid);
  }
}

/** The step-over emulation's view of a stopped thread: reads now, the one memory write batched into the resume. */
class DeferredEmulation implements EmulationContext {
  regs: Buffer = Buffer.alloc(0);
  memory: TraceeMemory | null = null;
  constructor(private readonly resume: PendingResume) {}
  readU64(address: number): number {
    return this.memory!.readU64(address);
  }
  readBytes(address: number, length: number): Buffer | null {
    return this.memory!.readBytes(address, length);
  }
  writeU64(address: number, value: bigint): boolean {
    this.resume.hasWrite = true;
    this.resume.writeAddress = address;
    this.resume.writeValue = value;
    return true;
  }
}

const SLOT_SIZE = 32;

/** Scratch slots in the slack between the end of a module's executable segment and its page end (within ±2 GiB of its code). */
class ScratchArea {
  readonly owner: (number | null)[];
  readonly content: (Breakpoint | null)[];
  constructor(readonly base: number, slots: number) {
    this.owner = new Array(slots).fill(null);
    this.content = new Array(slots).fill(null);
  }

  static forModule(mod: LoadedModule): ScratchArea | null {
    if (!mod.elf) return null;
    let best: ScratchArea | null = null;
    for (const seg of mod.elf.loadSegments) {
      if (!(seg.flags & 1)) continue; // PF_X
      const end = seg.vaddr + seg.memsz;
      const pageEnd = Math.ceil(end / 4096) * 4096;
      const start = Math.ceil(end / 16) * 16;
      const slots = Math.min(8, Math.floor((pageEnd - start) / SLOT_SIZE));
      if (slots > 0 && (!best || slots > best.owner.length)) best = new ScratchArea(start + mod.bias, slots);
    }
    return best;
  }

  /** A free slot (preferring one that already holds this breakpoint's instruction), or -1. */
  acquire(tid: number, bp: Breakpoint): number {
    let free = -1;
    for (let i = 0; i < this.owner.length; i++) {
      if (this.owner[i] !== null) continue;
      if (this.content[i] === bp) {
        this.owner[i] = tid;
        return i;
      }
      if (free < 0) free = i;
    }
    if (free >= 0) this.owner[free] = tid;
    return free;
  }

  release(slot: number): void {
    this.owner[slot] = null;
  }
}

function cfiFor(elf: ElfFile): CfiTable | null {
  const cached = cfiCache.get(elf);
  if (cached !== undefined) return cached;
  const section = (name: string) => {
    const s = elf.section(name);
    return s && s.size > 0 ? { data: s.data, address: s.address } : null;
  };
  const ehFrame = section('.eh_frame');
  const debugFrame = section('.debug_frame');
  const table = ehFrame || debugFrame ? CfiTable.fromSections({ ehFrame, ehFrameHdr: section('.eh_frame_hdr'), debugFrame }) : null;
  cfiCache.set(elf, table);
  return table;
}
const cfiCache = new WeakMap<ElfFile, CfiTable | null>();

export class Tracer {
  private readonly libc: Libc;
  private readonly opts: TracerOptions;
  private readonly specs: HookSpec[];
  private readonly resolutions: HookResolution[];
  /** Hooks that resolved to IFUNC resolvers: hook index -> resolver symbol. */
  private readonly ifuncWatched = new Map<number, string>();
  private readonly threads = new Map<number, Thread>();
  private readonly processes = new Map<number, TracedProcess>();
  /** Stops of tids whose creation event has not been seen yet. */
  private readonly early = new Map<number, number>();
  private readonly stacks: DistinctStack[] = [];
  /** Distinct stacks by pc hash; a bucket holds the (rare) colliding ones and other hooks'. */
  private readonly stackBuckets = new Map<number, DistinctStack | DistinctStack[]>();
  private readonly rows = new PackedHits();
  private readonly foldedKeys = new Set<number>();
  private foldedHits = 0;
  /** performance.now() when the program was started: hit timestamps count from here. */
  private startedAt = 0;
  /** The same moment as process.hrtime ns (the clock of the native loop's hit times). */
  private startedMonoNs = 0;
  /** The native loop's hit batch, when this trace may use it. */
  private readonly batch: HitBatch | null;
  /** The batch tables were written for this process and breakpoint version (-1: never). */
  private batchTablesFor: TracedProcess | null = null;
  private batchTablesVersion = -1;
  private batchThreadsStale = true;
  private batchedHits = 0;
  /** A user_regs_struct image of the saved hit being unwound. */
  private readonly batchRegs = Buffer.alloc(216);
  private readonly hitsPerHook: number[];
  private readonly uniquePerHook: Set<number>[];
  private readonly warnings: string[] = [];
  private crash: RawCrash | null = null;
  private rootPid = 0;
  /** The program as started (its arguments say which script a shell runs). */
  private spawned: SpawnRequest | null = null;
  private rootExit: { code: number | null; signal: string | null } = { code: null, signal: null };
  private seq = 0;
  private dropped = 0;
  private hitCount = 0;
  private killedLeftovers = 0;
  private stopped = false;
  private fatal: UstackError | null = null;

  private readonly regs: RegisterFileLike = new Float64Array(REGISTER_COUNT);
  private readonly pcs: Float64Array;
  /** SAVED_REGISTERS of every frame of the last unwind. */
  private readonly savedRegs: Float64Array;
  private readonly flags: Uint8Array;
  private readonly unwinder: Unwinder;
  private currentProcess: TracedProcess | null = null;
  private readonly channel: StopChannel;
  /** The arena's user_regs_struct, where PTRACE_GETREGS/SETREGS through ffi-rs read and write. */
  private readonly arenaRegs: Buffer;
  /** The hot path defers the resume of a breakpoint hit into the next wait (one native call). */
  private pending: PendingResume | null = null;
  private readonly resumeSlot: PendingResume = { tid: 0, sig: 0, setRegs: false, writeAddress: 0, writeValue: 0n, hasWrite: false };
  /** One emulation context for every hit (no closures allocated per hit); memory writes are deferred into the resume. */
  private readonly emulation = new DeferredEmulation(this.resumeSlot);
  /** Parameters and return values (issue 13): null unless `args` or `returns`. */
  private readonly calls: CallCapture | null;
  private readonly returnTracker: ReturnTracker<CallData> | null;
  private readonly noSignature = new Set<number>();
  private stopNs = 0n;
  /** The last unwind stopped at maxFrames with callers left (the stack is cut). */
  private truncated = false;

  constructor(libc: Libc, opts: TracerOptions) {
    this.libc = libc;
    this.opts = opts;
    this.specs = opts.hooks.map((h) => parseHookSpec(h));
    this.resolutions = opts.hooks.map((spec) => ({ spec, resolved: [] }));
    this.hitsPerHook = opts.hooks.map(() => 0);
    this.uniquePerHook = opts.hooks.map(() => new Set<number>());
    // one frame more than kept: an unwind that fills it tells a cut stack from one of exactly maxFrames frames
    this.pcs = new Float64Array(opts.maxFrames + 1);
    this.flags = new Uint8Array(opts.maxFrames + 1);
    this.savedRegs = new Float64Array((opts.maxFrames + 1) * SAVED_REGISTERS.length);
    this.unwinder = new Unwinder((pc) => this.unwindModule(pc));
    this.arenaRegs = libc.arena.subarray(OFF_REGS, OFF_REGS + 216);
    this.calls = opts.args || opts.returns ? new CallCapture(libc) : null;
    this.returnTracker = opts.returns ? new ReturnTracker<CallData>() : null;
    this.channel = openStopChannel(libc, (tid, address, value) => {
      this.threads.get(tid)?.process.memory.writeU64(address, value);
    });
    // parameters and returns stop in ways the native loop does not know: every hit stays in TypeScript then
    this.batch = opts.batch !== false && !this.calls && !this.returnTracker ? this.channel.batch : null;
  }

  /** Which stop loop ran: 'native' (batched system calls) or 'ffi'. */
  get channelKind(): 'native' | 'ffi' {
    return this.channel.kind;
  }

  /** Runs the program to completion (or until stopped) and returns the raw capture. */
  run(req: SpawnRequest): TraceResult {
    const libc = this.libc;
    const previousAffinity = this.opts.pinCpu ? libc.getAffinity(0) : [];
    this.startedAt = performance.now();
    this.startedMonoNs = Number(process.hrtime.bigint());
    const pid = spawnStopped(libc, req);
    this.rootPid = pid;
    this.spawned = req;
    this.opts.onProcess?.(pid);
    try {
      // wait for the shell's self-stop, then seize and let it exec the program
      const w = libc.waitpidErrno(pid, C.WUNTRACED | C.__WALL | C.__WNOTHREAD);
      if (w.value !== pid) throw new UstackError('USTACK_SPAWN', `Could not start the program: waitpid failed (${w.errnoMessage}).`);
      const options = C.PTRACE_O_TRACEEXEC | C.PTRACE_O_EXITKILL | C.PTRACE_O_TRACECLONE | C.PTRACE_O_TRACEFORK | C.PTRACE_O_TRACEVFORK;
      const seized = libc.ptraceErrno(C.PTRACE_SEIZE, pid, 0, options);
      if (seized.value !== 0) {
        libc.kill(pid, SIGKILL);
        libc.waitpid(pid, C.__WALL);
        throw new PtraceDeniedError(explainPtraceDenied(seized.errnoCode, seized.errnoMessage));
      }
      if (this.opts.pinCpu && previousAffinity.length > 1) {
        const cpu = previousAffinity[previousAffinity.length - 1];
        libc.setAffinity(0, [cpu]);
        libc.setAffinity(pid, [cpu]);
      }
      const proc = new TracedProcess(pid);
      this.processes.set(pid, proc);
      this.addThread(pid, proc);
      libc.kill(pid, 18 /* SIGCONT */);
      this.loop();
    } finally {
      if (this.opts.pinCpu && previousAffinity.length > 1) {
        libc.setAffinity(0, previousAffinity); // give the worker thread its CPUs back
      }
      for (const p of this.processes.values()) p.memory.close();
    }
    if (this.fatal) throw this.fatal;
    for (let i = 0; i < this.specs.length; i++) {
      const spec = this.specs[i];
      if (this.resolutions[i].resolved.length > 0) continue;
      if (this.ifuncWatched.has(i)) {
        this.warnings.push(`Hook "${spec.text}": ${this.ifuncWatched.get(i)} is an IFUNC whose resolver never ran (the program never bound it), so no implementation was hooked.`);
      } else if (spec.module) {
        this.warnings.push(`Hook "${spec.text}": module ${spec.module} was never loaded, so the hook never fired.`);
      }
    }
    if (this.returnTracker) {
      for (const tid of this.returnTracker.threads()) this.settleAll(this.returnTracker.threadGone(tid, this.stopped ? 'killed' : 'exit'));
    }
    let unique = 0;
    for (const s of this.uniquePerHook) unique += s.size;
    return {
      exit: this.rootExit,
      stacks: this.stacks,
      rows: this.rows,
      crash: this.crash,
      hooks: this.resolutions,
      hitCount: this.hitCount,
      dropped: this.dropped,
      uniqueStacks: unique,
      foldedStacks: this.foldedKeys.size,
      foldedHits: this.foldedHits,
      killedLeftovers: this.killedLeftovers,
      stopped: this.stopped,
      warnings: this.warnings,
      ...(this.returnTracker ? { returns: this.returnTracker.returned } : {}),
      batchedHits: this.batchedHits,
    };
  }

  private loop(): void {
    for (;;) {
      if (this.batch) this.writeBatchTables();
      const tid = this.channel.next(this.pending);
      if (this.returnTracker) this.stopNs = process.hrtime.bigint(); // a return's time ends when the thread stopped
      this.pending = null;
      if (this.batch && this.batch.records > 0) this.readBatch();
      if (tid < 0) break; // ECHILD: nothing left to wait for
      if (!this.stopped && this.opts.shouldStop?.()) {
        this.stopped = true;
        this.killAll();
      }
      if (tid === 0) continue; // only saved hits: the native loop resumed every thread
      this.batchThreadsStale = true; // whatever this stop changes, the thread table is rewritten before the next wait
      const status = this.channel.status;
      if ((status & 0xff) !== 0x7f) {
        // exited or killed
        this.onExit(tid, status);
        continue;
      }
      const sig = (status >> 8) & 0xff;
      const event = status >>> 16;
      const thread = this.threads.get(tid);
      if (!thread) {
        // a new thread or child reported before its parent's clone/fork event
        this.early.set(tid, status);
        continue;
      }
      try {
        if (event !== 0) this.onEvent(thread, event, sig);
        else if (sig === SIGTRAP) this.onTrap(thread);
        else this.onSignal(thread, sig);
      } catch (e) {
        if (e instanceof UstackError) {
          this.fatal = e;
          this.stopped = true;
          this.killAll();
        } else {
          throw e;
        }
      }
    }
  }

  private addThread(tid: number, proc: TracedProcess): Thread {
    const t: Thread = { tid, process: proc, stepping: null, displaced: null, skipHitAt: -1, started: false, stackTop: 0 };
    this.threads.set(tid, t);
    proc.threads.add(tid);
    return t;
  }

  private resume(tid: number, sig = 0): void {
    this.libc.ptrace(C.PTRACE_CONT, tid, 0, sig);
  }

  private onExit(tid: number, status: number): void {
    const thread = this.threads.get(tid);
    this.threads.delete(tid);
    this.early.delete(tid);
    if (this.returnTracker) {
      const termsig = status & 0x7f;
      this.settleAll(this.returnTracker.threadGone(tid, termsig === 0 ? 'exit' : termsig === SIGKILL && this.stopped ? 'killed' : 'crash'));
      if (thread && thread.process.pid === tid) this.returnTracker.processGone(tid);
    }
    if (thread) {
      if (thread.displaced) thread.process.scratch.get(thread.displaced.bp.module)?.release(thread.displaced.slot);
      thread.process.threads.delete(tid);
      if (thread.process.pid === tid) {
        thread.process.memory.close();
        this.processes.delete(tid);
      }
    }
    if (tid === this.rootPid) {
      const termsig = status & 0x7f;
      this.rootExit = termsig === 0 ? { code: (status >> 8) & 0xff, signal: null } : { code: null, signal: signalName(termsig) };
      // whatever is left (daemons, grandchildren) dies with the program
      if (this.processes.size > 0) {
        this.killedLeftovers = this.processes.size;
        this.warnings.push(`${this.processes.size} process(es) outlived the program and were killed: ${[...this.processes.keys()].join(', ')}.`);
        this.killAll();
      }
    }
  }

  private killAll(): void {
    for (const tid of this.threads.keys()) this.libc.kill(tid, SIGKILL);
    for (const tid of this.early.keys()) this.libc.kill(tid, SIGKILL);
  }

  private onEvent(thread: Thread, event: number, sig: number): void {
    const libc = this.libc;
    const proc = thread.process;
    switch (event) {
      case C.PTRACE_EVENT_CLONE:
      case C.PTRACE_EVENT_FORK:
      case C.PTRACE_EVENT_VFORK: {
        libc.ptrace(C.PTRACE_GETEVENTMSG, thread.tid, 0, libc.arenaAddress + OFF_EVENTMSG);
        const child = libc.arena.readUInt32LE(OFF_EVENTMSG);
        this.opts.onProcess?.(child);
        if (event === C.PTRACE_EVENT_CLONE) {
          this.addThread(child, proc);
        } else {
          const childProc = new TracedProcess(child);
          for (const [addr, bp] of proc.breakpoints) childProc.breakpoints.set(addr, bp);
          for (const addr of proc.removedBreakpoints) childProc.removedBreakpoints.add(addr);
          childProc.modules = proc.modules;
          childProc.rDebug = proc.rDebug;
          childProc.consistentSeen = proc.consistentSeen;
          for (const s of proc.searched) childProc.searched.add(s);
          this.processes.set(child, childProc);
          this.addThread(child, childProc);
          // the child returns from the calls its parent was in, through its copy of the return breakpoints
          if (this.opts.followChildren) this.returnTracker?.forkThread(thread.tid, child, child, (d) => ({ hit: null, sig: d.sig }));
          if (!this.opts.followChildren) {
            if (event === C.PTRACE_EVENT_FORK) {
              // take our int3s out of the child's copy of memory, then let it go
              this.waitForEarly(child);
              for (const bp of childProc.breakpoints.values()) childProc.memory.writeBytes(bp.address, bp.original.subarray(0, 1));
              this.forget(child);
              libc.ptrace(C.PTRACE_DETACH, child, 0, 0);
            } else {
              childProc.detachAtExec = true;
            }
          }
        }
        const early = this.early.get(child);
        if (early !== undefined) {
          this.early.delete(child);
          const t = this.threads.get(child);
          if (t) {
            t.started = true;
            this.resume(child);
          }
        }
        this.resume(thread.tid);
        return;
      }
      case C.PTRACE_EVENT_EXEC: {
        this.onExec(thread);
        return;
      }
      case C.PTRACE_EVENT_STOP: {
        if (thread.started && STOP_SIGNALS.has(sig)) {
          libc.ptrace(C.PTRACE_LISTEN, thread.tid, 0, 0); // group-stop: stay stopped as without a tracer
        } else {
          thread.started = true;
          this.resume(thread.tid);
        }
        return;
      }
      default:
        this.resume(thread.tid);
    }
  }

  /** A fork child's first stop may not have arrived yet when we want to detach it. */
  private waitForEarly(child: number): void {
    if (this.early.has(child)) {
      this.early.delete(child);
      return;
    }
    this.libc.waitpid(child, C.__WALL | C.__WNOTHREAD);
  }

  private forget(pid: number): void {
    const proc = this.processes.get(pid);
    if (!proc) return;
    for (const tid of proc.threads) this.threads.delete(tid);
    proc.memory.close();
    this.processes.delete(pid);
  }

  private onExec(thread: Thread): void {
    // After exec the thread reporting is the thread-group leader; other threads are gone.
    let proc = thread.process;
    const pid = proc.pid;
    if (this.returnTracker) {
      for (const tid of new Set([...proc.threads, thread.tid])) this.settleAll(this.returnTracker.threadGone(tid, 'exit'));
      this.returnTracker.processGone(pid);
    }
    for (const tid of [...proc.threads]) if (tid !== pid) this.threads.delete(tid);
    if (proc.detachAtExec) {
      this.forget(pid);
      this.libc.ptrace(C.PTRACE_DETACH, thread.tid, 0, 0);
      return;
    }
    proc.memory.close();
    const fresh = new TracedProcess(pid);
    this.processes.set(pid, fresh);
    this.threads.delete(thread.tid);
    this.addThread(pid, fresh);
    proc = fresh;
    this.refreshModules(proc);
    const exe = findExecutable(proc);
    const interp = exe?.elf?.interpreter;
    const ld = interp ? proc.modules.modules().find((m) => m.path === interp || (m.elf && m.elf.path === interp) || pathBase(m.path) === pathBase(interp)) : undefined;
    if (ld && ld.elf) {
      const dbg = ld.elf.symbols().byName('_dl_debug_state')[0];
      const rd = ld.elf.symbols().byName('_r_debug')[0] ?? ld.elf.symbols().byName('_r_debug_extended')[0];
      if (dbg) {
        proc.rDebug = rd ? rd.address + ld.bias : 0;
        this.plant(proc, dbg.address + ld.bias, ld, [], true);
      }
    }
    // the kernel mapped the executable and the dynamic linker: their hooks go in now, so ld.so's
    // functions are hit while it loads the libraries (gdb's `break _dl_map_object` is); libraries
    // follow at the linker's first event
    this.plantHooks(proc, [exe, ld].filter((m): m is LoadedModule => m !== undefined && m !== null), false);
    if (!ld || !proc.rDebug) {
      // static executable (or no r_debug): everything that will ever be mapped at start is here
      this.plantHooks(proc, proc.modules.modules(), true);
      proc.consistentSeen = true;
    }
    this.resume(thread.tid);
  }

  private refreshModules(proc: TracedProcess): void {
    let maps;
    try {
      maps = readProcessMaps(proc.pid);
    } catch {
      return;
    }
    proc.modules = new ModuleMap(maps);
    proc.unwindCache = new Map();
    // breakpoints of unmapped modules (dlclose) are forgotten with their code
    const live = new Set(proc.modules.modules().map((m) => m.path));
    for (const [addr, bp] of proc.breakpoints) if (!live.has(bp.module)) proc.breakpoints.delete(addr);
    proc.breakpointsVersion++;
    for (const s of [...proc.searched]) if (!live.has(s)) proc.searched.delete(s);
  }

  /**
   * Resolves hook specs in modules not searched yet and plants breakpoints.
   * `complete`: the initial library set is loaded, so an unqualified spec that matched nothing is an error.
   */
  private plantHooks(proc: TracedProcess, candidates: LoadedModule[], complete: boolean): void {
    const exe = findExecutable(proc);
    const fresh = candidates.filter((m) => m.elf && !proc.searched.has(m.path)).sort((a, b) => (a === exe ? -1 : b === exe ? 1 : 0));
    const all = proc.modules.modules().filter((m) => m.elf);
    // debug info of modules nobody prepared before the run (dlopen'ed ones): downloaded or decoded now
    if (this.specs.length && fresh.length) {
      const prepared = prepareDebugInfoSync(fresh.map((m) => m.elf!));
      if (prepared) this.warnings.push(...debuginfodWarnings(prepared.failed, prepared.errors));
    }
    for (let i = 0; i < this.specs.length; i++) {
      const spec = this.specs[i];
      let modules: LoadedModule[];
      if (spec.module) {
        modules = fresh.filter((m) => moduleMatches(spec.module!, m.path));
        if (modules.length === 0) continue;
      } else {
        modules = fresh;
        if (modules.length === 0) continue;
      }
      // Like gdb's `break F`: entries, split-off parts and inlined copies of F (`ustack symbols` asks the same).
      const plan = planHook(spec, modules.map((m) => hookModule(m.path, m.elf!, m === exe)), demangle);
      if (plan.locations.length === 0) {
        if (spec.module) {
          // the module is here but the function is not: perhaps only its symbols are
          const bare = modules.find((m) => !debugInfoStatus(m.elf!).fullSymbols);
          if (bare) throw missingSymbolsError(spec.text, bare.elf!);
          throw unknownHookError(spec, modules.map((m) => hookModule(m.path, m.elf!, m === exe)), demangle);
        }
        continue;
      }
      for (const t of plan.locations) {
        const mod = modules.find((m) => m.path === t.module)!;
        if (t.isIfunc) {
          // an IFUNC symbol is a resolver the dynamic linker calls to pick the implementation for this CPU:
          // like gdb, watch it return and hook what it returned (onIfuncStop)
          this.watchIfuncResolver(proc, t.address + mod.bias, mod, i, t.symbol);
          continue;
        }
        this.plant(proc, t.address + mod.bias, mod, [i], false, t.kind === 'inlined');
        this.noteResolved(i, resolvedHookOf(t));
      }
    }
    if (this.returnTracker) this.watchUnwinds(proc, fresh);
    for (const m of fresh) proc.searched.add(m.path);
    if (complete && proc.pid === this.rootPid && !proc.consistentSeen) {
      for (let i = 0; i < this.specs.length; i++) {
        const spec = this.specs[i];
        if (spec.module || this.resolutions[i].resolved.length > 0 || this.ifuncWatched.has(i)) continue;
        // `sh ./wrap.sh`: the function is in the program the script starts, not in the shell
        const started = exe && this.spawned && sameFile(exe.path, this.spawned.file) ? this.spawned : null;
        const runner = exe ? runnerOfOtherPrograms(exe.path, started ? started.argv.slice(1) : [], started?.cwd ?? '/') : null;
        if (runner) {
          const hint = `If it is in a program that ${runner.startsWith('a shell') ? 'the shell' : 'the interpreter'} starts, name that program's module: "${spec.pattern}@PROGRAM", PROGRAM being the program's file name; the hook is planted when the program is exec'ed.`;
          throw new UnknownHookError(spec.text, `${exe!.path} (${runner}) or the libraries it loads`, [], hint);
        }
        // the seed's case (`--hook xmalloc -- ls`): the program's own functions are unnamed without its debug info
        if (exe?.elf && !debugInfoStatus(exe.elf).fullSymbols) throw missingSymbolsError(spec.text, exe.elf);
        const near = unknownHookError(spec, all.map((m) => hookModule(m.path, m.elf!, m === exe)), demangle);
        if (isGlob(spec.pattern)) throw near; // it says where a glob looks: the program's own code
        throw new UnknownHookError(spec.text, `${all[0]?.path ?? 'the program'} or the libraries it loads`, near.suggestions);
      }
    }
  }

  /** Plants a breakpoint on an IFUNC resolver whose result hook `hook` gets (see onIfuncStop). */
  private watchIfuncResolver(proc: TracedProcess, address: number, mod: LoadedModule, hook: number, symbol: string): void {
    this.plant(proc, address, mod, [], false);
    const bp = proc.breakpoints.get(address);
    if (!bp) return;
    bp.ifunc ??= { resolverOf: [], symbol, returnPoint: false };
    if (!bp.ifunc.resolverOf.includes(hook)) bp.ifunc.resolverOf.push(hook);
    if (!this.ifuncWatched.has(hook)) this.ifuncWatched.set(hook, symbol);
  }

  /**
   * At an IFUNC resolver's entry: note where it returns and put a breakpoint there. At that return
   * point: %rax is the implementation the resolver chose for this CPU; hook it (every distinct
   * result, should the resolver answer differently in different contexts) and name it in the
   * capture's hooks. gdb's `break memcpy` does the same with its ifunc-resolver breakpoints.
   */
  private onIfuncStop(thread: Thread, bp: Breakpoint, regsBuf: Buffer): void {
    const proc = thread.process;
    const info = bp.ifunc!;
    const call = thread.ifuncCall;
    if (info.returnPoint && call && call.returnAddress === bp.address) {
      thread.ifuncCall = null;
      const impl = readRegister(regsBuf, C.REGS.rax);
      let mod = proc.modules.find(impl);
      if (!mod) {
        this.refreshModules(proc);
        mod = proc.modules.find(impl);
      }
      if (!mod || !mod.elf) return;
      const link = impl - mod.bias;
      const name = symbolSource(mod.elf).symbols().lookup(link)?.name ?? mod.elf.symbols().lookup(link)?.name ?? `0x${link.toString(16)}`;
      this.plant(proc, impl, mod, call.hooks, false);
      for (const h of call.hooks) this.noteResolved(h, { module: mod.path, symbol: name.replace(/@.*$/, ''), address: '0x' + link.toString(16), kind: 'ifunc', ifunc: call.resolver });
    }
    if (info.resolverOf.length > 0) {
      const returnAddress = proc.memory.readU64(readRegister(regsBuf, C.REGS.rsp));
      const retMod = Number.isNaN(returnAddress) ? null : proc.modules.find(returnAddress);
      if (!retMod) return;
      thread.ifuncCall = { returnAddress, hooks: info.resolverOf, resolver: info.symbol };
      this.plant(proc, returnAddress, retMod, [], false);
      const ret = proc.breakpoints.get(returnAddress);
      if (ret) (ret.ifunc ??= { resolverOf: [], symbol: '', returnPoint: true }).returnPoint = true;
    }
  }

  private noteResolved(hook: number, r: ResolvedHook): void {
    const resolved = this.resolutions[hook].resolved;
    if (!resolved.some((x) => x.module === r.module && x.address === r.address)) resolved.push(r);
  }

  private plant(proc: TracedProcess, address: number, mod: LoadedModule, hooks: number[], linkerEvent: boolean, inlineEntry = false): Breakpoint | null {
    const existing = proc.breakpoints.get(address);
    if (existing) {
      for (const h of hooks) if (!existing.hooks.includes(h)) existing.hooks.push(h);
      return existing;
    }
    const original = proc.memory.readBytes(address, 16);
    if (!original) {
      this.warnings.push(`Cannot read code at 0x${address.toString(16)} in ${mod.path}; hook not planted.`);
      return null;
    }
    if (original[0] === 0xcc) return null; // someone else's breakpoint; never stack ours on it
    const plan = planStepOver(original) ?? planBranchStepOver(original);
    const bp: Breakpoint = { address, original, plan, displaced: plan ? null : planDisplacedStep(original), hooks: [...hooks], linkerEvent, inlineEntry, module: mod.path };
    if (!proc.memory.writeBytes(address, BREAKPOINT)) return null;
    proc.breakpoints.set(address, bp);
    proc.breakpointsVersion++;
    return bp;
  }

  private readRegs(tid: number): boolean {
    return this.libc.ptrace(C.PTRACE_GETREGS, tid, 0, this.libc.arenaAddress + OFF_REGS) === 0;
  }

  private onTrap(thread: Thread): void {
    const proc = thread.process;
    proc.memory.invalidate(); // the stack window belongs to the previous stop
    if (thread.displaced) {
      this.finishDisplacedStep(thread);
      return;
    }
    if (thread.stepping) {
      const bp = thread.stepping;
      thread.stepping = null;
      // the instruction ran, unless the thread trapped on an int3 put back meanwhile (another
      // thread's step ended, or a return breakpoint was planted again): then it steps again,
      // without counting the same call twice
      if (!(this.readRegs(thread.tid) && readRegister(this.arenaRegs, C.REGS.rip) === bp.address + 1 && this.trapIsInt3(thread.tid))) {
        // in-place step finished: put the int3 back
        if (proc.breakpoints.get(bp.address) === bp) proc.memory.writeBytes(bp.address, BREAKPOINT);
        this.resume(thread.tid);
        return;
      }
      if (proc.breakpoints.has(bp.address)) thread.skipHitAt = bp.address;
    }
    let regsBuf: Buffer;
    if (this.channel.regsValid) {
      regsBuf = this.channel.regsOut;
    } else {
      if (!this.readRegs(thread.tid)) return; // gone
      regsBuf = this.arenaRegs;
    }
    const rip = readRegister(regsBuf, C.REGS.rip);
    const bp = proc.breakpoints.get(rip - 1);
    if (!bp) {
      this.onStrayTrap(thread, regsBuf, rip);
      return;
    }
    if (bp.linkerEvent) {
      this.onLinkerEvent(proc);
    } else if (thread.skipHitAt === bp.address) {
      thread.skipHitAt = -1;
    } else if (!proc.detachAtExec) {
      if (bp.ifunc) this.onIfuncStop(thread, bp, regsBuf);
      if (this.returnTracker) this.onReturnStop(thread, bp, regsBuf);
      if (bp.hooks.length > 0) {
        const hit = this.recordHit(thread, bp, regsBuf, this.channel.regsValid ? WINDOW_CHANNEL : WINDOW_READ);
        if (this.returnTracker) this.trackCall(thread, bp, regsBuf, hit);
      }
    }
    // emulate on the registers the resume will write back, rewound to the breakpoint
    const regsIn = this.channel.regsIn;
    if (regsIn !== regsBuf) regsBuf.copy(regsIn);
    setRip(regsIn, bp.address);
    this.stepOver(thread, bp, regsIn);
  }

  /**
   * A SIGTRAP at no breakpoint of ours. An int3 at an address where we took one out is ours: the
   * thread executed it before we removed it (return breakpoints come and go while other threads
   * run), so it resumes at that address, where the original instruction (or a breakpoint planted
   * again, which then stops it as usual) runs. Anything else is the program's own (int3,
   * raise(SIGTRAP)) and is delivered.
   */
  private onStrayTrap(thread: Thread, regsBuf: Buffer, rip: number): void {
    const proc = thread.process;
    if (proc.removedBreakpoints.has(rip - 1) && this.trapIsInt3(thread.tid) && proc.memory.readBytes(rip - 1, 1)?.[0] !== 0xcc) {
      const regsIn = this.channel.regsIn;
      if (regsIn !== regsBuf) regsBuf.copy(regsIn);
      setRip(regsIn, rip - 1);
      const resume = this.resumeSlot;
      resume.tid = thread.tid;
      resume.sig = 0;
      resume.hasWrite = false;
      resume.setRegs = true;
      this.pending = resume;
      return;
    }
    this.onSignal(thread, SIGTRAP);
  }

  /** Whether the thread's SIGTRAP stop came from an int3 (not a single step, raise() or kill()). */
  private trapIsInt3(tid: number): boolean {
    if (this.libc.ptrace(C.PTRACE_GETSIGINFO, tid, 0, this.libc.arenaAddress + OFF_SIGINFO) !== 0) return false;
    const a = this.libc.arena;
    return a.readInt32LE(OFF_SIGINFO) === SIGTRAP && a.readInt32LE(OFF_SIGINFO + 8) === C.SI_KERNEL;
  }

  private stepOver(thread: Thread, bp: Breakpoint, regsBuf: Buffer): void {
    const proc = thread.process;
    const libc = this.libc;
    const resume = this.resumeSlot;
    resume.tid = thread.tid;
    resume.sig = 0;
    resume.hasWrite = false;
    resume.setRegs = false;
    if (bp.plan) {
      const ctx = this.emulation;
      ctx.regs = regsBuf;
      ctx.memory = proc.memory;
      const outcome = bp.plan.emulate(ctx, bp.address);
      if (outcome !== 'fallback') {
        resume.setRegs = outcome === 'setregs';
        this.pending = resume;
        return;
      }
      setRip(regsBuf, bp.address);
    }
    if (bp.displaced && this.startDisplacedStep(thread, bp, regsBuf)) return;
    // In-place step (last resort: another thread passing meanwhile misses the breakpoint): restore the original byte, single-step this thread, re-plant on its trap.
    proc.memory.writeBytes(bp.address, bp.original.subarray(0, 1));
    this.setRegsNow(thread.tid, regsBuf);
    thread.stepping = bp;
    libc.ptrace(C.PTRACE_SINGLESTEP, thread.tid, 0, 0);
  }

  /** Runs the hooked function's first instruction in a scratch slot of its module, single-stepped. */
  private startDisplacedStep(thread: Thread, bp: Breakpoint, regsBuf: Buffer): boolean {
    const proc = thread.process;
    let area = proc.scratch.get(bp.module);
    if (area === undefined) {
      const mod = proc.modules.modules().find((m) => m.path === bp.module);
      area = mod ? ScratchArea.forModule(mod) : null;
      proc.scratch.set(bp.module, area);
    }
    if (!area) return false;
    const slot = area.acquire(thread.tid, bp);
    if (slot < 0) return false;
    const slotAddress = area.base + slot * SLOT_SIZE;
    if (area.content[slot] !== bp) {
      const code = Buffer.from(bp.original);
      const at = bp.displaced!.ripDisplacementAt;
      if (at >= 0) {
        const disp = code.readInt32LE(at) + (bp.address - slotAddress);
        if (disp > 0x7fffffff || disp < -0x80000000) {
          area.release(slot);
          return false;
        }
        code.writeInt32LE(disp, at);
      }
      if (!proc.memory.writeBytes(slotAddress, code)) {
        area.release(slot);
        return false;
      }
      area.content[slot] = bp;
    }
    setRip(regsBuf, slotAddress);
    this.setRegsNow(thread.tid, regsBuf);
    thread.displaced = { bp, slot, slotAddress };
    this.libc.ptrace(C.PTRACE_SINGLESTEP, thread.tid, 0, 0);
    return true;
  }

  private finishDisplacedStep(thread: Thread): void {
    const { bp, slot, slotAddress } = thread.displaced!;
    thread.displaced = null;
    thread.process.scratch.get(bp.module)?.release(slot);
    if (!this.readRegs(thread.tid)) return;
    const regs = this.arenaRegs;
    const rip = readRegister(this.arenaRegs, C.REGS.rip);
    if (rip >= slotAddress && rip < slotAddress + 16) {
      // fell through: continue after the original instruction
      const next = bp.address + (rip - slotAddress);
      setRip(regs, next);
      this.libc.ptrace(C.PTRACE_SETREGS, thread.tid, 0, this.libc.arenaAddress + OFF_REGS);
    } else if (bp.displaced!.indirectCall) {
      // the call pushed a return address inside the slot: point it back at the original code
      const rsp = readRegister(regs, C.REGS.rsp);
      const pushed = thread.process.memory.readU64(rsp);
      thread.process.memory.writeU64(rsp, BigInt(bp.address + (pushed - slotAddress)));
    }
    this.resume(thread.tid);
  }

  private setRegsNow(tid: number, regs: Buffer): void {
    if (regs !== this.arenaRegs) regs.copy(this.arenaRegs);
    this.libc.ptrace(C.PTRACE_SETREGS, tid, 0, this.libc.arenaAddress + OFF_REGS);
  }

  private onLinkerEvent(proc: TracedProcess): void {
    const state = proc.rDebug ? proc.memory.readInt32(proc.rDebug + R_STATE_OFFSET) : RT_CONSISTENT;
    if (state !== RT_CONSISTENT) return;
    this.refreshModules(proc);
    this.plantHooks(proc, proc.modules.modules(), true);
    proc.consistentSeen = true;
  }

  /**
   * Tells the native loop which stops it may handle alone: the hook breakpoints whose first
   * instruction it can emulate, in threads whose stack top is known and that are not stepping.
   * One traced process only (breakpoints are per address space); none with a vfork child to detach.
   */
  private writeBatchTables(): void {
    const batch = this.batch!;
    const proc = this.processes.size === 1 ? this.processes.values().next().value! : null;
    const usable = proc !== null && !proc.detachAtExec && !this.stopped;
    if (!usable) {
      if (this.channel.batching) {
        this.channel.batching = false;
        this.batchTablesFor = null;
      }
      return;
    }
    if (this.batchTablesFor !== proc || this.batchTablesVersion !== proc.breakpointsVersion) {
      const list: { address: number; step: NativeStepOver }[] = [];
      for (const bp of proc.breakpoints.values()) {
        if (bp.hooks.length > 0 && !bp.linkerEvent && !bp.ifunc && !bp.unwindKind && bp.plan?.native) list.push({ address: bp.address, step: bp.plan.native });
      }
      batch.setBreakpoints(list);
      this.batchTablesFor = proc;
      this.batchTablesVersion = proc.breakpointsVersion;
      this.batchThreadsStale = true;
    }
    if (this.batchThreadsStale) {
      const list: { tid: number; stackTop: number }[] = [];
      for (const tid of proc.threads) {
        const t = this.threads.get(tid);
        if (t && t.stackTop > 0 && !t.stepping && !t.displaced && t.skipHitAt < 0 && !t.ifuncCall) list.push({ tid, stackTop: t.stackTop });
      }
      batch.setThreads(list);
      this.batchThreadsStale = false;
      this.channel.batching = list.length > 0;
    }
  }

  /** Records the hits the native loop saved (in stop order, before the stop it returned, if any). */
  private readBatch(): void {
    const batch = this.batch!;
    const buf = batch.buffer;
    const regs = this.batchRegs;
    let at = batch.firstRecord;
    for (let i = 0, n = batch.take(); i < n; i++, at += batch.recordSize(at)) {
      const thread = this.threads.get(batch.recordTid(at));
      const bp = thread?.process.breakpoints.get(batch.recordAddress(at));
      if (!thread || !bp) continue; // cannot happen: the tables list known threads and breakpoints only
      buf.copy(regs, 0, batch.regsAt(at), batch.regsAt(at) + 216);
      thread.process.memory.useWindowAt(buf, batch.windowAt(at), readRegister(regs, C.REGS.rsp), batch.recordWindowLength(at));
      this.batchedHits++;
      try {
        this.recordHit(thread, bp, regs, WINDOW_PRESET, batch.recordNs(at) - this.startedMonoNs);
      } catch (e) {
        if (!(e instanceof UstackError)) throw e;
        this.fatal = e;
        this.stopped = true;
        this.killAll();
        return;
      }
    }
  }

  private unwindModule(pc: number): UnwindModule | null {
    const proc = this.currentProcess!;
    const mod = proc.modules.find(pc);
    if (!mod) return null;
    let u = proc.unwindCache.get(mod);
    if (!u) {
      u = { bias: mod.bias, cfi: mod.elf ? cfiFor(mod.elf) : null };
      proc.unwindCache.set(mod, u);
    }
    return u;
  }

  /**
   * Unwinds the stopped thread from its registers (user_regs_struct bytes). `window`: where the
   * stack top comes from (WINDOW_CHANNEL: the native loop read it at this stop; WINDOW_PRESET:
   * already set, a saved hit's; else read now). Learns or forgets the thread's stackTop.
   */
  private unwindCurrent(thread: Thread, exactPc: number, regsBuf: Buffer, window: number, atFunctionEntry = false): number {
    const proc = thread.process;
    registersFromUserRegs(regsBuf, 0, this.regs);
    this.regs[REG_RIP] = exactPc;
    if (window === WINDOW_CHANNEL && this.channel.windowLength > 0) proc.memory.useWindow(this.channel.window, this.regs[7], this.channel.windowLength);
    else if (window !== WINDOW_PRESET) proc.memory.loadWindow(this.regs[7]);
    this.currentProcess = proc;
    let n = this.unwinder.unwind(this.regs, proc.memory, this.pcs, this.flags, this.opts.maxFrames + 1, this.savedRegs, atFunctionEntry);
    // a pc outside every known module: the library list may have changed under us (dlopen without our event)
    if (n > 0 && !proc.modules.find(this.pcs[n - 1])) {
      this.refreshModules(proc);
      registersFromUserRegs(regsBuf, 0, this.regs);
      this.regs[REG_RIP] = exactPc;
      n = this.unwinder.unwind(this.regs, proc.memory, this.pcs, this.flags, this.opts.maxFrames + 1, this.savedRegs, atFunctionEntry);
    }
    this.truncated = n > this.opts.maxFrames;
    if (this.truncated) n = this.opts.maxFrames;
    if (this.batch) {
      const mem = proc.memory;
      if (window === WINDOW_PRESET) {
        // a saved hit read past the bytes saved with it (read live instead): this thread's hits stay in TypeScript
        if (mem.readsOutsideWindow > 0 && thread.stackTop !== 0) {
          thread.stackTop = 0;
          this.batchThreadsStale = true;
        }
      } else if (this.unwinder.reachedEnd && mem.readsOutsideWindow === 0 && mem.windowHighWater > thread.stackTop) {
        thread.stackTop = mem.windowHighWater;
        this.batchThreadsStale = true;
      }
    }
    return n;
  }

  /** `ns`: when the thread stopped, if known (a saved hit), since the start. */
  private recordHit(thread: Thread, bp: Breakpoint, regsBuf: Buffer, window: number, ns = Math.round((performance.now() - this.startedAt) * 1e6)): CallRecord | null {
    const proc = thread.process;
    this.hitCount += bp.hooks.length;
    const n = this.unwindCurrent(thread, bp.address, regsBuf, window, !bp.inlineEntry);
    const hash = stackHash(this.pcs, n);
    const hooks = bp.hooks;
    const call: CallRecord | null = this.opts.args || this.opts.returns ? {} : null;
    if (call && this.opts.args && this.calls) {
      const sig = this.calls.signature(proc.modules, bp.address, bp.inlineEntry);
      if (sig) call.args = this.calls.arguments(sig, regsBuf, thread.tid, proc.memory);
      else if (!this.noSignature.has(bp.address)) {
        this.noSignature.add(bp.address);
        this.warnings.push(`No DWARF description of the function at 0x${bp.address.toString(16)} in ${bp.module}: its parameters are not recorded (build it with -g, or install its debug-info package).`);
      }
    }
    const extra = call ? { call } : undefined;
    let kept = false;
    for (let k = 0; k < hooks.length; k++) {
      const h = hooks[k];
      const seq = this.seq++;
      const stack = this.distinctStack(h, hash, n, proc, bp.inlineEntry, seq);
      if (++this.hitsPerHook[h] <= this.opts.maxHits) {
        this.recordRow(seq, h, proc.pid, thread.tid, stack, ns, extra);
        kept = true;
      } else this.dropped++;
    }
    return kept ? call : null;
  }

  /** Whether the last unwind's saved registers equal a stack's frameRegs (always, for a stack without any). */
  private sameSavedRegisters(e: DistinctStack): boolean {
    const slots = e.regSlots;
    if (slots === null) return true;
    const values = e.frameRegs!;
    for (let k = 0; k < slots.length; k += 3) if (!Object.is(this.savedRegs[slots[k + 2]], values[k + 2])) return false;
    return true;
  }

  /**
   * The calling-frame registers the tail-call frames of the last unwind's stack depend on (see
   * DistinctStack.frameRegs) as [frame, register, saved-register index] triples; null when none
   * does. Asked once per distinct set of pcs; DWARF is read once per return address.
   */
  private registerSlots(proc: TracedProcess, n: number): number[] | null {
    let out: number[] | null = null;
    const pcs = this.pcs;
    for (let i = 1; i < n; i++) {
      if (this.flags[i] & (FRAME_EXACT_PC | FRAME_SIGNAL_TRAMPOLINE)) continue; // not a return address (the symbolizer looks for no tail calls there)
      let needs = proc.registerNeeds.get(pcs[i]);
      if (needs === undefined) {
        needs = NO_NEEDS;
        const mod = proc.modules.find(pcs[i]);
        if (mod?.elf) {
          try {
            needs = moduleDwarf(mod.elf).info?.registerNeeds(pcs[i] - mod.bias) ?? NO_NEEDS;
          } catch {
            /* malformed DWARF: the symbolizer reports it */
          }
        }
        proc.registerNeeds.set(pcs[i], needs);
      }
      for (const reg of needs) {
        const k = SAVED_REGISTERS.indexOf(reg);
        if (k < 0) continue; // not callee-saved: its value in that frame is not known
        (out ??= []).push(i, reg, i * SAVED_REGISTERS.length + k);
      }
    }
    return out;
  }

  /** Appends one kept hit; `extra` values go into optional per-hit columns of the same name. */
  private recordRow(seq: number, hook: number, pid: number, tid: number, stack: number, ns: number, extra?: Record<string, unknown>): void {
    const row = this.rows.push(seq, hook, pid, tid, stack, ns);
    if (extra) for (const name of Object.keys(extra)) this.rows.setExtra(row, name, extra[name]);
  }

  /** The index of this hook's distinct stack (counted once more), stored on first sight or folded past the limit. */
  private distinctStack(hook: number, hash: number, n: number, proc: TracedProcess, atInlineEntry: boolean, seq: number): number {
    // the stack is this.pcs[0..n): nothing is allocated for a stack seen before
    const pcs = this.pcs;
    const modules = proc.modules;
    const bucket = this.stackBuckets.get(hash);
    // the register slots of a stack with these pcs (which registers matter is a property of the pcs)
    let slots: number[] | null | undefined;
    if (bucket !== undefined) {
      if (!Array.isArray(bucket)) {
        if (bucket.hook === hook && bucket.modules === modules && !bucket.folded && bucket.truncated === this.truncated && samePcs(bucket.pcs, pcs, n)) {
          if (this.sameSavedRegisters(bucket)) {
            bucket.count++;
            return bucket.index;
          }
          slots = bucket.regSlots;
        }
      } else {
        for (const e of bucket) {
          if (e.hook === hook && e.modules === modules && !e.folded && e.truncated === this.truncated && samePcs(e.pcs, pcs, n)) {
            if (this.sameSavedRegisters(e)) {
              e.count++;
              return e.index;
            }
            slots = e.regSlots;
          }
        }
      }
    }
    if (slots === undefined) slots = this.registerSlots(proc, n);
    let frameRegs: number[] | null = null;
    if (slots) {
      frameRegs = [];
      for (let k = 0; k < slots.length; k += 3) frameRegs.push(slots[k], slots[k + 1], this.savedRegs[slots[k + 2]]);
    }
    const unique = this.uniquePerHook[hook];
    if (unique.size < (this.opts.maxUniqueStacks ?? 100000)) unique.add(hash);
    let entry: DistinctStack;
    if (this.stacks.length >= (this.opts.maxStacks ?? 10000)) {
      // past the limit: one catch-all per hook and frame 0, so memory stays bounded
      if (this.foldedKeys.size < 1000000) this.foldedKeys.add(hash * 31 + hook);
      this.foldedHits++;
      const top = pcs.slice(0, Math.min(1, n));
      const key = -1 - (stackHash(top, top.length) * 31 + hook);
      const folded = this.stackBuckets.get(key) as DistinctStack | undefined;
      if (folded) {
        folded.count++;
        return folded.index;
      }
      entry = { hook, pcs: top, frameFlags: this.flags.slice(0, top.length), modules, atInlineEntry, count: 1, first: seq, folded: true, truncated: false, frameRegs: null, regSlots: null, hash: key, index: this.stacks.length };
      this.stackBuckets.set(key, entry);
    } else {
      entry = { hook, pcs: pcs.slice(0, n), frameFlags: this.flags.slice(0, n), modules, atInlineEntry, count: 1, first: seq, folded: false, truncated: this.truncated, frameRegs, regSlots: slots, hash, index: this.stacks.length };
      if (bucket === undefined) this.stackBuckets.set(hash, entry);
      else if (Array.isArray(bucket)) bucket.push(entry);
      else this.stackBuckets.set(hash, [bucket, entry]);
    }
    this.stacks.push(entry);
    return entry.index;

  }

  // ---- return breakpoints (issue 13; bookkeeping in return-breakpoints.ts) ----

  /**
   * A stop at a return breakpoint or an unwind watch. When the last call waiting here returned the
   * breakpoint is taken out, and the thread still steps over the instruction like at any other
   * breakpoint: resuming it at the original instruction would race with another thread planting
   * the int3 again before this one ran.
   */
  private onReturnStop(thread: Thread, bp: Breakpoint, regsBuf: Buffer): void {
    const tracker = this.returnTracker!;
    const proc = thread.process;
    if (bp.unwindKind) this.onUnwindWatch(thread, bp.unwindKind, regsBuf);
    if (!tracker.isReturnSite(proc.pid, bp.address)) return;
    const now = this.stopNs;
    const r = tracker.stopAt(thread.tid, bp.address, readRegister(regsBuf, C.REGS.rsp));
    for (const call of r.returned) {
      const { hit, sig } = call.data;
      if (!hit) continue;
      const value = sig && this.calls ? this.calls.returnValue(sig, regsBuf, thread.tid, proc.memory) : '<unavailable>';
      hit.ret = { value, durationNs: Number(now - call.startedNs) };
    }
    this.settleAll(r.settled);
    for (const a of r.freed) this.removeReturnBreakpoint(proc, a);
  }

  /** At longjmp, settle the calls above its target now (the target may be a return address); at a catch, those the exception unwound. */
  private onUnwindWatch(thread: Thread, kind: UnwindWatch, regsBuf: Buffer): void {
    const tracker = this.returnTracker!;
    const proc = thread.process;
    const rsp = readRegister(regsBuf, C.REGS.rsp);
    let cut: { settled: Settled<CallData>[]; freed: number[] } | null = null;
    if (kind === 'throw') tracker.noteUnwind(thread.tid, 'exception');
    else if (kind === 'catch') cut = tracker.unwindTo(thread.tid, rsp + 8, 'exception');
    else {
      tracker.noteUnwind(thread.tid, 'longjmp');
      const env = readRegister(regsBuf, C.REGS.rdi);
      const guard = proc.memory.readBytes(readRegister(regsBuf, C.REGS.fs_base) + POINTER_GUARD, 8);
      const mangled = proc.memory.readBytes(env + JB_RSP * 8, 8);
      if (guard && mangled) {
        const m = mangled.readBigUInt64LE(0);
        const target = Number((((m >> 17n) | (m << 47n)) & 0xffffffffffffffffn) ^ guard.readBigUInt64LE(0));
        // longjmp only goes up the stack, and not far: anything else is not a glibc jmp_buf we understand
        if (target > rsp && target - rsp < 1 << 30) cut = tracker.unwindTo(thread.tid, target, 'longjmp');
      }
    }
    if (cut) {
      this.settleAll(cut.settled);
      for (const a of cut.freed) this.removeReturnBreakpoint(proc, a);
    }
  }

  /** At a hooked function's first instruction: wait for its return at [rsp]. */
  private trackCall(thread: Thread, bp: Breakpoint, regsBuf: Buffer, hit: CallRecord | null): void {
    const proc = thread.process;
    if (bp.inlineEntry) {
      // an inlined copy has no return to stop at
      if (hit) {
        hit.ret = null;
        hit.noReturn = 'inlined';
      }
      return;
    }
    const rsp = readRegister(regsBuf, C.REGS.rsp);
    const ret = proc.memory.readU64(rsp);
    const mod = ret > 0 ? proc.modules.find(ret) : null;
    if (!mod) {
      if (hit) {
        hit.ret = null;
        hit.noReturn = 'not-traced';
      }
      return;
    }
    const sig = hit && this.calls ? this.calls.signature(proc.modules, bp.address, false) : null;
    const r = this.returnTracker!.enter(thread.tid, proc.pid, rsp, ret, { hit, sig }, process.hrtime.bigint());
    this.settleAll(r.settled);
    for (const a of r.freed) this.removeReturnBreakpoint(proc, a);
    if (r.plant) this.plant(proc, ret, mod, [], false);
    r.call.startedNs = process.hrtime.bigint(); // the call's time starts when the thread is resumed, after our work
  }

  private settleAll(settled: Settled<CallData>[]): void {
    for (const s of settled) {
      const hit = s.call.data.hit;
      if (hit && hit.ret === undefined) {
        hit.ret = null;
        hit.noReturn = s.reason ?? 'unwound';
      }
    }
  }

  /** Takes a return breakpoint out when no call waits there any more (and nothing else needs it). */
  private removeReturnBreakpoint(proc: TracedProcess, address: number): void {
    if (this.returnTracker!.isReturnSite(proc.pid, address)) return;
    const bp = proc.breakpoints.get(address);
    if (!bp || bp.hooks.length || bp.linkerEvent || bp.unwindKind) return;
    proc.breakpoints.delete(address);
    proc.breakpointsVersion++;
    proc.removedBreakpoints.add(address);
    proc.memory.writeBytes(address, bp.original.subarray(0, 1));
  }

  /** Breakpoints on longjmp and _Unwind_RaiseException, to say why a call never returned. */
  private watchUnwinds(proc: TracedProcess, modules: LoadedModule[]): void {
    for (const m of modules) {
      if (!m.elf) continue;
      for (const [name, kind] of UNWIND_WATCH) {
        for (const sym of m.elf.symbols().byName(name)) {
          if (sym.isIfunc) continue;
          const bp = this.plant(proc, sym.address + m.bias, m, [], false);
          if (bp) bp.unwindKind = kind;
        }
      }
    }
  }

  private onSignal(thread: Thread, sig: number): void {
    const proc = thread.process;
    if (thread.stepping) {
      // a signal arrived before the in-place step: put the int3 back; the call traps again after the handler
      const bp = thread.stepping;
      thread.stepping = null;
      if (proc.breakpoints.get(bp.address) === bp) proc.memory.writeBytes(bp.address, BREAKPOINT);
      if (proc.breakpoints.has(bp.address)) thread.skipHitAt = bp.address;
    }
    if (thread.displaced) {
      // the slot's instruction has not run: go back to the breakpoint, the handler returns there
      const { bp, slot } = thread.displaced;
      thread.displaced = null;
      proc.scratch.get(bp.module)?.release(slot);
      if (this.readRegs(thread.tid)) {
        const regs = this.arenaRegs;
        setRip(regs, bp.address);
        this.libc.ptrace(C.PTRACE_SETREGS, thread.tid, 0, this.libc.arenaAddress + OFF_REGS);
        thread.skipHitAt = bp.address;
      }
    }
    if (CRASH_SIGNALS.has(sig) && !this.crash && !handlesSignal(proc.pid, sig)) this.recordCrash(thread, sig);
    this.resume(thread.tid, sig);
  }

  private recordCrash(thread: Thread, sig: number): void {
    const proc = thread.process;
    if (!this.readRegs(thread.tid)) return;
    const rip = readRegister(this.arenaRegs, C.REGS.rip);
    const n = this.unwindCurrent(thread, rip, this.arenaRegs, WINDOW_READ);
    let faultAddress: number | null = null;
    if (FAULT_ADDRESS_SIGNALS.has(sig) && this.libc.ptrace(C.PTRACE_GETSIGINFO, thread.tid, 0, this.libc.arenaAddress + OFF_SIGINFO) === 0) {
      const a = this.libc.arena;
      faultAddress = a.readUInt32LE(OFF_SIGINFO + 20) * 0x100000000 + a.readUInt32LE(OFF_SIGINFO + 16);
    }
    this.crash = {
      hooks: [],
      pid: proc.pid,
      tid: thread.tid,
      seq: this.seq++,
      pcs: this.pcs.slice(0, n),
      frameFlags: this.flags.slice(0, n),
      truncated: this.truncated,
      modules: proc.modules,
      signal: signalName(sig),
      faultAddress,
    };
  }
}

type RegisterFileLike = Float64Array;

/**
 * A 48-bit hash of a stack's pcs, for counting distinct stacks without building a string per hit
 * (a collision only makes the count one short).
 */
function stackHash(pcs: Float64Array, n: number): number {
  let lo = 0x811c9dc5;
  let hi = 0x1234567;
  for (let i = 0; i < n; i++) {
    const pc = pcs[i];
    const a = pc % 0x1000000;
    const b = Math.floor(pc / 0x1000000);
    lo = Math.imul(lo ^ a, 0x01000193) >>> 0;
    hi = Math.imul(hi ^ b ^ (lo >>> 7), 0x5bd1e995) >>> 0;
  }
  return (hi & 0xffff) * 0x100000000 + lo;
}

const NO_NEEDS: readonly number[] = [];

/** a equals b[0..n). */
function samePcs(a: Float64Array, b: Float64Array, n: number): boolean {
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The module of the process's executable (/proc/PID/exe), not the first mapping, which may be a library. */
function findExecutable(proc: TracedProcess): LoadedModule | undefined {
  let exePath = '';
  try {
    exePath = fs.readlinkSync(`/proc/${proc.pid}/exe`);
  } catch {
    /* gone */
  }
  const mods = proc.modules.modules();
  return mods.find((m) => m.path === exePath) ?? mods.find((m) => m.elf?.kind === 'EXEC') ?? mods[0];
}

function pathBase(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** True when the process has a handler for `sig` (SigCgt in /proc/PID/status). */
function handlesSignal(pid: number, sig: number): boolean {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^SigCgt:\s*([0-9a-f]+)/m.exec(status);
    if (!m) return false;
    return (BigInt('0x' + m[1]) >> BigInt(sig - 1)) & 1n ? true : false;
  } catch {
    return false;
  }
}

/** Turns a failed PTRACE_SEIZE into the reason and the fix. */
export function explainPtraceDenied(errno: number, message: string): string {
  const reasons: string[] = [];
  try {
    const scope = fs.readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim();
    if (scope === '3') reasons.push('Yama ptrace_scope is 3 (ptrace disabled until reboot)');
    else if (scope === '2') reasons.push('Yama ptrace_scope is 2 (only CAP_SYS_PTRACE may trace): run as root or `sudo sysctl kernel.yama.ptrace_scope=1`');
  } catch {
    /* no Yama */
  }
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const seccomp = /^Seccomp:\s*(\d)/m.exec(status);
    if (seccomp && seccomp[1] !== '0') reasons.push('the process runs under a seccomp filter (containers block ptrace by default: run docker with --cap-add=SYS_PTRACE or --security-opt seccomp=unconfined)');
    const cap = /^CapEff:\s*([0-9a-f]+)/m.exec(status);
    if (cap && ((BigInt('0x' + cap[1]) >> 19n) & 1n) === 0n && errno === C.EPERM) reasons.push('CAP_SYS_PTRACE is missing');
  } catch {
    /* not Linux /proc */
  }
  return `PTRACE_SEIZE failed: ${message}.${reasons.length ? ' Likely cause: ' + reasons.join('; ') + '.' : ''}`;
}

function sameFile(a: string, b: string): boolean {
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return a === b;
  }
}

/** A hook that matches nothing in a module without its symbols: say what is missing and how to get it. */
function missingSymbolsError(spec: string, elf: ElfFile): NoDebugInfoError {
  return new NoDebugInfoError(elf.path, missingDebugInfoText(elf, `hook "${spec}" matches none of its exported functions, and its other functions have no names without it`), elf.buildId);
}
