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
}

export const DEFAULT_NORMALIZE: Readonly<Required<NormalizeOptions>> = Object.freeze({
  startAtMain: true,
  dropRuntimeFrames: true,
  inlineFrames: true,
  stripCloneSuffixes: true,
  stripRustHash: true,
  stripCppParams: true,
  stripTemplateArgs: true,
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
  return main >= 0 ? main : 0;
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
