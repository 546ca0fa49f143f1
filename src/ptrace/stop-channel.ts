/**
 * How the tracer resumes the previous stop and waits for the next one. Two implementations with
 * one behaviour: NativeStopChannel batches the system calls of a breakpoint hit into one ffi-rs
 * call (native/stop_loop.c); FfiStopChannel makes them one by one through ffi-rs.
 */
import { ffi } from './ffi';
import * as C from './constants';
import { Libc, OFF_REGS } from './libc';
import { nativeHelperPath } from './native-helper';

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
  /** Performs `resume` (if any), waits for the next stop; returns its tid or -1 when no tracee is left. */
  next(resume: PendingResume | null): number;
}

const WINDOW_SIZE = 8192;
const IO_SIZE = 512 + WINDOW_SIZE;

export class FfiStopChannel implements StopChannel {
  readonly kind = 'ffi' as const;
  readonly regsIn: Buffer;
  readonly regsOut: Buffer;
  readonly window = Buffer.alloc(0);
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
    const tid = ffi.load(this.params as any) as number;
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
