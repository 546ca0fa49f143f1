/**
 * Gets the debug files lookups will want, before they want them: debuginfod downloads (for
 * modules with no debug file found locally) and decoded MiniDebugInfo. Lookups themselves
 * (debuginfo.ts) are synchronous and only read files, because the tracer is: so
 * - before a run, the main thread prepares the program and the libraries it needs (DT_NEEDED,
 *   as the dynamic linker resolves them: `ld.so --list`), in parallel;
 * - during and after a run, modules nobody prepared (dlopen'ed libraries) are prepared by a
 *   short-lived helper process the tracer waits for (prepareDebugInfoSync), once per module.
 */
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { debugFilesChanged, debugSearch, type DebugSearch } from './debug-search';
import { DebuginfodClient, cachedDebuginfod, type DownloadProgress } from './debuginfod-client';
import { findSeparateDebugFile } from './debuginfo';
import { ElfFile, openElfCached } from './elf-file';
import { decodeMiniDebugInfo, hasMiniDebugInfo, openMiniDebugInfo } from './minidebuginfo';

export interface PrepareReport {
  fetched: { module: string; buildId: string; file: string; server: string | null; bytes: number }[];
  /** Every server said it has no debug info for this build-id. */
  missing: { module: string; buildId: string }[];
  /** No server could answer (down, timeout, wrong build-id served). */
  failed: { module: string; buildId: string; detail: string }[];
  /** Decoded MiniDebugInfo. */
  decoded: string[];
  errors: string[];
}

/** What a module still needs: a debuginfod download, a MiniDebugInfo decode, or nothing. */
export function debugWork(elf: ElfFile, search: DebugSearch = debugSearch()): { fetch: boolean; decode: boolean } {
  // the cheap questions first: this runs for every module at every library load
  const mayFetch = search.debuginfod !== null && elf.buildId !== null && !elf.hasDebugInfo && !recentlyFailed(search, elf.buildId) && cachedDebuginfod(search.debuginfod, elf.buildId, 'debuginfo') === null;
  const mayDecode = !elf.hasSection('.symtab') && hasMiniDebugInfo(elf) && !decodeTried.has(elf) && openMiniDebugInfo(elf) === null;
  if (!mayFetch && !mayDecode) return { fetch: false, decode: false };
  const local = findSeparateDebugFile(elf, { debugRoots: search.dirs, debuginfodCache: false });
  return { fetch: mayFetch && !local, decode: mayDecode && !local };
}

/** Modules whose MiniDebugInfo a helper process tried to decode: not tried again by this thread. */
const decodeTried = new WeakSet<ElfFile>();

/** Build-ids whose servers could not answer, and when (keyed by servers and build-id): not asked again for a minute within this thread. */
const failedAt = new Map<string, number>();
const RETRY_FAILED_MS = 60_000;

function failedKey(search: DebugSearch, buildId: string): string {
  return `${search.debuginfod?.urls.join(' ')}\0${buildId}`;
}

function noteFailed(search: DebugSearch, buildId: string): void {
  failedAt.set(failedKey(search, buildId), Date.now());
}

/** Build-ids another thread already failed to get (the main thread's prepare, handed to the tracer's thread). */
export function noteDebugFetchFailed(buildIds: readonly string[], search: DebugSearch = debugSearch()): void {
  for (const id of buildIds) noteFailed(search, id);
}

function recentlyFailed(search: DebugSearch, buildId: string): boolean {
  const t = failedAt.get(failedKey(search, buildId));
  return t !== undefined && Date.now() - t < RETRY_FAILED_MS;
}

/** A line of progress for a person (stderr in the CLI, once per test file in Jest). */
export type ProgressSink = (line: string) => void;

/**
 * Downloads and decodes what the modules at `paths` need. Downloads are reported on `progress`
 * when they take over a second (every one with DEBUGINFOD_PROGRESS set).
 */
export async function prepareDebugInfo(paths: readonly string[], search: DebugSearch = debugSearch(), progress?: ProgressSink): Promise<PrepareReport> {
  const report: PrepareReport = { fetched: [], missing: [], failed: [], decoded: [], errors: [] };
  const work: { elf: ElfFile; fetch: boolean; decode: boolean }[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    let elf: ElfFile;
    try {
      elf = openElfCached(p);
    } catch {
      continue;
    }
    const key = elf.buildId ?? p;
    if (seen.has(key)) continue;
    seen.add(key);
    const w = debugWork(elf, search);
    if (w.fetch || w.decode) work.push({ elf, ...w });
  }
  if (!work.length) return report;
  const reporter = progress ? new DownloadReporter(progress, search.debuginfod?.progress ?? false) : null;
  const client = search.debuginfod ? new DebuginfodClient(search.debuginfod, reporter ? (p) => reporter.update(p) : undefined) : null;
  let changed = false;
  await inParallel(work, 8, async ({ elf, fetch, decode }) => {
    if (fetch && client && elf.buildId) {
      const outcome = await client.fetch(elf.buildId, 'debuginfo', elf.path);
      if (outcome.kind === 'found') {
        report.fetched.push({ module: elf.path, buildId: elf.buildId, file: outcome.file, server: outcome.server, bytes: outcome.bytes });
        changed = true;
        return; // a full debug file makes the MiniDebugInfo unnecessary
      }
      if (outcome.kind === 'missing') report.missing.push({ module: elf.path, buildId: elf.buildId });
      else {
        noteFailed(search, elf.buildId);
        report.failed.push({ module: elf.path, buildId: elf.buildId, detail: outcome.detail });
      }
    }
    if (decode) {
      const r = await decodeMiniDebugInfo(elf);
      if ('file' in r) {
        report.decoded.push(elf.path);
        changed = true;
      } else report.errors.push(r.error);
    }
  });
  reporter?.finish();
  if (changed) debugFilesChanged();
  return report;
}

/**
 * prepareDebugInfo() for code that cannot wait for a promise (the tracer, the symbolizer): runs
 * it in a helper process when some module needs work. Progress lines go to this process's stderr.
 */
export function prepareDebugInfoSync(elfs: readonly ElfFile[], search: DebugSearch = debugSearch()): PrepareReport | null {
  const todo = elfs.filter((elf) => {
    if (!path.isAbsolute(elf.path)) return false; // [vdso]: no file for the helper to open
    const w = debugWork(elf, search);
    return w.fetch || w.decode;
  });
  if (!todo.length) return null;
  const script = helperScript();
  if (!script) return null;
  const r = spawnSync(process.execPath, [script], {
    input: JSON.stringify({ search, paths: todo.map((e) => e.path) }),
    stdio: ['pipe', 'pipe', 'inherit'],
    encoding: 'utf8',
    // bounded: every server's wait is bounded by DEBUGINFOD_TIMEOUT, downloads by their progress
    maxBuffer: 16 * 1024 * 1024,
  });
  let report: PrepareReport | null = null;
  try {
    report = JSON.parse(r.stdout) as PrepareReport;
  } catch {
    report = null;
  }
  for (const e of todo) decodeTried.add(e);
  // asked once: what was found or answered 404 is in the caches now, the rest waits a minute
  for (const e of todo) if (e.buildId && (!report || !report.fetched.some((f) => f.buildId === e.buildId))) noteFailed(search, e.buildId);
  if (report && (report.fetched.length || report.decoded.length)) debugFilesChanged();
  return report;
}

function helperScript(): string | null {
  const candidates = [path.join(__dirname, 'debug-prepare-main.js'), path.join(__dirname, 'elf', 'debug-prepare-main.js'), path.resolve(__dirname, '..', '..', 'dist', 'elf', 'debug-prepare-main.js')];
  return candidates.find((c) => fs.existsSync(c)) ?? null;
}

/**
 * The program and the libraries the dynamic linker loads for it at start (DT_NEEDED, resolved
 * with the program's environment as `ld.so --list` does, without running the program).
 */
export async function programModules(file: string, env: Record<string, string | undefined> = process.env): Promise<string[]> {
  // once per program build and library path (every trace() of a Jest file asks)
  let key = '';
  try {
    const st = fs.statSync(file);
    key = JSON.stringify([file, st.mtimeMs, st.size, env.LD_LIBRARY_PATH, env.LD_PRELOAD]);
  } catch {
    return [file];
  }
  let known = modulesOf.get(key);
  if (!known) {
    known = listModules(file, env);
    modulesOf.set(key, known);
  }
  return known;
}

const modulesOf = new Map<string, Promise<string[]>>();

async function listModules(file: string, env: Record<string, string | undefined>): Promise<string[]> {
  let interp: string | null = null;
  try {
    interp = openElfCached(file).interpreter;
  } catch {
    return [file];
  }
  if (!interp) return [file];
  const out = await new Promise<string>((resolve) => {
    execFile(interp!, ['--list', file], { env: env as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 30_000 }, (_err, stdout) => resolve(stdout ?? ''));
  });
  const modules = [file];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)\s+\(0x/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (!m) continue;
    // the paths the process maps (/usr/lib/... where ld.so says /lib/...), as the tracer will see them
    let real = m[1];
    try {
      real = fs.realpathSync(m[1]);
    } catch {
      /* listed but gone */
    }
    if (!modules.includes(real)) modules.push(real);
  }
  return modules;
}

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

/** Prints one line when a download has lasted a second (at once with DEBUGINFOD_PROGRESS), and one when it ends. */
class DownloadReporter {
  private readonly started = new Map<string, { at: number; shown: boolean; last: DownloadProgress }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly sink: ProgressSink,
    private readonly always: boolean,
  ) {
    this.timer = setInterval(() => this.tick(), 250);
    this.timer.unref();
  }

  update(p: DownloadProgress): void {
    const key = `${p.buildId}/${p.artifact}/${p.server}`;
    let s = this.started.get(key);
    if (!s) this.started.set(key, (s = { at: Date.now(), shown: false, last: p }));
    s.last = p;
    if (!s.shown && this.always && !p.done) this.show(s);
    if (p.done) {
      // the end of what was announced: the size, or why nothing came (another server's win needs no line)
      if (s.shown && !p.failed) this.sink(`ustack: downloaded ${p.artifact} of ${p.module} (${size(p.received)}) from ${p.server}`);
      else if (s.shown && p.failed !== 'cancelled') this.sink(`ustack: no ${p.artifact} of ${p.module} from ${p.server}: ${p.failed}`);
      this.started.delete(key);
    }
  }

  finish(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    for (const s of this.started.values()) if (!s.shown && Date.now() - s.at >= 1000) this.show(s);
  }

  private show(s: { shown: boolean; last: DownloadProgress }): void {
    s.shown = true;
    const p = s.last;
    const of = p.total ? ` of ${size(p.total)}` : '';
    this.sink(`ustack: downloading ${p.artifact} of ${p.module} (build-id ${p.buildId}${of}) from ${p.server} ...${p.received === 0 && !p.total ? ' (waiting for the server)' : ''}`);
  }
}

function size(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}
