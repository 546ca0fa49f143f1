/**
 * Where separate debug files are looked for: the one place that lists the debug directories
 * (gdb's `debug-file-directory`) and the debuginfod settings. The tracer runs in a worker
 * thread with its own copy of this module, so the main thread computes the settings
 * (debugSearchFrom) and every trace request carries them (configureDebugSearch).
 */
import * as os from 'node:os';
import * as path from 'node:path';

export const DEFAULT_DEBUG_DIRS: readonly string[] = ['/usr/lib/debug'];

export interface DebuginfodSettings {
  /** Servers from DEBUGINFOD_URLS (space-separated), without a trailing slash. */
  urls: string[];
  /** DEBUGINFOD_CACHE_PATH, default ~/.cache/debuginfod_client (shared with gdb, perf, stap). */
  cachePath: string;
  /** DEBUGINFOD_TIMEOUT in seconds (default 90): a server that sends nothing for this long is given up. */
  timeoutSec: number;
  /** DEBUGINFOD_PROGRESS set: report every download, not only long ones. */
  progress: boolean;
}

export interface DebugSearch {
  /** Debug directories, searched in order: build-id paths, then debuglink paths under them. */
  dirs: string[];
  /** null when DEBUGINFOD_URLS is unset or empty. */
  debuginfod: DebuginfodSettings | null;
  /**
   * The setting that chooses `dirs` where the caller is, as messages name it: `--debug-dir` (CLI),
   * `testEnvironmentOptions.ustack.debugDirs` (Jest). Default: record()'s `debugDirs` option.
   */
  dirsOption?: string;
}

/** "--debug-dir or USTACK_DEBUG_DIRS": how to change the debug directories, for messages. */
export function debugDirsSetting(search: DebugSearch): string {
  return `${search.dirsOption ?? "record()'s debugDirs option"} or USTACK_DEBUG_DIRS`;
}

/**
 * The settings for a run: `debugDirs` (option, CLI --debug-dir) wins over USTACK_DEBUG_DIRS
 * (colon-separated, like gdb's debug-file-directory), which wins over /usr/lib/debug.
 */
export function debugSearchFrom(env: Record<string, string | undefined> = process.env, debugDirs?: readonly string[], dirsOption?: string): DebugSearch {
  let dirs: string[];
  if (debugDirs && debugDirs.length) dirs = [...debugDirs];
  else if (env.USTACK_DEBUG_DIRS !== undefined) dirs = env.USTACK_DEBUG_DIRS.split(':').filter(Boolean);
  else dirs = [...DEFAULT_DEBUG_DIRS];
  dirs = dirs.map((d) => path.resolve(d));
  const urls = (env.DEBUGINFOD_URLS ?? '').split(/\s+/).filter(Boolean).map((u) => u.replace(/\/+$/, ''));
  let debuginfod: DebuginfodSettings | null = null;
  if (urls.length) {
    const home = env.HOME || os.homedir();
    const xdg = env.XDG_CACHE_HOME;
    const cachePath = env.DEBUGINFOD_CACHE_PATH || (xdg ? path.join(xdg, 'debuginfod_client') : path.join(home, '.cache', 'debuginfod_client'));
    const timeout = Number(env.DEBUGINFOD_TIMEOUT);
    debuginfod = {
      urls,
      cachePath: path.resolve(cachePath),
      timeoutSec: Number.isFinite(timeout) && timeout > 0 ? timeout : 90,
      progress: env.DEBUGINFOD_PROGRESS !== undefined && env.DEBUGINFOD_PROGRESS !== '' && env.DEBUGINFOD_PROGRESS !== '0',
    };
  }
  return { dirs, debuginfod, ...(dirsOption ? { dirsOption } : {}) };
}

const ENV_KEYS = ['USTACK_DEBUG_DIRS', 'DEBUGINFOD_URLS', 'DEBUGINFOD_CACHE_PATH', 'DEBUGINFOD_TIMEOUT', 'DEBUGINFOD_PROGRESS', 'XDG_CACHE_HOME', 'HOME'];
let current: DebugSearch = debugSearchFrom();
let currentJson = JSON.stringify(current);
/** Until a trace request configures it, the settings follow this process's environment. */
let configured = false;
let envKey = envKeyOf();
let generation = 0;
let configGeneration = 0;

function envKeyOf(): string {
  return ENV_KEYS.map((k) => process.env[k] ?? '\0').join('\n');
}

/** The settings in force in this thread. */
export function debugSearch(): DebugSearch {
  if (!configured) {
    const key = envKeyOf();
    if (key !== envKey) {
      envKey = key;
      put(debugSearchFrom());
    }
  }
  return current;
}

/** Puts `search` in force (a trace request's); caches of "no debug file" answers are dropped when it differs. */
export function configureDebugSearch(search: DebugSearch): void {
  configured = true;
  put(search);
}

function put(search: DebugSearch): void {
  const json = JSON.stringify(search);
  if (json === currentJson) return;
  current = search;
  currentJson = json;
  generation++;
  configGeneration++;
}

/** Called when new debug files may have appeared (a debuginfod download, a decoded MiniDebugInfo). */
export function debugFilesChanged(): void {
  generation++;
}

/** Bumped by every change above: a cached negative answer of an older generation is asked again. */
export function debugGeneration(): number {
  return generation;
}

/** Bumped when the settings change: then even a found debug file is looked for again (it may be outside the new directories). */
export function debugConfigGeneration(): number {
  return configGeneration;
}
