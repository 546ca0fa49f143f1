/**
 * The tracer's side of `--args` / `--returns`: a stopped thread's registers (user_regs_struct
 * from the stop, the SSE/x87 registers through PTRACE_GETFPREGS only when a value needs them) and
 * memory as a ValueSource, and each module's DWARF signatures, so that values are decoded while
 * the thread is stopped (memory changes once it runs).
 */
import type { ArgValue } from '../capture/types';
import { readArguments, readReturnValue } from '../dwarf/call-values';
import { ParameterReader, type FunctionSignature } from '../dwarf/parameters';
import { REGISTER_COUNT, USER_REGS_WORD } from '../dwarf/registers';
import type { ValueSource } from '../dwarf/location';
import type { ElfFile } from '../elf/elf-file';
import type { LoadedModule, ModuleMap } from '../symbolize/module-map';
import { moduleDwarf } from '../symbolize/module-debug';
import type { Libc } from './libc';
import type { TraceeMemory } from './tracee-memory';

const PTRACE_GETFPREGS = 14;
/** Where PTRACE_GETFPREGS writes its 512-byte user_fpregs_struct in the libc arena (free space below OFF_STRINGS). */
const OFF_FPREGS = 2560;
const XMM_OFFSET = 160;
const ST_OFFSET = 32;

const readers = new WeakMap<ElfFile, ParameterReader | null>();

function readerFor(elf: ElfFile): ParameterReader | null {
  let r = readers.get(elf);
  if (r !== undefined) return r;
  const d = moduleDwarf(elf);
  r = d.info && d.sections ? new ParameterReader(d.info, d.sections) : null;
  readers.set(elf, r);
  return r;
}

class StoppedThread implements ValueSource {
  regs: Buffer = Buffer.alloc(216);
  tid = 0;
  memory: TraceeMemory | null = null;
  private fp: Buffer | null = null;
  private fpTried = false;

  constructor(private readonly libc: Libc) {}

  reset(regs: Buffer, tid: number, memory: TraceeMemory): void {
    this.regs = regs;
    this.tid = tid;
    this.memory = memory;
    this.fp = null;
    this.fpTried = false;
  }

  gpr(reg: number): bigint | null {
    if (reg < 0 || reg >= REGISTER_COUNT) return null;
    return this.regs.readBigUInt64LE(USER_REGS_WORD[reg] * 8);
  }

  vector(reg: number): Buffer | null {
    if (!this.fpTried) {
      this.fpTried = true;
      const lc = this.libc;
      if (lc.ptrace(PTRACE_GETFPREGS, this.tid, 0, lc.arenaAddress + OFF_FPREGS) === 0) this.fp = Buffer.from(lc.arena.subarray(OFF_FPREGS, OFF_FPREGS + 512));
    }
    if (!this.fp) return null;
    if (reg >= 17 && reg <= 32) return this.fp.subarray(XMM_OFFSET + (reg - 17) * 16, XMM_OFFSET + (reg - 16) * 16);
    if (reg >= 33 && reg <= 40) return this.fp.subarray(ST_OFFSET + (reg - 33) * 16, ST_OFFSET + (reg - 33) * 16 + 10);
    return null;
  }

  read(address: number, length: number): Buffer | null {
    if (length === 0) return Buffer.alloc(0);
    return this.memory!.readBytes(address, length);
  }
}

export class CallCapture {
  private readonly thread: StoppedThread;

  constructor(libc: Libc) {
    this.thread = new StoppedThread(libc);
  }

  /** The DWARF signature of the function entered at absolute `address` (null without DWARF for it). */
  signature(modules: ModuleMap, address: number, inlineEntry: boolean): FunctionSignature | null {
    const mod: LoadedModule | undefined = modules.find(address) ?? undefined;
    if (!mod?.elf) return null;
    const reader = readerFor(mod.elf);
    return reader ? reader.signatureAt(address - mod.bias, inlineEntry) : null;
  }

  arguments(sig: FunctionSignature, regs: Buffer, tid: number, memory: TraceeMemory): Record<string, ArgValue> {
    this.thread.reset(regs, tid, memory);
    const rsp = Number(this.thread.gpr(7));
    try {
      return readArguments(sig, this.thread, rsp, !sig.inlined);
    } catch (e) {
      return { '<error>': e instanceof Error ? e.message : String(e) };
    }
  }

  returnValue(sig: FunctionSignature, regs: Buffer, tid: number, memory: TraceeMemory): ArgValue {
    this.thread.reset(regs, tid, memory);
    try {
      return readReturnValue(sig, this.thread, Number(this.thread.gpr(7)));
    } catch (e) {
      return `<error: ${e instanceof Error ? e.message : String(e)}>`;
    }
  }
}


