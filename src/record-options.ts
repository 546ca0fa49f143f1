/** Options and result of one traced run, shared by both backends, the CLI and the Jest environment. */
import type { Capture } from './capture/types';

/**
 * Frames per stack by default. gdb has no limit; the cost is per frame (about 1 µs to unwind and
 * symbolize one, measured on a 1000-deep recursion, bench/results.md), so only deep stacks pay it,
 * and a stack deeper than this is cut and marked `truncated` instead of silently losing `main`.
 */
export const DEFAULT_MAX_FRAMES = 1024;

export type BackendName = 'ptrace' | 'stap' | 'auto';

export interface RecordOptions {
  /** Hook specs: "func", "func@libc.so.6", "parse_*", "ns::Klass::method". May be empty (crash catcher). */
  hooks: string[];
  /** Default 'ptrace'. 'auto' picks stap only when `ustack doctor` says it can run. */
  backend?: BackendName;
  cwd?: string;
  /** Merged over process.env; a value of undefined removes the variable. */
  env?: Record<string, string | undefined>;
  /** Data for the program's stdin, or 'inherit' / 'ignore' (default 'ignore'). */
  stdin?: string | Buffer | 'inherit' | 'ignore';
  /** 'pipe' (default): collected into the result; 'inherit': passed through untouched (CLI). */
  stdout?: 'pipe' | 'inherit';
  stderr?: 'pipe' | 'inherit';
  /** Milliseconds; on expiry the whole traced tree is killed and the capture so far returned (stats.timedOut). */
  timeout?: number;
  /**
   * Per hook: keep the first N hits as records (default: every hit). Counts in `capture.stacks`,
   * call paths and reports stay exact; hits past N only count in stats.dropped as not kept.
   */
  maxHits?: number;
  /** Distinct stacks stored (default 10,000); further ones are folded per hooked function (stats.foldedStacks). */
  maxStacks?: number;
  /** Frames per stack (default DEFAULT_MAX_FRAMES, 1024; the stap backend: 64). A deeper stack is cut and marked `truncated`. */
  maxFrames?: number;
  /** Trace forked/cloned children and exec'ed images (default true). */
  followChildren?: boolean;
  /** Record each hooked function's parameters at entry (`--args`; ptrace backend). */
  args?: boolean;
  /** Also record each hooked call's return value and duration (`--returns`; ptrace backend). */
  returns?: boolean;
  /**
   * Debug directories searched for separate debug files (gdb's debug-file-directory), in order.
   * Default: USTACK_DEBUG_DIRS (colon-separated), else /usr/lib/debug. README "Debug info".
   */
  debugDirs?: string[];
  /** How messages name the setting debugDirs comes from (the CLI: `--debug-dir`; Jest: its option). Default: record()'s `debugDirs` option. */
  debugDirsOption?: string;
  /** Progress lines of long debuginfod downloads (the CLI prints them on stderr). Default: none. */
  onDebugProgress?: (line: string) => void;
  /** Aborting kills the traced tree; the promise still resolves with what was captured. */
  signal?: AbortSignal;
}

export interface RecordResult {
  capture: Capture;
  /** The program's output when stdout/stderr are 'pipe', else ''. */
  stdout: string;
  stderr: string;
}
