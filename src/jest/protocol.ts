/**
 * What crosses the bridge between Jest's test sandbox (trace()) and the environment that owns
 * the tracer. Everything is passed as JSON text so each side builds values in its own realm.
 */
import type { Capture } from '../capture/types';
import type { NormalizeOptions } from '../callpath/normalize';
import type { BackendName } from '../record-options';

/** Global (symbol-keyed) property holding the bridge function the environment installs. */
export const BRIDGE_KEY = Symbol.for('jest-ustack.bridge');
/** Non-enumerable marker on run objects made by trace(). */
export const RUN_MARKER = Symbol.for('jest-ustack.run');
/** Non-enumerable marker on the lists returned by run.callPaths(). */
export const CALL_PATHS_MARKER = Symbol.for('jest-ustack.callpaths');
/** Non-enumerable marker on the lists returned by run.stacks(). */
export const STACKS_MARKER = Symbol.for('jest-ustack.stacks');
/**
 * The run context (rootDir, normalize) of raw values a run hands out: a non-enumerable property of
 * run.capture, run.hits, run.crash and capture.hooks, and a property of the test file's global
 * (rootDir only) for values found without one, such as a single hit or frame.
 */
export const CONTEXT_KEY = Symbol.for('jest-ustack.context');

export interface TraceRequestOptions {
  hooks?: string[];
  backend?: BackendName;
  cwd?: string;
  env?: Record<string, string | null>;
  stdin?: { text: string } | { base64: string } | 'inherit' | 'ignore';
  timeout?: number;
  maxHits?: number;
  maxFrames?: number;
  normalize?: NormalizeOptions;
  args?: boolean;
  returns?: boolean;
}

export interface TraceRequest {
  argv: string[];
  options: TraceRequestOptions;
}

/** Where the time limit of one trace came from. */
export type TimeoutSource = 'trace' | 'environment' | 'test';

export interface TraceSuccess {
  ok: true;
  capture: Capture;
  stdout: string;
  stderr: string;
  /** Jest rootDir: files under it print relative to it. */
  rootDir: string;
  normalize: NormalizeOptions;
  timeout: { ms: number; source: TimeoutSource };
  /** The test ended (e.g. Jest's own timeout) while this trace ran, so it was killed. */
  abortedByTestEnd: boolean;
}

export interface TraceFailure {
  ok: false;
  error: { name: string; code: string | null; message: string };
}

export type TraceResponse = TraceSuccess | TraceFailure;

export type Bridge = (requestJson: string) => Promise<string>;
