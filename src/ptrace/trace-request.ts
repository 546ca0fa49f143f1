/** Messages between the main thread and the tracer worker (structured-clone safe). */
import type { Capture } from '../capture/types';
import type { SpawnRequest } from './spawn';
import type { DebugSearch } from '../elf/debug-search';

/** What to start (SpawnRequest) and how to trace it. */
export interface TraceRequest extends SpawnRequest {
  id: number;
  hooks: string[];
  maxFrames: number;
  /** Hit records kept per hook (Infinity: every hit); counts stay exact. */
  maxHits: number;
  /** Distinct stacks stored before further ones are folded (default 10,000). */
  maxStacks?: number;
  followChildren: boolean;
  pinCpu: boolean;
  /** Parameters at entry / returns with values and durations (issue 13). */
  args?: boolean;
  returns?: boolean;
  /** false: every hit goes through TypeScript (the native loop saves none; tests compare both). */
  batch?: boolean;
  /** Debug directories and debuginfod settings of this run (the worker thread has its own copy of debug-search.ts). */
  debug?: DebugSearch;
  /** Build-ids whose download failed before the run: not asked again during it. */
  debugFailed?: string[];
  /** Int32Array over a SharedArrayBuffer: [0] set to 1 by the main thread to stop the run. */
  stopFlag: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'pid'; id: number; pid: number }
  | { type: 'done'; id: number; capture: Capture }
  | { type: 'error'; id: number; error: { name: string; code?: string; message: string; exitCode?: number; stack?: string; suggestions?: string[] } };
