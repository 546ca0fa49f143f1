/**
 * run.calls(hook): each recorded call of a hooked function with its arguments, return value,
 * duration and normalized call path (issue 13), as plain values a test can assert on:
 * `char *`, `&str` and `std::string` arguments are their text (truncated text ends with "…"),
 * pointers stay hex strings, library classes stay `{ summary, children }`. Pure: reads the run's capture only.
 */
import type { ArgValue, Hit, NoReturnReason } from '../capture/types';
import { isCString, isText } from '../capture/value-format';
import { CALL_PATH_SEPARATOR, TRUNCATED_STEP, inPhase } from '../callpath/merge';
import { callPathOf, normalizeFrames, type NormalizeOptions } from '../callpath/normalize';
import { CallPathPattern } from '../callpath/pattern';

/** A value as tests see it: ArgValue with strings in place of `char *` objects. */
export type CallValue = number | string | boolean | null | CallValue[] | { [field: string]: CallValue };

export interface Call {
  /** The hook spec that fired. */
  hook: string;
  /** Parameters at entry by name ({} without `args: true`). */
  args: Record<string, CallValue>;
  /** The return value (null for void); undefined when the call did not return or returns were not recorded. */
  return: CallValue | undefined;
  /** True when the call was seen returning. */
  returned: boolean;
  /** Why it did not return (exception, longjmp, exit, crash, ...), when recorded with `returns: true`. */
  noReturn?: NoReturnReason;
  /** Entry to return in nanoseconds, or null. */
  durationNs: number | null;
  /** The normalized call path, caller first: `main > cfg_parse > parse_array > xalloc`. */
  path: string;
}

/**
 * Non-enumerable marker on each call run.calls() returns (and on its list): the serializer masks
 * pointers and durations in a marked call wherever it is found, so `calls[0]`, `.slice()`,
 * `.map(c => c)` print as the whole list does.
 */
export const CALLS_MARKER = Symbol.for('jest-ustack.calls');

function markCall<T extends object>(value: T): T {
  Object.defineProperty(value, CALLS_MARKER, { value: true, enumerable: false });
  return value;
}

export function plainValue(v: ArgValue): CallValue {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(plainValue);
  if (isCString(v) || isText(v)) return v.truncated ? v.string + '…' : v.string;
  const out: Record<string, CallValue> = {};
  for (const [k, x] of Object.entries(v)) out[k] = plainValue(x as ArgValue);
  return out;
}

/** Hits of `hook`: the spec exactly as passed to trace(), or a name/glob matching the hooked function (frame 0). */
export function hitsOfHook(hits: readonly Hit[], hook: string | undefined, normalize: NormalizeOptions): Hit[] {
  if (hook === undefined) return [...hits];
  const token = new CallPathPattern(hook).tokens[0];
  return hits.filter((hit) => {
    if (hit.hook === hook) return true;
    const frames = normalizeFrames(hit.frames.slice(0, 1), { ...normalize, startAtMain: false, libraryFrames: 'all' });
    return frames.length > 0 && CallPathPattern.tokenAccepts(token, frames[0].name);
  });
}

export function callOf(hit: Hit, normalize: NormalizeOptions): Call {
  const args: Record<string, CallValue> = {};
  for (const [k, v] of Object.entries(hit.args ?? {})) args[k] = plainValue(v);
  const call: Call = {
    hook: hit.hook,
    args,
    return: hit.return ? plainValue(hit.return.value) : undefined,
    returned: !!hit.return,
    durationNs: hit.return ? hit.return.durationNs : null,
    path: (hit.truncated ? [TRUNCATED_STEP, ...callPathOf(hit.frames, normalize)] : callPathOf(hit.frames, normalize)).join(CALL_PATH_SEPARATOR),
  };
  if (hit.noReturn) call.noReturn = hit.noReturn;
  return call;
}

export function callsOf(hits: readonly Hit[], hook: string | undefined, normalize: NormalizeOptions, masked = true): Call[] {
  // the program's own run only (normalize.phase, as call paths and toHaveHit count)
  const list = hitsOfHook(hits, hook, normalize).filter((h) => inPhase(h, normalize)).map((h) => callOf(h, normalize));
  if (masked) for (const item of [list, ...list]) markCall(item);
  return list;
}

/** A call from run.calls() (not `{ raw: true }`). */
export function isMarkedCall(value: unknown): value is Call {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && CALLS_MARKER in value;
}

/** The list run.calls() returned (a list made of its calls by slice or map prints item by item, the same). */
export function isCallList(value: unknown): value is Call[] {
  return Array.isArray(value) && CALLS_MARKER in value;
}

const POINTER = /^0x[0-9a-f]+$/;

/** A value with pointers replaced by "<pointer>" ("0x0" stays: NULL is stable), for snapshots. */
export function maskPointers(v: CallValue | undefined): CallValue | undefined {
  if (typeof v === 'string') return POINTER.test(v) && v !== '0x0' ? '<pointer>' : v;
  if (Array.isArray(v)) return v.map((x) => maskPointers(x) as CallValue);
  if (v && typeof v === 'object') {
    const out: Record<string, CallValue> = {};
    for (const [k, x] of Object.entries(v)) out[k] = maskPointers(x) as CallValue;
    return out;
  }
  return v;
}

/** The snapshot view of one call: its own fields, with pointers and a duration masked. */
export function callSnapshotView(c: Call): Record<string, unknown> {
  const view: Record<string, unknown> = { hook: c.hook, path: c.path, args: maskPointers(c.args) };
  if (c.returned) view.return = maskPointers(c.return);
  view.returned = c.returned;
  if (c.noReturn) view.noReturn = c.noReturn;
  if (c.durationNs !== null) view.durationNs = '<duration>';
  return view;
}
