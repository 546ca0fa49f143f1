/**
 * From a hit's frames (innermost first) to a call path (caller first), following the
 * README's "Normalization". Pure: no Node or Jest imports, so it also runs inside Jest's test sandbox.
 */
import type { Frame } from '../capture/types';
import { normalizeName, type NameOptions } from './names';
import { stripTemplateArgs } from './split';

export interface NormalizeOptions extends NameOptions {
  /**
   * Start at `main`, or for a thread at its start routine (the frame above `start_thread`/`clone3`),
   * or for Rust at the program's own `crate::main` / thread closure (the frame after
   * `__rust_begin_short_backtrace`). Default true.
   */
  startAtMain?: boolean;
  /** Drop `_start`, `__libc_start_*`, `start_thread`, `clone`, `clone3` wherever they remain. Default true. */
  dropRuntimeFrames?: boolean;
  /** Keep inline frames (they share the pc of their physical frame). Default true. */
  inlineFrames?: boolean;
  /**
   * 'collapse' (default): consecutive frames in system libraries are one frame named by the function
   * the program called (`main > qsort > compare_keys`), plus the hooked function's exported name
   * when a hook inside the library fired (`main > printf > malloc`). 'all': every frame as unwound.
   */
  libraryFrames?: 'collapse' | 'all';
  /**
   * 'main' (default): call paths, hit counts and snapshots count only hits of the program's own run:
   * under `main` or in a thread the program started (inProgramPhase). 'all': every hit, the dynamic
   * linker's start-up and the exit handlers included.
   */
  phase?: 'main' | 'all';
}

export const DEFAULT_NORMALIZE: Readonly<Required<NormalizeOptions>> = Object.freeze({
  startAtMain: true,
  dropRuntimeFrames: true,
  inlineFrames: true,
  stripCloneSuffixes: true,
  stripRustHash: true,
  stripCppParams: true,
  stripTemplateArgs: true,
  libraryFrames: 'collapse',
  phase: 'main',
});

export interface NamedFrame {
  /** Normalized function name (`??` when unknown). */
  name: string;
  /** The same name with its template arguments, whatever `stripTemplateArgs` says (patterns with `<...>` steps match it). */
  withArgs: string;
  frame: Frame;
}

const RUNTIME_FRAME = /^(_start|_dl_start_user|__libc_start_\w+|start_thread|__?clone3?|__GI___clone3?|thread_start)$/;
const THREAD_BOUNDARY = /^(start_thread|__?clone3?|__GI___clone3?|thread_start)$/;
const RUST_BEGIN = /(^|::)__rust_begin_short_backtrace(<.*)?$/;
const RUST_CALL_ONCE = /^core::ops::function::(FnOnce|Fn|FnMut)::call(_once|_mut)?(\{\{vtable\.shim\}\})?(<.*)?$/;

function lastIndex(frames: NamedFrame[], test: (name: string) => boolean): number {
  for (let i = frames.length - 2; i >= 0; i--) if (test(frames[i].name)) return i; // never past the hooked frame
  return -1;
}

function startIndex(frames: NamedFrame[]): number {
  const rust = lastIndex(frames, (n) => RUST_BEGIN.test(n));
  if (rust >= 0) {
    let start = rust + 1;
    while (start < frames.length - 1 && RUST_CALL_ONCE.test(frames[start].name)) start++;
    return start;
  }
  const thread = lastIndex(frames, (n) => THREAD_BOUNDARY.test(n));
  if (thread >= 0) return thread + 1;
  const main = frames.findIndex((f) => f.name === 'main');
  if (main >= 0) return main;
  // a thread: its outermost frames are the C library's (clone3, start_thread: named or not), then the start routine
  if (frames.length > 1 && frames[0].frame.system) {
    const routine = frames.findIndex((f) => !f.frame.system);
    if (routine > 0) return routine;
  }
  return 0;
}

/**
 * Caller-first frames with each run of consecutive system-library frames as one frame, named by
 * what the program called (Frame.calledAs); a run that ends in the hooked frame also keeps that
 * frame's exported name (or an inlined hook's name) when it differs from the called one.
 */
function collapseLibraryFrames(named: NamedFrame[], options: NormalizeOptions): NamedFrame[] {
  const out: NamedFrame[] = [];
  for (let i = 0; i < named.length; ) {
    if (!named[i].frame.system) {
      out.push(named[i++]);
      continue;
    }
    let j = i;
    while (j + 1 < named.length && named[j + 1].frame.system) j++;
    const outer = named[i];
    const called = outer.frame.calledAs !== undefined ? normalizeName(outer.frame.calledAs, options) : outer.name;
    out.push({ name: called, withArgs: called, frame: outer.frame });
    if (j === named.length - 1) {
      const top = named[j];
      const own = top.frame.exportedAs !== undefined ? normalizeName(top.frame.exportedAs, options) : top.frame.inlined ? top.name : null;
      if (own !== null && own !== called) out.push({ name: own, withArgs: own, frame: top.frame });
    }
    i = j + 1;
  }
  return out;
}

const LIBC_START = /^__libc_start_main$/;

/**
 * Whether a hit belongs to the program's own run (phase 'main'): its stack passes through `main`,
 * or it runs in a thread the program started (outermost frames in the C library, then the
 * program's code). Not: the dynamic linker's start-up and anything else all inside system
 * libraries, constructors and exit handlers that `__libc_start_main` runs around `main`. Stacks
 * without system-library marks (captures from before the marks) always count.
 */
export function inProgramPhase(frames: readonly Frame[]): boolean {
  let marked = false;
  let program = false;
  for (const f of frames) {
    if (f.system) marked = true;
    else {
      program = true;
      if (f.symbol === 'main' || (f.symbol !== null && RUST_BEGIN.test(f.symbol))) return true;
    }
  }
  if (!marked) return true;
  if (!program) return false;
  // innermost first: a run entered through __libc_start_main without main inside it is before or after main
  for (let i = frames.length - 1; i >= 0; i--) {
    const f = frames[i];
    if (f.system && f.calledAs !== undefined && LIBC_START.test(f.calledAs)) {
      let k = i - 1;
      while (k >= 0 && frames[k].system) k--;
      return k >= 0 && frames[k].symbol === null; // an unnamed frame there may be a stripped program's main
    }
  }
  return true;
}

/** Caller-first named frames of one stack (innermost-first `frames`), normalized. */
export function normalizeFrames(frames: readonly Frame[], options: NormalizeOptions = {}): NamedFrame[] {
  let named: NamedFrame[] = [];
  const keepArgs = { ...options, stripTemplateArgs: false };
  for (let i = frames.length - 1; i >= 0; i--) {
    const frame = frames[i];
    if (options.inlineFrames === false && frame.inlined) continue;
    const withArgs = normalizeName(frame.symbol, keepArgs);
    const name = options.stripTemplateArgs === false ? withArgs : stripTemplateArgs(withArgs) || '??';
    named.push({ name, withArgs, frame });
  }
  if (options.startAtMain !== false) named = named.slice(startIndex(named));
  if (options.libraryFrames !== 'all') named = collapseLibraryFrames(named, options);
  if (options.dropRuntimeFrames !== false && named.length > 1) {
    const kept = named.filter((f, i) => i === named.length - 1 || !RUNTIME_FRAME.test(f.name));
    named = kept;
  }
  return named;
}

/** The call path of one stack: caller-first normalized names. */
export function callPathOf(frames: readonly Frame[], options: NormalizeOptions = {}): string[] {
  return normalizeFrames(frames, options).map((f) => f.name);
}
