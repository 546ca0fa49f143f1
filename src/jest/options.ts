/**
 * Options of the jest-ustack environment: `testEnvironmentOptions.ustack` in the Jest config,
 * overridden per test file by docblock pragmas (`@ustack-backend stap`, `@ustack-hooks a,b`).
 */
import type { NormalizeOptions } from '../callpath/normalize';
import { InvalidTraceOptionsError } from '../errors';
import type { BackendName } from '../record-options';

export interface UstackEnvironmentOptions {
  /** Backend for every trace() of the project (default 'ptrace'). Pragma: `@ustack-backend stap`. */
  backend?: BackendName;
  /**
   * Default hooks of every trace() call that passes no `hooks` option (a call's own `hooks`,
   * even `[]`, replaces them). Pragma: `@ustack-hooks a,b` adds hooks for one file.
   */
  hooks?: string[];
  /** Frames per stack (default 1024, stap 64; a deeper stack is marked truncated). Pragma: `@ustack-max-frames N`. */
  maxFrames?: number;
  /** Stacks kept per hook (default unlimited). Pragma: `@ustack-max-hits N`. */
  maxHits?: number;
  /**
   * Default time limit of one trace in ms. It is always capped at the time left in the running
   * test minus `timeoutMargin`, so a hanging program fails the test with its stacks instead of
   * Jest's bare timeout. Pragma: `@ustack-timeout MS`.
   */
  timeout?: number;
  /** Time kept free before Jest's own test timeout (default 1000 ms). */
  timeoutMargin?: number;
  /** Call-path normalization switches (README "Normalization"), all true by default. */
  normalize?: NormalizeOptions;
  /**
   * Start the ptrace tracer (worker thread, libc's symbols and unwind tables, the native helper)
   * in the environment's setup, so the first trace() of a Jest worker does not spend the test's
   * time on it (default true).
   */
  warmUp?: boolean;
  /** Record parameters at every hook (trace()'s `args` default). Pragma: `@ustack-args`. */
  args?: boolean;
  /** Record returns and durations at every hook (trace()'s `returns` default). Pragma: `@ustack-returns`. */
  returns?: boolean;
  /**
   * Debug directories searched for separate debug files (gdb's debug-file-directory), relative to
   * the root dir. Default: USTACK_DEBUG_DIRS (colon-separated), else /usr/lib/debug. README "Debug info".
   */
  debugDirs?: string[];
}

const BACKENDS: BackendName[] = ['ptrace', 'stap', 'auto'];
const NORMALIZE_KEYS = ['startAtMain', 'dropRuntimeFrames', 'inlineFrames', 'stripCloneSuffixes', 'stripRustHash', 'stripCppParams', 'stripTemplateArgs'];
/** Normalize options that take one of a few words instead of true/false. */
const NORMALIZE_CHOICES: Record<string, string[]> = { libraryFrames: ['collapse', 'all'], phase: ['main', 'all'] };
const OPTION_KEYS = ['backend', 'hooks', 'maxFrames', 'maxHits', 'timeout', 'timeoutMargin', 'normalize', 'warmUp', 'args', 'returns', 'debugDirs'];
const PRAGMAS: Record<string, keyof UstackEnvironmentOptions> = {
  'ustack-backend': 'backend',
  'ustack-hooks': 'hooks',
  'ustack-max-frames': 'maxFrames',
  'ustack-max-hits': 'maxHits',
  'ustack-timeout': 'timeout',
  'ustack-args': 'args',
  'ustack-returns': 'returns',
};

/** `args` / `returns`: true or false; a bare pragma (`@ustack-args`) means true. */
export function checkSwitch(where: string, name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === false) return value;
  if (value === '' || value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidTraceOptionsError(where, `${name} must be true or false, got ${JSON.stringify(value)}`);
}

function checkPositive(where: string, name: string, value: unknown, allowZero = false): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || (!allowZero && n === 0) || Math.floor(n) !== n) {
    throw new InvalidTraceOptionsError(where, `${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function checkBackend(where: string, value: unknown): BackendName | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !BACKENDS.includes(value as BackendName)) {
    throw new InvalidTraceOptionsError(where, `backend must be one of ${BACKENDS.map((b) => `"${b}"`).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as BackendName;
}

export function checkHooks(where: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((h) => typeof h !== 'string' || h.trim() === '')) {
    throw new InvalidTraceOptionsError(where, `hooks must be an array of hook specs such as ["parse_*", "malloc@libc.so.6"], got ${JSON.stringify(value)}`);
  }
  return value.map((h: string) => h.trim());
}

export function checkNormalize(where: string, value: unknown): NormalizeOptions | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidTraceOptionsError(where, `normalize must be an object of switches (${NORMALIZE_KEYS.join(', ')})`);
  }
  const out: Record<string, boolean | string> = {};
  for (const [key, v] of Object.entries(value)) {
    const choices = NORMALIZE_CHOICES[key];
    if (choices) {
      if (!choices.includes(v as string)) throw new InvalidTraceOptionsError(where, `normalize.${key} must be one of ${choices.map((c) => `"${c}"`).join(', ')}, got ${JSON.stringify(v)}`);
      out[key] = v as string;
      continue;
    }
    if (!NORMALIZE_KEYS.includes(key)) throw new InvalidTraceOptionsError(where, `unknown normalize switch "${key}" (known: ${[...NORMALIZE_KEYS, ...Object.keys(NORMALIZE_CHOICES)].join(', ')})`);
    if (typeof v !== 'boolean') throw new InvalidTraceOptionsError(where, `normalize.${key} must be true or false`);
    out[key] = v;
  }
  return out as NormalizeOptions;
}

export function checkCommonNumbers(where: string, value: { maxFrames?: unknown; maxHits?: unknown; timeout?: unknown }) {
  return {
    maxFrames: checkPositive(where, 'maxFrames', value.maxFrames),
    maxHits: checkPositive(where, 'maxHits', value.maxHits),
    timeout: checkPositive(where, 'timeout', value.timeout),
  };
}

/** Validates `testEnvironmentOptions.ustack`. */
export function parseEnvironmentOptions(raw: unknown): UstackEnvironmentOptions {
  const where = 'testEnvironmentOptions.ustack';
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidTraceOptionsError(where, 'expected an object');
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.includes(key)) throw new InvalidTraceOptionsError(where, `unknown option "${key}" (known: ${OPTION_KEYS.join(', ')})`);
  }
  if (o.warmUp !== undefined && typeof o.warmUp !== 'boolean') throw new InvalidTraceOptionsError(where, `warmUp must be true or false, got ${JSON.stringify(o.warmUp)}`);
  return {
    backend: checkBackend(where, o.backend),
    hooks: checkHooks(where, o.hooks),
    ...checkCommonNumbers(where, o),
    timeoutMargin: checkPositive(where, 'timeoutMargin', o.timeoutMargin, true),
    normalize: checkNormalize(where, o.normalize),
    ...(o.warmUp !== undefined ? { warmUp: o.warmUp as boolean } : {}),
    ...(o.args !== undefined ? { args: checkSwitch(where, 'args', o.args) } : {}),
    ...(o.returns !== undefined ? { returns: checkSwitch(where, 'returns', o.returns) } : {}),
    ...(o.debugDirs !== undefined ? { debugDirs: checkDebugDirs(where, o.debugDirs) } : {}),
  };
}

function checkDebugDirs(where: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((d) => typeof d !== 'string' || d === '')) {
    throw new InvalidTraceOptionsError(where, `debugDirs must be an array of folder paths, got ${JSON.stringify(value)}`);
  }
  return value as string[];
}

/** Where a file-level hook came from, for error messages. */
export type HookOrigin = 'testEnvironmentOptions.ustack.hooks' | 'the @ustack-hooks docblock pragma' | "this trace() call's hooks option";

/** The origin of each default hook of a file: the project config or the file's pragma. */
export function fileHookOrigins(configured: UstackEnvironmentOptions, effective: UstackEnvironmentOptions): Map<string, HookOrigin> {
  const origins = new Map<string, HookOrigin>();
  for (const h of effective.hooks ?? []) origins.set(h, configured.hooks?.includes(h) ? 'testEnvironmentOptions.ustack.hooks' : 'the @ustack-hooks docblock pragma');
  return origins;
}

/** Applies `@ustack-*` docblock pragmas of one test file over the configured options. */
export function applyPragmas(options: UstackEnvironmentOptions, pragmas: Record<string, string | string[]>): UstackEnvironmentOptions {
  const out: UstackEnvironmentOptions = { ...options };
  for (const [name, raw] of Object.entries(pragmas)) {
    if (!name.startsWith('ustack-')) continue;
    const key = PRAGMAS[name];
    const where = `the @${name} docblock pragma`;
    if (!key) throw new InvalidTraceOptionsError(where, `unknown pragma (known: ${Object.keys(PRAGMAS).map((p) => '@' + p).join(', ')})`);
    const values = (Array.isArray(raw) ? raw : [raw]).map((v) => String(v).trim());
    if (key === 'hooks') {
      const hooks = values.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
      if (!hooks.length) throw new InvalidTraceOptionsError(where, 'give one or more hook specs, e.g. @ustack-hooks parse_*,arena_alloc');
      out.hooks = [...(options.hooks ?? []), ...hooks];
    } else if (key === 'backend') out.backend = checkBackend(where, values[values.length - 1]);
    else if (key === 'args' || key === 'returns') out[key] = checkSwitch(where, key, values[values.length - 1]);
    else out[key] = checkPositive(where, key, values[values.length - 1]) as never;
  }
  return out;
}
