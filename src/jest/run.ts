/**
 * The object trace() resolves to. Built in the test's realm from the environment's JSON; every
 * helper here is pure so matchers and the serializer can read runs made by any copy of this
 * module (the global `trace` and `import { trace }` load separate copies).
 */
import type { Capture, CrashInfo, ExitStatus, Hit } from '../capture/types';
import { formatMergedCallPath, mergeCallPaths, type MergedCallPath } from '../callpath/merge';
import type { NormalizeOptions } from '../callpath/normalize';
import { formatStack, mergeStacks } from '../callpath/stack-format';
import { CALL_PATHS_MARKER, RUN_MARKER, STACKS_MARKER } from './protocol';
import { callsOf, type Call } from './calls';

/** One distinct stack of a hook, innermost frame first: `leaf (src/app.c:3)`. */
export interface RunStack {
  hook: string;
  /** How many hits had exactly this stack. */
  count: number;
  frames: string[];
}

export interface Run {
  /** argv as traced (argv[0] resolved against cwd when it was relative). */
  readonly command: string[];
  /** `{ code, signal }`: code is null when a signal (e.g. "SIGSEGV") killed the program. */
  readonly exit: ExitStatus;
  readonly stdout: string;
  readonly stderr: string;
  /** Every recorded hit with its raw frames (addresses included), in order. */
  readonly hits: Hit[];
  /** The stack at a fatal signal, or null. */
  readonly crash: CrashInfo | null;
  /** True when the program was killed because its time ran out (only seen with an explicit `timeout`). */
  readonly timedOut: boolean;
  /** The raw Capture (design.md "Data model"). */
  readonly capture: Capture;
  /**
   * Normalized call paths merged per hook with counts, in order of first appearance:
   * `["3× main > cfg_parse > parse_array > arena_alloc", ...]`. Only hits of `hook` when given
   * (the hook spec exactly as passed to trace()).
   */
  callPaths(hook?: string): string[];
  /** Distinct readable stacks (innermost first, `name (file:line)`), merged per hook with counts. */
  stacks(hook?: string): RunStack[];
  /**
   * Each recorded call of `hook` (or of every hook), in order: `{ args, return, returned,
   * durationNs, path }` (trace() with `args: true` / `returns: true`). The snapshot serializer masks
   * pointers and durations in this list; `{ raw: true }` returns a list it prints as is.
   */
  calls(hook?: string, options?: { raw?: boolean }): Call[];
}

/** What a run carries besides its public fields. */
export interface RunContext {
  normalize: NormalizeOptions;
  rootDir: string;
}

export function isRun(value: unknown): value is Run {
  return typeof value === 'object' && value !== null && RUN_MARKER in value;
}

export function runContext(run: Run): RunContext {
  return (run as unknown as Record<symbol, RunContext>)[RUN_MARKER];
}

export function isCallPathList(value: unknown): value is string[] {
  return Array.isArray(value) && CALL_PATHS_MARKER in value;
}

export function isStackList(value: unknown): value is RunStack[] {
  return Array.isArray(value) && STACKS_MARKER in value;
}

function mark<T extends object>(value: T, marker: symbol, data: unknown = true): T {
  Object.defineProperty(value, marker, { value: data, enumerable: false });
  return value;
}

/** Merged call paths of a run (all hooks, or one). */
export function runCallPaths(run: Run, hook?: string): MergedCallPath[] {
  return mergeCallPaths(run.capture.hits, runContext(run).normalize, hook);
}

export function runStacks(run: Run, hook?: string): RunStack[] {
  const ctx = runContext(run);
  return mergeStacks(run.capture.hits, { ...ctx.normalize, rootDir: ctx.rootDir }, hook);
}

/** The crash stack, innermost first, `name (file:line)`. */
export function crashStack(run: Run): string[] {
  const ctx = runContext(run);
  return run.crash ? formatStack(run.crash.frames, { ...ctx.normalize, rootDir: ctx.rootDir }) : [];
}

class TracedRun implements Run {
  readonly command: string[];
  readonly exit: ExitStatus;
  readonly stdout: string;
  readonly stderr: string;
  readonly hits: Hit[];
  readonly crash: CrashInfo | null;
  readonly timedOut: boolean;
  readonly capture: Capture;

  constructor(capture: Capture, stdout: string, stderr: string, context: RunContext) {
    this.command = capture.command;
    this.exit = capture.exit;
    this.stdout = stdout;
    this.stderr = stderr;
    this.hits = capture.hits;
    this.crash = capture.crash;
    this.timedOut = capture.stats.timedOut === true;
    this.capture = capture;
    mark(this, RUN_MARKER, context);
  }

  callPaths(hook?: string): string[] {
    return mark(runCallPaths(this, hook).map(formatMergedCallPath), CALL_PATHS_MARKER);
  }

  stacks(hook?: string): RunStack[] {
    return mark(runStacks(this, hook), STACKS_MARKER);
  }

  calls(hook?: string, options: { raw?: boolean } = {}): Call[] {
    return callsOf(this.capture.hits, hook, runContext(this).normalize, !options?.raw);
  }
}

export function createRun(capture: Capture, stdout: string, stderr: string, context: RunContext): Run {
  return new TracedRun(capture, stdout, stderr, context);
}
