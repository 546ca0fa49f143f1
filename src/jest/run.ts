/**
 * The object trace() resolves to. Built in the test's realm from the environment's JSON; every
 * helper here is pure so matchers and the serializer can read runs made by any copy of this
 * module (the global `trace` and `import { trace }` load separate copies).
 */
import type { Capture, CrashInfo, ExitStatus, Hit } from '../capture/types';
import { formatMergedCallPath, mergeCallPaths, type MergedCallPath } from '../callpath/merge';
import type { NormalizeOptions } from '../callpath/normalize';
import { formatStack, mergeStacks } from '../callpath/stack-format';
import { expandHits, hitCount, stacksOf } from '../capture/model';
import { CALL_PATHS_MARKER, RUN_MARKER, STACKS_MARKER } from './protocol';

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
  /**
   * The recorded hits with their raw frames (addresses included), in order: the first `maxHits`
   * per hook. Built on first use from the capture's tables; counts are in callPaths() and stacks().
   */
  readonly hits: Hit[];
  /** The stack at a fatal signal, or null. */
  readonly crash: CrashInfo | null;
  /** True when the program was killed because its time ran out (only seen with an explicit `timeout`). */
  readonly timedOut: boolean;
  /** The raw Capture, schema 2: distinct stacks with counts, hits as table rows (design.md "Data model"). */
  readonly capture: Capture;
  /**
   * Normalized call paths merged per hook with true counts (also past maxHits), in order of first appearance:
   * `["3× main > cfg_parse > parse_array > arena_alloc", ...]`. Only hits of `hook` when given
   * (the hook spec exactly as passed to trace()).
   */
  callPaths(hook?: string): string[];
  /** Distinct readable stacks (innermost first, `name (file:line)`), merged per hook with counts. */
  stacks(hook?: string): RunStack[];
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

/** Merged call paths of a run (all hooks, or one), counted from the capture's distinct stacks. */
export function runCallPaths(run: Run, hook?: string): MergedCallPath[] {
  return mergeCallPaths(stacksOf(run.capture, hook), runContext(run).normalize);
}

export function runStacks(run: Run, hook?: string): RunStack[] {
  const ctx = runContext(run);
  return mergeStacks(stacksOf(run.capture, hook), { ...ctx.normalize, rootDir: ctx.rootDir });
}

/** True number of hits of one hook spec (all hooks when undefined), also past maxHits. */
export function runHitCount(run: Run, hook?: string): number {
  return hitCount(run.capture, hook);
}

/** The crash stack, innermost first, `name (file:line)`. */
export function crashStack(run: Run): string[] {
  const ctx = runContext(run);
  return run.crash ? formatStack(run.crash.frames, { ...ctx.normalize, rootDir: ctx.rootDir }) : [];
}

const expandedHits = new WeakMap<Run, Hit[]>();

class TracedRun implements Run {
  readonly command: string[];
  readonly exit: ExitStatus;
  readonly stdout: string;
  readonly stderr: string;
  readonly crash: CrashInfo | null;
  readonly timedOut: boolean;
  readonly capture: Capture;

  constructor(capture: Capture, stdout: string, stderr: string, context: RunContext) {
    this.command = capture.command;
    this.exit = capture.exit;
    this.stdout = stdout;
    this.stderr = stderr;
    this.crash = capture.crash;
    this.timedOut = capture.stats.timedOut === true;
    this.capture = capture;
    mark(this, RUN_MARKER, context);
  }

  get hits(): Hit[] {
    let hits = expandedHits.get(this);
    if (!hits) expandedHits.set(this, (hits = expandHits(this.capture)));
    return hits;
  }

  callPaths(hook?: string): string[] {
    return mark(runCallPaths(this, hook).map(formatMergedCallPath), CALL_PATHS_MARKER);
  }

  stacks(hook?: string): RunStack[] {
    return mark(runStacks(this, hook), STACKS_MARKER);
  }
}

export function createRun(capture: Capture, stdout: string, stderr: string, context: RunContext): Run {
  return new TracedRun(capture, stdout, stderr, context);
}
