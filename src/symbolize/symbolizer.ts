/**
 * Turns raw pcs into Frames: module and offset from the process's module map, symbol from the
 * ELF symbol tables, and file:line plus inline frames from DWARF (the module itself or its
 * separate debug file). Everything is cached per module file and per pc, so the worker that
 * keeps a Symbolizer answers repeated stacks from memory.
 */
import type { Frame } from '../capture/types';
import type { LineTable } from '../dwarf/line-table';
import { resolveCallerValues, type DebugInfo } from '../dwarf/debug-info';
import { FRAME_EXACT_PC, FRAME_SIGNAL_TRAMPOLINE } from '../dwarf/unwinder';
import { tailCallChainSteps } from '../dwarf/debug-info-callsites';
import type { ElfFile } from '../elf/elf-file';
import type { SymbolTable } from '../elf/symbol-table';
import { debugInfoStatus, symbolSource } from '../elf/debuginfo';
import { howToGetDebugInfo } from '../elf/debug-advice';
import { calledSymbol, exportedFunctionAt, exportedFunctionContaining } from '../elf/call-targets';
import { isSystemLibrary } from './system-libraries';
import { debugGeneration } from '../elf/debug-search';
import { demangle, stripParameters } from './demangle';
import type { LoadedModule, ModuleMap } from './module-map';
import { moduleDwarf, uniqueEntryByName } from './module-debug';

interface ModuleDebug {
  lines: LineTable | null;
  info: DebugInfo | null;
  /** The separate debug file's full .symtab, for stripped modules (static functions such as __libc_start_call_main). */
  symbols: SymbolTable | null;
}

const NO_DEBUG: ModuleDebug = { lines: null, info: null, symbols: null };

/** A DWARF-qualified name as gdb prints it: members of an anonymous class (a lambda's closure) are not qualified. */
function dwarfName(name: string): string {
  return name.replace(/^(?:.*::)?\{unnamed\}::/, '');
}

/** A function's entry by name, when the name has one sized definition (aliases at one address count as one). */

/** Frame i's registers from a stack's [frame, register, value] triples, or null. */
function registersOfFrame(frameRegs: readonly number[] | null | undefined, i: number): Map<number, number> | null {
  if (!frameRegs) return null;
  let out: Map<number, number> | null = null;
  for (let k = 0; k + 2 < frameRegs.length; k += 3) if (frameRegs[k] === i) (out ??= new Map()).set(frameRegs[k + 1], frameRegs[k + 2]);
  return out;
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}

/** What a module without a line table loses: lines only, or names too when it has no symbol table anywhere. */
function missingDebugInfoWarning(elf: ElfFile): string {
  const lost = debugInfoStatus(elf).fullSymbols
    ? 'its frames show function names without file:line'
    : 'it has no symbol table either, so only its exported functions are named (its other frames show as ??) and no frame has file:line';
  return `No debug information for ${elf.path}: ${lost}. To get it: ${howToGetDebugInfo(elf)}.`;
}

export class Symbolizer {
  private readonly debug = new Map<ElfFile, ModuleDebug>();
  private generation = debugGeneration();
  private readonly cache = new Map<string, Frame[]>();
  private readonly tailCallCache = new Map<string, Frame[]>();
  /** Modules already reported as lacking debug info in the current capture. */
  private warned = new Set<string>();
  private warnings: string[] = [];

  /**
   * Frames of one stack, innermost first; `flags` tells which pcs are exact (frame 0, after a signal).
   * `atBreakpoint`: frame 0 is a hooked function's entry, so (like gdb) an inlined call starting at
   * that very pc is not entered and the hooked function itself is frame 0.
   * `hookedInline`: frame 0 is the entry of an inlined copy of these functions (qualified names), which
   * stay frame 0 (DebugInfo.framesAt).
   * `frameRegs`: [frame, DWARF register, value] triples of calling frames that tail-call frames
   * depend on (an indirect tail call through a function pointer kept in a callee-saved register).
   */
  stack(pcs: Float64Array, flags: Uint8Array, modules: ModuleMap, atBreakpoint = false, hookedInline?: readonly string[], frameRegs?: readonly number[] | null): Frame[] {
    const out: Frame[] = [];
    let innerExact = true;
    for (let i = 0; i < pcs.length; i++) {
      if (i === 0 && atBreakpoint) {
        for (const f of this.frames(pcs[0], true, modules, true, hookedInline)) out.push(f);
        continue;
      }
      // frame 0, frames interrupted by a signal, and the signal trampoline itself hold exact pcs, not return addresses
      const exact = i === 0 || (flags[i] & (FRAME_EXACT_PC | FRAME_SIGNAL_TRAMPOLINE)) !== 0;
      if (!exact) {
        for (const f of this.tailCallFrames(pcs[i - 1], innerExact, pcs[i], modules, registersOfFrame(frameRegs, i))) out.push(f);
      }
      for (const f of this.frames(pcs[i], exact, modules)) out.push(f);
      innerExact = exact;
    }
    return this.markSystemFrames(out, modules);
  }

  /**
   * Marks the frames in system libraries and names each run of them by what the program called
   * (Frame.system, calledAs, exportedAs), so call paths can collapse them (callpath/normalize.ts).
   * Frames are copied where marked: the per-pc cache holds unmarked frames.
   */
  private markSystemFrames(frames: Frame[], modules: ModuleMap): Frame[] {
    const out = frames.map((f) => (f.module !== null && this.isSystem(f.module) ? { ...f, system: true as const } : f));
    for (let i = 0; i < out.length; ) {
      if (!out[i].system) {
        i++;
        continue;
      }
      let j = i;
      while (j + 1 < out.length && out[j + 1].system) j++;
      const called = this.calledName(out[j], j === 0, out[j + 1] ?? null, modules);
      if (called) out[j] = { ...out[j], calledAs: demangle(called) };
      i = j + 1;
    }
    const top = out[0];
    if (top?.system && !top.inlined) {
      const mod = modules.find(Number(top.pc));
      const name = mod?.elf ? exportedFunctionAt(mod.elf, Number(top.pc) - mod.bias) : null;
      if (name) out[0] = { ...top, exportedAs: demangle(name) };
    }
    return out;
  }

  /** What `caller` called to enter the system frame `outer`: its call's bound symbol, else the library's exported function around `outer`. */
  private calledName(outer: Frame, exact: boolean, caller: Frame | null, modules: ModuleMap): string | null {
    if (caller) {
      const cmod = modules.find(Number(caller.pc));
      const name = cmod?.elf ? calledSymbol(cmod.elf, Number(caller.pc) - cmod.bias) : null;
      if (name) return name;
    }
    const mod = modules.find(Number(outer.pc));
    if (!mod?.elf) return null;
    const pc = Number(outer.pc) - mod.bias;
    return exportedFunctionContaining(mod.elf, exact ? pc : pc - 1);
  }

  private readonly systemPaths = new Map<string, boolean>();

  private isSystem(path: string): boolean {
    let s = this.systemPaths.get(path);
    if (s === undefined) this.systemPaths.set(path, (s = isSystemLibrary(path)));
    return s;
  }

  /**
   * Frames of functions that tail-called their way from the function `returnPc` called to the
   * function of `innerPc` (the frame inside it), as gdb shows them; innermost first, usually none.
   */
  private tailCallFrames(innerPc: number, innerExact: boolean, returnPc: number, modules: ModuleMap, callerRegs: Map<number, number> | null = null): Frame[] {
    const mod = modules.find(returnPc);
    if (!mod?.elf) return [];
    const innerMod = modules.find(innerPc);
    if (innerMod !== mod) return innerMod?.elf ? this.crossModuleTailCallFrames(innerPc, innerExact, returnPc, mod, innerMod, modules, callerRegs) : [];
    const dbg = this.debugFor(mod);
    if (!dbg.info) return [];
    const inner = (innerExact ? innerPc : innerPc - 1) - mod.bias;
    const innerFn = dbg.info.functionContaining(inner);
    if (!innerFn) return [];
    const key = `${mod.path}@${mod.bias}:${returnPc}:${innerFn.entry}${callerRegs ? ':' + [...callerRegs].join(',') : ''}`;
    let frames = this.tailCallCache.get(key);
    if (!frames) {
      frames = [];
      // a register value is a run-time address: the chain search works in link-time addresses of this module
      const callerRegister = callerRegs ? (reg: number) => {
        const v = callerRegs.get(reg);
        return v === undefined || !(v >= mod.start && v < mod.end) ? undefined : v - mod.bias;
      } : undefined;
      for (const step of dbg.info.tailCallChain(returnPc - mod.bias, inner, callerRegister)) {
        frames.push(...this.tailCallFrame(step.returnPc + mod.bias, modules));
      }
      this.tailCallCache.set(key, frames);
    }
    return frames;
  }

  /**
   * Tail-call frames where the caller and the stopped function are in different modules, over one
   * graph of both modules' tail calls: a call site whose callee the caller's module does not define
   * (a PLT call) continues by name in the inner module, whose own DWARF (for libc, its separate
   * debug file) has the rest of the chain: `main > qsort > __qsort_r` where qsort ended in
   * `jmp __qsort_r`, or `main > sort_items > qsort > __qsort_r` where sort_items ended in `jmp qsort@plt`.
   */
  private crossModuleTailCallFrames(innerPc: number, innerExact: boolean, returnPc: number, mod: LoadedModule, innerMod: LoadedModule, modules: ModuleMap, callerRegs: Map<number, number> | null): Frame[] {
    const key = `${mod.path}@${mod.bias}:${returnPc}>${innerMod.path}@${innerMod.bias}:${innerPc}:${innerExact ? 1 : 0}${callerRegs ? ':' + [...callerRegs].join(',') : ''}`;
    const cached = this.tailCallCache.get(key);
    if (cached) return cached;
    const frames: Frame[] = [];
    this.tailCallCache.set(key, frames);
    const callerDbg = this.debugFor(mod);
    const innerDbg = this.debugFor(innerMod);
    const callerInfo = callerDbg.info;
    const innerInfo = innerDbg.info;
    if (!callerInfo) return frames;
    if (!innerInfo) return this.tailCallFramesIntoModuleWithoutDwarf(frames, returnPc, mod, innerMod, modules, callerRegs);
    const callee = callerInfo.callSiteCallee(returnPc - mod.bias);
    const innerFn = innerInfo.functionContaining((innerExact ? innerPc : innerPc - 1) - innerMod.bias);
    if (!callee || !innerFn) return frames;
    // inner-module entries are shifted past every link-time address so both modules share one graph
    const IN_INNER = 2 ** 50;
    const innerByName = uniqueEntryByName(innerDbg.symbols ?? innerMod.elf!.symbols());
    const inInner = (name: string | null): number | null => {
      const e = name ? innerByName(name) : null;
      return e === null ? null : e + IN_INNER;
    };
    const from = callee.entry ?? inInner(callee.name);
    const to = innerFn.entry + IN_INNER;
    if (from === null || from === to) return frames;
    const graph = {
      tailCallTargets: (node: number) =>
        node >= IN_INNER
          ? innerInfo.tailCallSites(node - IN_INNER).map((t) => ({
              target: t.target === null ? null : t.target + IN_INNER,
              targetEntryOf: t.targetEntryOf,
              parameters: t.parameters.map((p) => (p.entryOf < 0 && p.breg < 0 ? { ...p, constant: p.constant + IN_INNER } : p)),
              returnPc: t.returnPc + IN_INNER,
            }))
          : callerInfo.tailCallSites(node).map((t) => ({ target: t.target ?? inInner(t.targetLinkage), targetEntryOf: t.targetEntryOf, parameters: t.parameters, returnPc: t.returnPc })),
    };
    // the values the caller's call passes (a function pointer for an indirect tail call), in graph space;
    // a register of the calling frame may point into either module (a pointer to the library's function)
    const callerRegister = callerRegs
      ? (reg: number) => {
          const v = callerRegs.get(reg);
          if (v === undefined) return undefined;
          if (v >= mod.start && v < mod.end) return v - mod.bias;
          return v >= innerMod.start && v < innerMod.end ? v - innerMod.bias + IN_INNER : undefined;
        }
      : undefined;
    const fromParameters = resolveCallerValues(callerInfo.callSiteAt(returnPc - mod.bias)?.parameters ?? [], callerRegister);
    for (const step of tailCallChainSteps(graph, from, to, fromParameters)) {
      const pc = step.returnPc >= IN_INNER ? step.returnPc - IN_INNER + innerMod.bias : step.returnPc + mod.bias;
      frames.push(...this.tailCallFrame(pc, modules));
    }
    return frames;
  }

  /**
   * The caller module's part of a cross-module tail-call chain when the inner module has no DWARF
   * (glibc without libc6-dbg): from the caller's callee through the caller module's own tail calls
   * to a jump out of the module (`sort_items` ending in `jmp qsort@plt`), every jump out being one
   * node. So the program's own tail-call frames do not depend on the library's debug package.
   */
  private tailCallFramesIntoModuleWithoutDwarf(frames: Frame[], returnPc: number, mod: LoadedModule, innerMod: LoadedModule, modules: ModuleMap, callerRegs: Map<number, number> | null): Frame[] {
    const callerInfo = this.debugFor(mod).info!;
    const callee = callerInfo.callSiteCallee(returnPc - mod.bias);
    if (!callee || callee.entry === null) return frames;
    const OUTSIDE = -1;
    const graph = {
      tailCallTargets: (node: number) =>
        node === OUTSIDE
          ? []
          : callerInfo.tailCallSites(node).map((t) => ({ target: t.target ?? (t.targetLinkage !== null ? OUTSIDE : null), targetEntryOf: t.targetEntryOf, parameters: t.parameters, returnPc: t.returnPc })),
    };
    const callerRegister = callerRegs
      ? (reg: number) => {
          const v = callerRegs.get(reg);
          if (v === undefined) return undefined;
          if (v >= mod.start && v < mod.end) return v - mod.bias;
          return v >= innerMod.start && v < innerMod.end ? OUTSIDE : undefined;
        }
      : undefined;
    const fromParameters = resolveCallerValues(callerInfo.callSiteAt(returnPc - mod.bias)?.parameters ?? [], callerRegister);
    for (const step of tailCallChainSteps(graph, callee.entry, OUTSIDE, fromParameters)) frames.push(...this.tailCallFrame(step.returnPc + mod.bias, modules));
    return frames;
  }

  /** Frames for one pc: inline frames first, then the physical frame. */
  /**
   * The frame of a function that jumped away at `pc` (just past its jump), as gdb shows it: one
   * frame, named by the innermost function there, inlined or not (gdb builds no inline frames on a
   * tail-call frame), with that function's file:line.
   */
  private tailCallFrame(pc: number, modules: ModuleMap): Frame[] {
    const inner = this.frames(pc, false, modules)[0];
    return inner ? [{ ...inner, inlined: false, tailCall: true }] : [];
  }

  frames(pc: number, exact: boolean, modules: ModuleMap, atBreakpoint = false, hookedInline?: readonly string[]): Frame[] {
    const mod = modules.find(pc);
    if (mod?.elf && !this.debugFor(mod).lines && !this.warned.has(mod.path)) {
      this.warned.add(mod.path);
      this.warnings.push(missingDebugInfoWarning(mod.elf));
    }
    const key = `${mod ? mod.path + '@' + mod.bias : '?'}:${pc}:${exact ? 1 : 0}${atBreakpoint ? 'b' : ''}${hookedInline?.length ? hookedInline.join('\0') : ''}`;
    let frames = this.cache.get(key);
    if (!frames) {
      frames = this.compute(pc, exact, mod, atBreakpoint, hookedInline);
      this.cache.set(key, frames);
    }
    return frames;
  }

  /** Warnings since the last call (one per module lacking debug info); starts a new capture. */
  takeWarnings(): string[] {
    const w = this.warnings;
    this.warnings = [];
    this.warned = new Set();
    return w;
  }

  private compute(pc: number, exact: boolean, mod: LoadedModule | null, atBreakpoint: boolean, hookedInline?: readonly string[]): Frame[] {
    const base: Frame = {
      pc: hex(pc),
      module: mod ? mod.path : null,
      offset: mod ? hex(pc - mod.bias) : null,
      symbol: null,
      symbolOffset: null,
      symbolSize: null,
      file: null,
      line: null,
      inlined: false,
    };
    if (!mod || !mod.elf) return [base];
    const link = pc - mod.bias;
    // a return address may sit just past a noreturn call at the end of its function
    const lookupAt = exact ? link : link - 1;
    const dbg = this.debugFor(mod);
    const sym = (dbg.symbols ?? mod.elf.symbols()).lookup(lookupAt) ?? mod.elf.symbols().lookup(lookupAt);
    if (sym) {
      const name = demangle(sym.name.replace(/@.*$/, ''));
      base.symbol = name;
      if (name !== sym.name) base.linkage = sym.name;
      base.symbolOffset = link - sym.address;
      base.symbolSize = sym.size;
    }
    if (!dbg.info && !dbg.lines) return [base];
    const source = dbg.info ? dbg.info.framesAt(lookupAt, atBreakpoint, hookedInline) : [];
    if (source.length === 0) {
      const loc = dbg.lines?.lookup(lookupAt);
      if (loc) {
        base.file = loc.file;
        base.line = loc.line;
      }
      return [base];
    }
    // DWARF frames: inlined subroutines then the physical function; the physical one keeps the ELF symbol's offsets.
    // Every frame DWARF covers is named by DWARF as gdb names it (DebugInfo: no parameter list), never by the ELF symbol
    // (for Rust the demangled symbol differs: `<T as Trait>::m` where gdb shows `crate::{impl#0}::m`), except where
    // DWARF gives no usable name: a C++ function without a linkage name whose scope is an anonymous class
    // (a lambda's operator()), which the mangled ELF name qualifies fully.
    const frames: Frame[] = [];
    for (const sf of source) {
      const f: Frame = { ...base, file: sf.file, line: sf.line, inlined: sf.inlined };
      const elfMangled = !sf.inlined && /^_Z/.test(f.linkage ?? '') && !sf.linkageName;
      // C: gdb names the function by its DW_AT_linkage_name when it has one (an asm label: glibc's __GI___snprintf)
      const cLinkage = sf.linkageName !== null && !/^_[ZR]/.test(sf.linkageName);
      f.symbol = cLinkage ? sf.linkageName : elfMangled && sf.function.includes('{unnamed}::') ? stripParameters(f.symbol!).replace(/( \[clone [^\]]+\])+$/, '') : dwarfName(sf.function) || f.symbol;
      if (sf.linkageName) f.linkage = sf.linkageName;
      else if (sf.inlined) delete f.linkage;
      if (sf.inlined) {
        f.symbolOffset = null;
        f.symbolSize = null;
      }
      if (f.linkage === undefined || f.linkage === f.symbol) delete f.linkage;
      frames.push(f);
    }
    return frames;
  }

  private debugFor(mod: LoadedModule): ModuleDebug {
    const elf = mod.elf!;
    if (this.generation !== debugGeneration()) {
      // debug files may have appeared (debuginfod, other debug directories): forget what was computed without them
      this.generation = debugGeneration();
      this.debug.clear();
      this.cache.clear();
      this.tailCallCache.clear();
    }
    let d = this.debug.get(elf);
    if (d) return d;
    const dwarf = moduleDwarf(elf);
    const symbolElf = symbolSource(elf);
    const symbols = symbolElf !== elf ? symbolElf.symbols() : null;
    d = dwarf.info || dwarf.lines || symbols ? { lines: dwarf.lines, info: dwarf.info, symbols } : NO_DEBUG;
    this.debug.set(elf, d);
    return d;
  }
}
