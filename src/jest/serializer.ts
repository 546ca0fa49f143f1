/**
 * jest-ustack/serializer: prints runs, call-path lists, stack lists and the raw values a run hands
 * out (capture, hits, crash, hooks, frames) without addresses, pids, tids or absolute paths, so
 * snapshots stay the same across rebuilds, ASLR and machines. Call paths print one frame per line
 * (the count on the path's first line), so a snapshot diff shows the frames that changed.
 */
import type { Config, NewPlugin, Printer, Refs } from 'pretty-format';
import type { Capture, CrashInfo, Frame, Hit, HookResolution } from '../capture/types';
import { formatMergedCallPath, parseCallPathLine } from '../callpath/merge';
import { DEFAULT_NORMALIZE } from '../callpath/normalize';
import { normalizeName } from '../callpath/names';
import { displayPath, formatFrame, formatStack } from '../callpath/stack-format';
import { CALL_PATHS_MARKER } from './protocol';
import { crashStack, isCallPathList, isRun, isStackList, realmRootDir, runCallPaths, runContext, valueContext, type Run, type RunContext } from './run';

const MASKED_ADDRESS = '<address>';

function markCallPaths(lines: string[]): string[] {
  Object.defineProperty(lines, CALL_PATHS_MARKER, { value: true, enumerable: false });
  return lines;
}
import { callSnapshotView, isCallList, isMarkedCall } from './calls';

/** The stable view of a run that its snapshot shows. */
export function runSnapshotView(run: Run): Record<string, unknown> {
  const { rootDir } = runContext(run);
  const hits: Record<string, number> = {};
  for (const h of run.capture.hooks) hits[h.spec] = 0;
  for (const stack of run.capture.stacks) hits[stack.hook] = (hits[stack.hook] ?? 0) + stack.count;
  return {
    command: run.command.map((arg) => (arg.startsWith('/') ? displayPath(arg, rootDir) : arg)),
    exit: run.timedOut ? 'timed out' : run.exit.signal ?? run.exit.code,
    hits,
    callPaths: markCallPaths(runCallPaths(run).map(formatMergedCallPath)),
    crash: run.crash ? { signal: run.crash.signal, stack: crashStack(run) } : null,
  };
}

// Raw values are recognized by shape, so a hit or frame taken out of a run (or a record() result) is masked too.
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isFrame(v: unknown): v is Frame {
  return isObject(v) && typeof v.pc === 'string' && 'symbol' in v && 'offset' in v && typeof v.inlined === 'boolean';
}
function isHit(v: unknown): v is Hit {
  return isObject(v) && typeof v.hook === 'string' && typeof v.tid === 'number' && Array.isArray(v.frames);
}
function isCrash(v: unknown): v is CrashInfo {
  return isHit(v) && typeof (v as unknown as Record<string, unknown>).signal === 'string';
}
function isHookResolution(v: unknown): v is HookResolution {
  return isObject(v) && typeof v.spec === 'string' && Array.isArray(v.resolved);
}
function isCapture(v: unknown): v is Capture {
  return isObject(v) && typeof v.schema === 'number' && isObject(v.hits) && Array.isArray(v.hooks) && isObject(v.exit);
}
function isListOf(v: unknown, item: (x: unknown) => boolean): v is unknown[] {
  return Array.isArray(v) && v.length > 0 && item(v[0]) && item(v[v.length - 1]);
}

/** run.command: argv[0] is absolute once resolved against the cwd. */
function isCommand(v: unknown): v is string[] {
  return Array.isArray(v) && valueContext(v) !== undefined && v.every((a) => typeof a === 'string');
}

function commandView(command: readonly string[], ctx: RunContext): string[] {
  return command.map((arg) => (arg.startsWith('/') ? displayPath(arg, ctx.rootDir || undefined) : arg));
}

function contextOf(value: unknown, inherited?: RunContext): RunContext {
  return valueContext(value) ?? inherited ?? { normalize: DEFAULT_NORMALIZE, rootDir: realmRootDir() ?? '' };
}

function stackOf(frames: readonly Frame[], ctx: RunContext): string[] {
  return formatStack(frames, { ...ctx.normalize, rootDir: ctx.rootDir || undefined });
}

function hitView(hit: Hit, ctx: RunContext): Record<string, unknown> {
  return { hook: hit.hook, stack: stackOf(hit.frames, ctx) };
}

function crashView(crash: CrashInfo, ctx: RunContext): Record<string, unknown> {
  return { signal: crash.signal, faultAddress: crash.faultAddress ? MASKED_ADDRESS : null, stack: stackOf(crash.frames, ctx) };
}

function hookView(hook: HookResolution, ctx: RunContext): Record<string, unknown> {
  return asView({
    spec: hook.spec,
    resolved: hook.resolved.map((r) => ({ symbol: r.symbol, module: displayPath(r.module, ctx.rootDir || undefined), ...(r.inlined ? { inlined: true } : {}) })),
  });
}

/** A warning or other text with absolute paths shortened, addresses and pid lists masked. */
export function scrubText(text: string, rootDir?: string): string {
  return text
    .replace(/0x[0-9a-f]+/gi, MASKED_ADDRESS)
    .replace(/(?<![\w.~])\/[^\s:'"`(),;]+/g, (p) => displayPath(p, rootDir))
    .replace(/\b(killed:|pids?) \d+(, \d+)*/g, '$1 <pids>');
}

function captureView(capture: Capture, ctx: RunContext): Record<string, unknown> {
  const { durationMs: _unstable, ...stats } = capture.stats;
  return {
    backend: capture.backend,
    command: commandView(capture.command, ctx),
    exit: capture.exit,
    hooks: capture.hooks.map((h) => hookView(h, ctx)),
    // each distinct stack once with its true count (the hit rows hold only pids, tids and times)
    stacks: capture.stacks.map((st) => ({ hook: st.hook, count: st.count, ...(st.folded ? { folded: true } : {}), stack: stackOf(st.frames, ctx) })),
    crash: capture.crash ? crashView(capture.crash, ctx) : null,
    stats,
    warnings: (capture.warnings ?? []).map((w) => scrubText(w, ctx.rootDir || undefined)),
  };
}

/** One path per entry: `4× main` then `  > top` lines, so snapshot diffs go frame by frame. */
function printCallPaths(lines: readonly string[], config: Config, indentation: string): string {
  if (!lines.length) return 'UstackCallPaths []';
  if (config.min) return `UstackCallPaths [${lines.map((l) => JSON.stringify(l)).join(', ')}]`;
  const item = indentation + config.indent;
  const frame = item + config.indent;
  const out = lines.map((line) => {
    const { count, path } = parseCallPathLine(line);
    const [first, ...rest] = path;
    return [`${item}${count}× ${first ?? ''}`, ...rest.map((name) => `${frame}> ${name}`)].join('\n');
  });
  return `UstackCallPaths [\n${out.join('\n')}\n${indentation}]`;
}

/** Views are printed by the default printers: marked so that this plugin does not take them (a hook view still looks like a hook). */
const VIEW = Symbol('jest-ustack.view');

function asView<T extends object>(value: T): T {
  if (VIEW in value || isCallPathList(value)) return value;
  Object.defineProperty(value, VIEW, { value: true, enumerable: false });
  for (const item of Object.values(value)) if (typeof item === 'object' && item !== null) asView(item);
  return value;
}

function print(name: string, view: object, config: Config, indentation: string, depth: number, refs: Refs, printer: Printer): string {
  return `${name} ${printer(asView(view), config, indentation, depth, refs)}`;
}

const serializer: NewPlugin = {
  test(val: unknown): boolean {
    if (typeof val !== 'object' || val === null || VIEW in val) return false;
    return (
      isRun(val) ||
      isCallList(val) ||
      isMarkedCall(val) ||
      isCallPathList(val) ||
      isStackList(val) ||
      isCapture(val) ||
      isCommand(val) ||
      isHit(val) ||
      isFrame(val) ||
      isHookResolution(val) ||
      isListOf(val, isHit) ||
      isListOf(val, isFrame) ||
      isListOf(val, isHookResolution)
    );
  },
  serialize(val, config, indentation, depth, refs, printer): string {
    // run.calls() and the calls in it: pointers and durations masked
    if (isCallList(val)) return printer(val.map(callSnapshotView), config, indentation, depth, refs);
    if (isMarkedCall(val)) return printer(callSnapshotView(val), config, indentation, depth, refs);
    if (isRun(val)) return print('UstackRun', runSnapshotView(val), config, indentation, depth, refs, printer);
    if (isCallPathList(val)) return printCallPaths(val, config, indentation);
    if (isStackList(val)) return printer(val.map((s) => ({ hook: s.hook, count: s.count, frames: [...s.frames] })), config, indentation, depth, refs);
    const ctx = contextOf(val);
    if (isCapture(val)) return print('UstackCapture', captureView(val, ctx), config, indentation, depth, refs, printer);
    if (isCommand(val)) return print('UstackCommand', commandView(val, ctx), config, indentation, depth, refs, printer);
    if (isCrash(val)) return print('UstackCrash', crashView(val, ctx), config, indentation, depth, refs, printer);
    if (isHit(val)) return print('UstackHit', hitView(val, ctx), config, indentation, depth, refs, printer);
    if (isHookResolution(val)) return print('UstackHook', hookView(val, ctx), config, indentation, depth, refs, printer);
    if (isFrame(val)) return `UstackFrame ${printer(formatFrame(normalizeName(val.symbol, ctx.normalize), val, ctx.rootDir || undefined), config, indentation, depth, refs)}`;
    const list = val as unknown[];
    if (isListOf(list, isFrame)) return print('UstackFrames', stackOf(list as Frame[], ctx), config, indentation, depth, refs, printer);
    if (isListOf(list, isHit)) return print('UstackHits', (list as Hit[]).map((h) => (isCrash(h) ? crashView(h, ctx) : hitView(h, ctx))), config, indentation, depth, refs, printer);
    return print('UstackHooks', (list as HookResolution[]).map((h) => hookView(h, ctx)), config, indentation, depth, refs, printer);
  },
};

export default serializer;
export const { test, serialize } = serializer;
