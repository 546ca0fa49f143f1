/**
 * Main-thread side of the ptrace backend: checks the program, prepares its stdio, hands the run
 * to the tracer worker, and owns the kill switch (timeout, AbortSignal) so a hanging program
 * never hangs the caller. One long-lived worker keeps parsed ELF/DWARF warm across runs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { openElfCached } from '../elf/elf-file';
import { debugSearchFrom, type DebugSearch } from '../elf/debug-search';
import { prepareDebugInfo, programModules } from '../elf/debug-prepare';
import { debuginfodWarnings } from '../elf/debug-advice';
import { BinaryNotFoundError, UnknownHookError, UstackError } from '../errors';
import { DEFAULT_MAX_FRAMES, type RecordOptions, type RecordResult } from '../record-options';
import { preloadFfi } from './libc';
import type { PackedHits } from '../capture/packed-hits';
import type { TraceRequest, WorkerMessage } from './trace-request';

let worker: Worker | null = null;
let nextId = 1;
let active = 0;
const pending = new Map<number, { resolve: (m: WorkerMessage) => void; onPid: (pid: number) => void }>();

function getWorker(): Worker {
  if (worker) return worker;
  // ffi-rs must also be loaded on the main thread, or the process crashes when the worker exits
  preloadFfi();
  // From TypeScript sources (ts-jest) the worker runs the compiled copy in dist/ (`npm run build`).
  // next to this module, or under dist/ptrace/ from the bundled CLI (dist/cli.js) and from TypeScript sources
  const candidates = [path.join(__dirname, 'worker.js'), path.join(__dirname, 'ptrace', 'worker.js'), path.resolve(__dirname, '..', '..', 'dist', 'ptrace', 'worker.js')];
  const script = candidates.find((c) => fs.existsSync(c));
  if (!script) throw new UstackError('USTACK_NOT_BUILT', `The tracer worker is missing (${candidates[2]}). Run \`npm run build\` first.`);
  // loaded here: the CLI traces on its main thread and never needs worker_threads
  const { Worker: WorkerClass } = require('node:worker_threads') as typeof import('node:worker_threads');
  const w = new WorkerClass(script);
  w.on('message', (m: WorkerMessage) => {
    const p = pending.get(m.id);
    if (!p) return;
    if (m.type === 'pid') p.onPid(m.pid);
    else {
      pending.delete(m.id);
      p.resolve(m);
    }
  });
  w.on('error', (e) => {
    for (const [id, p] of pending) {
      pending.delete(id);
      p.resolve({ type: 'error', id, error: { name: 'Error', message: `The tracer thread crashed: ${e.message}` } });
    }
    worker = null;
  });
  w.unref();
  worker = w;
  return w;
}

/** Resolves argv[0] like execvp: a path with a slash from cwd, a bare name from $PATH. */
export function resolveProgram(program: string, cwd: string, env: Record<string, string | undefined>): string {
  if (!program) throw new BinaryNotFoundError('', 'the command is empty');
  if (program.includes('/')) {
    const p = path.resolve(cwd, program);
    if (!fs.existsSync(p)) throw new BinaryNotFoundError(program, `no such file (looked for ${p})`);
    return p;
  }
  for (const dir of (env.PATH ?? process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = path.resolve(cwd, dir || '.', program);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  throw new BinaryNotFoundError(program, 'not found in $PATH');
}

function checkProgram(file: string, shown: string): void {
  const st = fs.statSync(file);
  if (st.isDirectory()) throw new BinaryNotFoundError(shown, 'it is a directory');
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    throw new BinaryNotFoundError(shown, 'the file is not executable (chmod +x?)');
  }
  openElfCached(file); // throws NotElfError for scripts, other architectures, 32-bit; the CLI's tracer reuses the parse
}

function cleanEnv(env: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...(env ?? {}) })) if (v !== undefined) out[k] = v;
  return out;
}

/** Checks the program and prepares its stdio files; `finish` collects the output and removes them. */
function prepare(argv: string[], options: RecordOptions): { req: TraceRequest; finish(): { stdout: string; stderr: string } } {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const env = cleanEnv(options.env);
  const file = resolveProgram(argv[0] ?? '', cwd, env);
  checkProgram(file, argv[0]);

  const stdoutMode = options.stdout ?? 'pipe';
  const stderrMode = options.stderr ?? 'pipe';
  const needsFiles = stdoutMode !== 'inherit' || stderrMode !== 'inherit' || (options.stdin !== undefined && options.stdin !== 'ignore' && options.stdin !== 'inherit');
  // the CLI passes all stdio through: no folder to make and remove
  const tmp = needsFiles ? fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-run-')) : '';
  let stdin: string | 'inherit' = '/dev/null';
  if (options.stdin === 'inherit') stdin = 'inherit';
  else if (options.stdin !== undefined && options.stdin !== 'ignore') {
    stdin = path.join(tmp, 'stdin');
    fs.writeFileSync(stdin, options.stdin);
  }
  const req: TraceRequest = {
    id: nextId++,
    file,
    argv,
    cwd,
    env,
    stdin,
    stdout: stdoutMode === 'inherit' ? 'inherit' : path.join(tmp, 'stdout'),
    stderr: stderrMode === 'inherit' ? 'inherit' : path.join(tmp, 'stderr'),
    newProcessGroup: stdin !== 'inherit',
    hooks: options.hooks,
    maxFrames: options.maxFrames ?? DEFAULT_MAX_FRAMES,
    maxHits: options.maxHits ?? Infinity,
    maxStacks: options.maxStacks,
    followChildren: options.followChildren ?? true,
    args: options.args,
    returns: options.returns,
    pinCpu: (options as { pinCpu?: boolean }).pinCpu ?? true,
    debug: debugSearchFrom(env, options.debugDirs, options.debugDirsOption),
    stopFlag: new SharedArrayBuffer(4),
  };
  const finish = () => {
    const read = (p: string | 'inherit') => (p === 'inherit' ? '' : fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '');
    const out = { stdout: read(req.stdout), stderr: read(req.stderr) };
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    return out;
  };
  return { req, finish };
}

/**
 * Runs the tracer on the calling thread, blocking it until the program ends: for the CLI, which
 * has nothing else to do and saves the worker's start-up. No timeout or abort is possible here.
 * The hits stay in typed columns (`rows`; `capture.hits` is empty) for captureJsonChunks().
 */
export function recordInThisThread(argv: string[], options: RecordOptions, debugFailed?: string[]): RecordResult & { rows: PackedHits } {
  const { req, finish } = prepare(argv, options);
  req.debugFailed = debugFailed;
  // loaded here so that the worker-based path never pulls the tracer into the main thread
  const { runTracePacked } = require('./run-trace') as typeof import('./run-trace');
  let traced: ReturnType<typeof runTracePacked>;
  try {
    traced = runTracePacked(req, () => {});
  } catch (e) {
    finish();
    throw e;
  }
  return { ...traced, ...finish() };
}

/**
 * Before a run: downloads (debuginfod) and decodes (MiniDebugInfo) the debug info of the program
 * and the libraries it needs, in parallel, so that the tracer (synchronous) finds it in the
 * caches. Returns warnings for the capture: servers that could not answer.
 */
export async function prepareRunDebugInfo(argv: string[], options: RecordOptions): Promise<{ warnings: string[]; failed: string[] }> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const env = cleanEnv(options.env);
  let file: string;
  try {
    file = resolveProgram(argv[0] ?? '', cwd, env);
  } catch {
    return { warnings: [], failed: [] }; // the run itself reports it
  }
  const search: DebugSearch = debugSearchFrom(env, options.debugDirs, options.debugDirsOption);
  if (!search.debuginfod && !hasMiniSections(file)) return { warnings: [], failed: [] };
  const report = await prepareDebugInfo(await programModules(file, env), search, options.onDebugProgress);
  return { warnings: debuginfodWarnings(report.failed, report.errors), failed: report.failed.map((f) => f.buildId) };
}

function hasMiniSections(file: string): boolean {
  try {
    return openElfCached(file).hasSection('.gnu_debugdata');
  } catch {
    return false;
  }
}

export async function recordWithPtrace(argv: string[], options: RecordOptions): Promise<RecordResult> {
  const { warnings: debugWarnings, failed } = await prepareRunDebugInfo(argv, options);
  const { req, finish } = prepare(argv, options);
  req.debugFailed = failed;
  const stopFlag = req.stopFlag;

  const pids = new Set<number>();
  let timedOut = false;
  let aborted = false;
  const stopAll = () => {
    Atomics.store(new Int32Array(stopFlag), 0, 1);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  const w = getWorker();
  active++;
  w.ref();
  // The time limit starts when the program does (not while the request waits for the worker),
  // and only a program still running when it expires counts as timed out: symbolizing after
  // the exit (cold debug info) is not the program's time.
  let timer: NodeJS.Timeout | null = null;
  const startTimer = () => {
    if (timer || !options.timeout || options.timeout <= 0) return;
    timer = setTimeout(() => {
      if (![...pids].some(isAlive)) return;
      timedOut = true;
      stopAll();
    }, options.timeout);
  };
  const onAbort = () => {
    aborted = true;
    stopAll();
  };
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) onAbort();
  let message: WorkerMessage;
  try {
    message = await new Promise<WorkerMessage>((resolve) => {
      pending.set(req.id, {
        resolve,
        onPid: (pid) => {
          pids.add(pid);
          startTimer();
          if (timedOut || aborted) stopAll();
        },
      });
      w.postMessage(req);
    });
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    if (--active === 0) w.unref();
  }
  const { stdout, stderr } = finish();
  if (message.type === 'error') throw reviveError(message.error);
  if (message.type !== 'done') throw new Error('unexpected tracer message');
  const capture = message.capture;
  if (debugWarnings.length) capture.warnings = [...debugWarnings, ...(capture.warnings ?? [])];
  if (timedOut) capture.stats.timedOut = true;
  if (aborted) (capture.stats as { aborted?: boolean }).aborted = true;
  return { capture, stdout, stderr };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function reviveError(e: { name: string; code?: string; message: string; exitCode?: number; stack?: string; suggestions?: string[] }): Error {
  if (e.code) {
    const err = e.code === 'USTACK_UNKNOWN_HOOK' ? Object.create(UnknownHookError.prototype) : Object.create(UstackError.prototype);
    Object.assign(err, { name: e.name, code: e.code, message: e.message, exitCode: e.exitCode ?? 2, suggestions: e.suggestions ?? [] });
    Object.defineProperty(err, 'stack', { value: `${e.name}: ${e.message}`, enumerable: false });
    return err;
  }
  const err = new Error(e.message);
  err.stack = e.stack;
  return err;
}

/** Terminates the tracer worker (tests, CLI exit). */
export async function shutdownTracer(): Promise<void> {
  if (worker) {
    const w = worker;
    worker = null;
    await w.terminate();
  }
}
