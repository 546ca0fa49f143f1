/**
 * How the tracer resumes the previous stop and waits for the next one. Two implementations with
 * one behaviour: NativeStopChannel batches the system calls of a breakpoint hit into one ffi-rs
 * call (native/stop_loop.c); FfiStopChannel makes them one by one through ffi-rs.
 */
import { ffi } from './ffi';
import * as C from './constants';
import { Libc, OFF_REGS } from './libc';
import { nativeHelperPath } from './native-helper';
import type { NativeStepOver } from './step-over';

/** The resume the tracer decided for the thread that stopped last. */
export interface PendingResume {
  tid: number;
  sig: number;
  /** Write `regsIn` back before resuming. */
  setRegs: boolean;
  /** 8 bytes to store into tracee memory first (emulated push). */
  writeAddress: number;
  writeValue: bigint;
  hasWrite: boolean;
}

export interface StopChannel {
  readonly kind: 'native' | 'ffi';
  /** Registers to modify for SETREGS (user_regs_struct bytes). */
  readonly regsIn: Buffer;
  /** Registers of the last SIGTRAP stop when `regsValid`. */
  readonly regsOut: Buffer;
  /** Stack bytes at regsOut.rsp when windowLength > 0. */
  readonly window: Buffer;
  status: number;
  regsValid: boolean;
  windowLength: number;
  /**
   * Performs `resume` (if any), waits for the next stop; returns its tid, -1 when no tracee is
   * left, or 0 when only batched hits came back (`batch`: read them first in every case).
   */
  next(resume: PendingResume | null): number;
  /** Plain breakpoint hits the native loop saved and stepped over itself (null: not supported). */
  readonly batch: HitBatch | null;
  /** Whether next() lets the native loop save hits (the tracer sets it with the batch's tables). */
  batching: boolean;
}

// layout of struct ustack_batch in native/stop_loop.c
const MAX_BPS = 1024;
const MAX_THREADS = 256;
const BPS_AT = 32;
const THREADS_AT = BPS_AT + 32 * MAX_BPS;
const RING_AT = THREADS_AT + 16 * MAX_THREADS;
const RING_SIZE = 1 << 20;
const RECORD_HEADER = 24;
const RECORD_REGS = 216;
/** Hits per native call at most: the tracer still checks for a stop request between batches. */
const MAX_RECORDS = 256;

/**
 * The tables that tell the native loop which stops it may handle alone (breakpoints and threads),
 * and the ring of hits it saved: per hit the thread, the breakpoint, a CLOCK_MONOTONIC time, the
 * registers and the live stack from rsp up to the thread's measured stack top.
 */
export class HitBatch {
  readonly buffer: Buffer;

  constructor(buffer: Buffer) {
    this.buffer = buffer;
    buffer.fill(0, 0, RING_AT);
    buffer.writeInt32LE(MAX_RECORDS, 8);
    buffer.writeInt32LE(RING_SIZE, 20);
    buffer.writeInt32LE(WINDOW_SIZE, 24);
  }

  static readonly bytes = RING_AT + RING_SIZE;

  /** Breakpoints the loop may step over, sorted here; more than MAX_BPS (1024): none (all go to TypeScript). */
  setBreakpoints(list: { address: number; step: NativeStepOver }[]): void {
    const b = this.buffer;
    if (list.length > MAX_BPS) list = [];
    list.sort((x, y) => x.address - y.address);
    for (let i = 0; i < list.length; i++) {
      const at = BPS_AT + 32 * i;
      const { address, step } = list[i];
      b.writeUInt32LE(address % 0x100000000, at);
      b.writeUInt32LE(Math.floor(address / 0x100000000), at + 4);
      b.writeInt32LE(step.op, at + 8);
      b.writeInt32LE(step.reg, at + 12);
      b.writeInt32LE(step.len, at + 16);
      b.writeInt32LE(step.disp, at + 20);
      b.writeInt32LE(step.wide ? 1 : 0, at + 24);
    }
    b.writeInt32LE(list.length, 0);
  }

  /** Threads whose hits the loop may save, with the end of the stack bytes their unwind reads. */
  setThreads(list: { tid: number; stackTop: number }[]): void {
    const b = this.buffer;
    const n = Math.min(list.length, MAX_THREADS);
    for (let i = 0; i < n; i++) {
      const at = THREADS_AT + 16 * i;
      b.writeInt32LE(list[i].tid, at);
      b.writeUInt32LE(list[i].stackTop % 0x100000000, at + 8);
      b.writeUInt32LE(Math.floor(list[i].stackTop / 0x100000000), at + 12);
    }
    b.writeInt32LE(n, 4);
  }

  get records(): number {
    return this.buffer.readInt32LE(12);
  }

  /**
   * Takes the saved hits for reading: returns how many there are and marks them consumed, so a
   * later wait that saves nothing (the native loop resets the count only when it batches) never
   * hands the same hits out again. The records stay readable until the next native call.
   */
  take(): number {
    const n = this.buffer.readInt32LE(12);
    if (n !== 0) this.buffer.writeInt32LE(0, 12);
    return n;
  }

  /** Byte offset of the first saved hit; next record at `recordAt + recordSize(at)`. */
  get firstRecord(): number {
    return RING_AT;
  }
  recordTid(at: number): number {
    return this.buffer.readInt32LE(at);
  }
  recordWindowLength(at: number): number {
    return this.buffer.readInt32LE(at + 4);
  }
  recordAddress(at: number): number {
    return this.buffer.readUInt32LE(at + 12) * 0x100000000 + this.buffer.readUInt32LE(at + 8);
  }
  /** CLOCK_MONOTONIC ns (what process.hrtime counts) of the stop. */
  recordNs(at: number): number {
    return this.buffer.readUInt32LE(at + 20) * 0x100000000 + this.buffer.readUInt32LE(at + 16);
  }
  regsAt(at: number): number {
    return at + RECORD_HEADER;
  }
  windowAt(at: number): number {
    return at + RECORD_HEADER + RECORD_REGS;
  }
  recordSize(at: number): number {
    return RECORD_HEADER + RECORD_REGS + ((this.recordWindowLength(at) + 7) & ~7);
  }
}

const WINDOW_SIZE = 8192;
const IO_SIZE = 512 + WINDOW_SIZE;

export class FfiStopChannel implements StopChannel {
  readonly kind = 'ffi' as const;
  readonly regsIn: Buffer;
  readonly regsOut: Buffer;
  readonly window = Buffer.alloc(0);
  readonly batch = null;
  batching = false;
  status = 0;
  regsValid = false;
  windowLength = 0;

  constructor(private readonly libc: Libc, private readonly writeMemory: (tid: number, address: number, value: bigint) => void) {
    this.regsIn = this.regsOut = libc.arena.subarray(OFF_REGS, OFF_REGS + 216);
  }

  next(resume: PendingResume | null): number {
    const libc = this.libc;
    if (resume) {
      if (resume.hasWrite) this.writeMemory(resume.tid, resume.writeAddress, resume.writeValue);
      if (resume.setRegs) libc.ptrace(C.PTRACE_SETREGS, resume.tid, 0, libc.arenaAddress + OFF_REGS);
      libc.ptrace(C.PTRACE_CONT, resume.tid, 0, resume.sig);
    }
    const tid = libc.waitpid(-1, C.__WALL | C.__WNOTHREAD);
    this.status = libc.status;
    this.regsValid = false;
    return tid;
  }
}

export class NativeStopChannel implements StopChannel {
  readonly kind = 'native' as const;
  readonly regsIn: Buffer;
  readonly regsOut: Buffer;
  readonly window: Buffer;
  status = 0;
  regsValid = false;
  windowLength = 0;
  private readonly io: Buffer;
  private readonly params: { library: string; funcName: string; retType: number; paramsType: number[]; paramsValue: unknown[] };
  private readonly batchParams: { library: string; funcName: string; retType: number; paramsType: number[]; paramsValue: unknown[] } | null = null;
  readonly batch: HitBatch | null = null;
  batching = false;

  constructor(libc: Libc, library: string, libraryPath: string) {
    ffi.open({ library, path: libraryPath });
    const address = libc.malloc(IO_SIZE);
    const ext = ffi.unwrapPointer(ffi.createPointer({ paramsType: [ffi.DataType.I64], paramsValue: [address] }))[0];
    this.io = ffi.createExternalBuffer(ext, IO_SIZE);
    this.io.fill(0);
    this.io.writeInt32LE(WINDOW_SIZE, 12);
    this.regsIn = this.io.subarray(64, 280);
    this.regsOut = this.io.subarray(280, 496);
    this.window = this.io.subarray(512, 512 + WINDOW_SIZE);
    this.params = { library, funcName: 'ustack_resume_wait', retType: ffi.DataType.I32, paramsType: [ffi.DataType.I64], paramsValue: [address] };
    if (process.env.USTACK_BATCH !== '0') {
      const batchAddress = libc.malloc(HitBatch.bytes);
      const bext = ffi.unwrapPointer(ffi.createPointer({ paramsType: [ffi.DataType.I64], paramsValue: [batchAddress] }))[0];
      this.batch = new HitBatch(ffi.createExternalBuffer(bext, HitBatch.bytes));
      this.batchParams = { library, funcName: 'ustack_resume_wait_batch', retType: ffi.DataType.I32, paramsType: [ffi.DataType.I64, ffi.DataType.I64], paramsValue: [address, batchAddress] };
      try {
        // a helper built from an older stop_loop.c has no batch function (ffi-rs throws)
        if (ffi.load({ library, funcName: 'ustack_batch_version', retType: ffi.DataType.I32, paramsType: [], paramsValue: [] }) !== 1) throw new Error('old helper');
      } catch {
        this.batch = null;
        this.batchParams = null;
      }
    }
  }

  next(resume: PendingResume | null): number {
    const io = this.io;
    if (resume) {
      io.writeInt32LE(resume.tid, 0);
      io.writeInt32LE(resume.sig, 4);
      io.writeInt32LE((resume.setRegs ? 1 : 0) | (resume.hasWrite ? 2 : 0), 8);
      if (resume.hasWrite) {
        io.writeBigUInt64LE(BigInt(resume.writeAddress), 16);
        io.writeBigUInt64LE(resume.writeValue & 0xffffffffffffffffn, 24);
      }
    } else {
      io.writeInt32LE(0, 0);
    }
    const tid = ffi.load((this.batching && this.batchParams ? this.batchParams : this.params) as any) as number;
    this.status = io.readInt32LE(36);
    this.windowLength = io.readInt32LE(40);
    this.regsValid = io.readInt32LE(44) === 1;
    return tid < 0 ? -1 : tid;
  }
}

let native: NativeStopChannel | null | undefined;

/** The fastest channel this host supports (the native one is made once per thread and reused). */
export function openStopChannel(libc: Libc, writeMemory: (tid: number, address: number, value: bigint) => void): StopChannel {
  if (native === undefined) {
    native = null;
    const lib = nativeHelperPath();
    if (lib) {
      try {
        native = new NativeStopChannel(libc, 'ustack_stop', lib);
      } catch {
        /* unloadable (another libc?): fall back to pure ffi-rs */
      }
    }
  }
  return native ?? new FfiStopChannel(libc, writeMemory);
}
