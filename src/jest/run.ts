/**
 * The object trace() resolves to. Built in the test's realm from the environment's JSON; every
 * helper here is pure so matchers and the serializer can read runs made by any copy of this
 * module (the global `trace` and `import { trace }` load separate copies).
 */
import type { Capture, CrashInfo, ExitStatus, Hit } from '../capture/types';
import { formatMergedCallPath, inPhase, mergeCallPaths, type MergedCallPath } from '../callpath/merge';
import type { NormalizeOptions } from '../callpath/normalize';
import { normalizeFrames } from '../callpath/normalize';
import type { FrameName } from '../callpath/pattern';
import { formatStack, mergeStacks } from '../callpath/stack-format';
import { expandHits, hitCount, stacksOf } from '../capture/model';
import { CALL_PATHS_MARKER, CONTEXT_KEY, RUN_MARKER, STACKS_MARKER } from './protocol';
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
  /**
   * The recorded hits with their raw frames (addresses included), in order: the first `maxHits`
   * per hook. Built on first use from the capture's tables; counts are in callPaths() and stacks().
   */
  readonly hits: Hit[];
  /** The stack at a fatal signal, or null. */
  readonly crash: CrashInfo | null;
  /** True when the program was killed because its time ran out (only seen with an explicit `timeout`). */
  readonly timedOut: boolean;
  /** The raw Capture, schema 2: distinct stacks with counts, hits as table rows (README "Command line"). */
  readonly capture: Capture;
  /**
   * Normalized call paths merged per hook with true counts (also past maxHits), in order of first appearance:
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

/** The context a raw value (capture, hits, crash, hooks) of a run carries, if any. */
export function valueContext(value: unknown): RunContext | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return (value as Record<symbol, RunContext | undefined>)[CONTEXT_KEY];
}

/** The rootDir of the runs made in this test file's realm, for values that carry no context. */
export function realmRootDir(): string | undefined {
  return (globalThis as unknown as Record<symbol, { rootDir?: string } | undefined>)[CONTEXT_KEY]?.rootDir;
}

/** Merged call paths of a run (all hooks, or one), counted from the capture's distinct stacks. */
export function runCallPaths(run: Run, hook?: string): MergedCallPath[] {
  return mergeCallPaths(stacksOf(run.capture, hook), runContext(run).normalize);
}

/** A merged call path with the distinct frame names (template arguments kept) of the hits behind it. */
export interface PathCandidate {
  count: number;
  path: string[];
  variants: FrameName[][];
}

/** Merged call paths for matching: patterns with template arguments check the names that carry them. */
export function runPathCandidates(run: Run, hook?: string): PathCandidate[] {
  const { normalize } = runContext(run);
  const byPath = new Map<string, Map<string, FrameName[]>>();
  for (const stack of stacksOf(run.capture, hook)) {
    if (!inPhase(stack, normalize)) continue;
    const named = normalizeFrames(stack.frames, normalize);
    const key = `${stack.hook}\u0000${named.map((f) => f.name).join('\u0000')}`;
    let variants = byPath.get(key);
    if (!variants) byPath.set(key, (variants = new Map()));
    const full = named.map((f) => f.withArgs).join('\u0000');
    if (!variants.has(full)) variants.set(full, named.map((f) => ({ name: f.name, withArgs: f.withArgs })));
  }
  return runCallPaths(run, hook).map(({ hook: h, path, count }) => {
    const variants = byPath.get(`${h}\u0000${path.join('\u0000')}`);
    return { count, path, variants: variants ? [...variants.values()] : [path] };
  });
}

export function runStacks(run: Run, hook?: string): RunStack[] {
  const ctx = runContext(run);
  return mergeStacks(stacksOf(run.capture, hook), { ...ctx.normalize, rootDir: ctx.rootDir });
}

/** True number of hits of one hook spec (all hooks when undefined), also past maxHits, in the run's phase (normalize.phase). */
export function runHitCount(run: Run, hook?: string): number {
  const { normalize } = runContext(run);
  if (normalize.phase === 'all') return hitCount(run.capture, hook);
  let n = 0;
  for (const s of stacksOf(run.capture, hook)) if (inPhase(s, normalize)) n += s.count;
  return n;
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
    for (const value of [capture, capture.command, capture.hooks, capture.hits, capture.crash]) if (value) mark(value, CONTEXT_KEY, context);
    (globalThis as unknown as Record<symbol, unknown>)[CONTEXT_KEY] = { rootDir: context.rootDir };
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

  calls(hook?: string, options: { raw?: boolean } = {}): Call[] {
    return callsOf(this.hits, hook, runContext(this).normalize, !options?.raw);
  }
}

export function createRun(capture: Capture, stdout: string, stderr: string, context: RunContext): Run {
  return new TracedRun(capture, stdout, stderr, context);
}
