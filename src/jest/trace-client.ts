/**
 * trace(): the test-side half. Runs inside Jest's sandbox, so it imports nothing but our pure
 * modules; the tracer itself lives in the environment, reached through a bridge function.
 */
import type { NormalizeOptions } from '../callpath/normalize';
import { InvalidTraceOptionsError, NoTraceEnvironmentError, TraceTimeoutError, UstackError } from '../errors';
import type { BackendName } from '../record-options';
import { BRIDGE_KEY, type Bridge, type TraceRequestOptions, type TraceResponse, type TraceSuccess } from './protocol';
import { createRun, runCallPaths, type Run } from './run';
import { formatMergedCallPath } from '../callpath/merge';
import { checkBackend, checkHooks, checkNormalize } from './options';

export interface TraceOptions {
  /**
   * Functions to hook: "func", "func@libc.so.6", globs "parse_*", C++/Rust names "ns::Klass::method".
   * Given, they replace the file's default hooks (`testEnvironmentOptions.ustack.hooks` and
   * `@ustack-hooks`); `[]` hooks nothing, so only a crash is recorded. Omitted: the defaults.
   */
  hooks?: string[];
  /** 'ptrace' (default), 'stap' or 'auto'; default from the environment options or `@ustack-backend`. */
  backend?: BackendName;
  /** Working directory, relative to the Jest rootDir; default the rootDir. A relative argv[0] ("./build/app") is resolved against it. */
  cwd?: string;
  /** Variables merged over the environment's; `undefined` removes one. */
  env?: Record<string, string | undefined>;
  /** Text or bytes for the program's stdin, or 'inherit' / 'ignore' (default). */
  stdin?: string | Uint8Array | 'inherit' | 'ignore';
  /**
   * Time limit in ms. Given here, the run comes back when it expires (program killed,
   * `run.timedOut === true`) and the test decides. Without it the limit is the environment's
   * `timeout` option capped at the time left in the test minus a margin (1000 ms, option `timeoutMargin`), and expiry
   * rejects with a TraceTimeoutError listing the call paths captured so far, so a hanging program
   * fails the test clearly instead of hitting Jest's bare timeout.
   */
  timeout?: number;
  /** Hit records kept per hook (default: all); further hits are still counted in callPaths(), stacks() and toHaveHit. */
  maxHits?: number;
  /** Frames per stack (default 1024, stap 64; a deeper stack is marked truncated). */
  maxFrames?: number;
  /** Call-path normalization switches for this run's callPaths()/stacks() (default: all on). */
  normalize?: NormalizeOptions;
  /** Record each hooked function's parameters at entry (run.calls(), toHaveCalled `with`). ptrace backend. */
  args?: boolean;
  /** Also record each hooked call's return value and duration (toHaveCalled `returned`). ptrace backend. */
  returns?: boolean;
}

const OPTION_KEYS = ['hooks', 'backend', 'cwd', 'env', 'stdin', 'timeout', 'maxHits', 'maxFrames', 'normalize', 'args', 'returns'];

function requestOptions(options: TraceOptions): TraceRequestOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidTraceOptionsError('trace()', 'the second argument must be an options object');
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new InvalidTraceOptionsError('trace()', `unknown option "${key}" (known: ${OPTION_KEYS.join(', ')})`);
  }
  const where = 'trace()';
  const out: TraceRequestOptions = {};
  if (options.hooks !== undefined) out.hooks = checkHooks(where, options.hooks);
  if (options.backend !== undefined) out.backend = checkBackend(where, options.backend);
  if (options.cwd !== undefined) {
    if (typeof options.cwd !== 'string' || options.cwd === '') throw new InvalidTraceOptionsError(where, `cwd must be a folder path (a non-empty string), got ${JSON.stringify(options.cwd)}`);
    out.cwd = options.cwd;
  }
  if (options.env !== undefined) {
    if (typeof options.env !== 'object' || options.env === null || Array.isArray(options.env)) {
      throw new InvalidTraceOptionsError(where, `env must be an object of variables such as { LANG: "C" }, got ${JSON.stringify(options.env)}`);
    }
    out.env = {};
    for (const [k, v] of Object.entries(options.env)) {
      if (v !== undefined && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new InvalidTraceOptionsError(where, `env.${k} must be a string (or undefined to remove it), got ${JSON.stringify(v) ?? typeof v}`);
      }
      out.env[k] = v === undefined ? null : String(v);
    }
  }
  const stdin = options.stdin;
  if (typeof stdin === 'string') out.stdin = stdin === 'inherit' || stdin === 'ignore' ? stdin : { text: stdin };
  else if (stdin !== undefined && ArrayBuffer.isView(stdin)) out.stdin = { base64: Buffer.from(stdin.buffer, stdin.byteOffset, stdin.byteLength).toString('base64') };
  else if (stdin !== undefined) throw new InvalidTraceOptionsError('trace()', 'stdin must be a string, a Buffer/Uint8Array, "inherit" or "ignore"');
  for (const key of ['timeout', 'maxHits', 'maxFrames'] as const) {
    const value: unknown = options[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new InvalidTraceOptionsError(where, `${key} must be a positive integer${key === 'timeout' ? ' (milliseconds)' : ''}, got ${JSON.stringify(value) ?? typeof value}`);
    }
    out[key] = value;
  }
  if (options.normalize !== undefined) out.normalize = checkNormalize(where, options.normalize);
  // parameters and returns (issue 13)
  for (const key of ['args', 'returns'] as const) {
    if (options[key] === undefined) continue;
    if (typeof options[key] !== 'boolean') throw new InvalidTraceOptionsError('trace()', `${key} must be true or false`);
    out[key] = options[key];
  }
  return out;
}

function timeoutMessage(run: Run, response: TraceSuccess): string {
  const { ms, source } = response.timeout;
  const why =
    source === 'test'
      ? `the time left in this test minus a safety margin`
      : `the \`timeout\` option of the jest-ustack environment`;
  const paths = runCallPaths(run).map((p) => `  ${formatMergedCallPath(p)}`);
  const hooks = run.capture.hooks.map((h) => h.spec);
  const lines = [
    `jest-ustack: ${JSON.stringify(run.command.join(' '))} was still running after ${ms} ms (${why}) and was killed.`,
    `Pass { timeout } to trace() to get the partial run back instead, or give the test more time (a third argument to test(), or testTimeout).`,
    '',
    paths.length
      ? `Call paths captured before the kill (hooks: ${hooks.join(', ')}):\n${paths.join('\n')}`
      : hooks.length
        ? `No hook was hit before the kill (hooks: ${hooks.join(', ')}).`
        : 'No hooks were set, so no stacks were captured.',
  ];
  const tail = response.stderr.trimEnd().split('\n').slice(-5).join('\n');
  if (tail) lines.push('', `Last lines of stderr:\n${tail}`);
  return lines.join('\n');
}

function errorFrom(response: Extract<TraceResponse, { ok: false }>): Error {
  const error = new UstackError(response.error.code ?? 'USTACK_TRACE_FAILED', response.error.message);
  error.name = response.error.name;
  return error;
}

/** Points the error's stack at the test that called trace(), not at this module. */
function fromCaller(error: Error): Error {
  Error.captureStackTrace?.(error, trace);
  return error;
}

/**
 * Runs `argv` under hooks on native functions and resolves to the run: exit status, output,
 * every hit's stack, a crash stack, `callPaths()` and `stacks()`. Needs the jest-ustack test
 * environment (the preset sets it); the global `trace` is the same function.
 *
 * @example
 * const run = await trace(['./build/cfgtool', 'parse', 'a.cfg'], { hooks: ['arena_alloc'] });
 * expect(run).toHaveCallPath('main > cfg_parse > ** > arena_alloc');
 */
export async function trace(argv: string[], options: TraceOptions = {}): Promise<Run> {
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string' && typeof a !== 'number')) {
    throw new InvalidTraceOptionsError('trace()', 'the first argument must be a non-empty array of strings: [program, ...args]');
  }
  const request = { argv: argv.map(String), options: requestOptions(options) };
  const bridge = (globalThis as unknown as Record<symbol, Bridge | undefined>)[BRIDGE_KEY];
  if (typeof bridge !== 'function') throw new NoTraceEnvironmentError();
  const response = JSON.parse(await bridge(JSON.stringify(request))) as TraceResponse;
  if (!response.ok) throw fromCaller(errorFrom(response));
  const run = createRun(response.capture, response.stdout, response.stderr, { normalize: response.normalize, rootDir: response.rootDir });
  if (run.timedOut && response.timeout.source !== 'trace' && !response.abortedByTestEnd) {
    throw fromCaller(new TraceTimeoutError(timeoutMessage(run, response)));
  }
  return run;
}
