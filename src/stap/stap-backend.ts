/**
 * The SystemTap backend: generates the script for the hooks, starts the program under a holder
 * shell, runs `stap -d BIN --ldd [-d LIB...] -o RECORDS -x HOLDER SCRIPT` (or `staprun -x HOLDER
 * -o RECORDS MODULE`) through execa, releases the holder once stap has it, stream-parses the
 * records into the same Capture the ptrace backend makes, and ends stap after the program's end
 * line has been read. The program's stdout/stderr go to files, so its output never mixes with
 * stap's messages or the records.
 */
import { stapDebugInfo } from './stap-debuginfo';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CaptureBuilder } from '../capture/model';
import type { Capture, Frame, HookResolution } from '../capture/types';
import { BackendUnavailableError, BinaryNotFoundError, StapModuleMissingError, UsageError } from '../errors';
import { openElfCached } from '../elf';
import type { RecordOptions, RecordResult } from '../record-options';
import { diagnoseStap, whichSync } from './diagnose';
import { FileTail } from './file-tail';
import { HookProbe, sharedLibrariesOf } from './hook-probes';
import { resolvedHookOf } from '../symbolize/hook-resolver';
import { expandModulePath } from './raw-frames';
import { createStapSymbolizer } from './stap-symbolize';
import { RawStapFrame, RawStapHit, StapRecordParser } from './record-parser';
import { StapScriptPlan, stapProbeOptions } from './script';
import { planForRun, prebuiltModuleDir, stapModuleName } from './stap-module';
import { classifyStapFailure, stapWarnings } from './stap-messages';

export { diagnoseStap, diagnoseStapSync, diagnosePtrace } from './diagnose';
export type { StapDiagnosis, PtraceDiagnosis, BinaryDebugFacts } from './diagnose';
export { generateStapScript, planStapScript, stapLimitDefines } from './script';
export type { StapScriptPlan, StapScriptOptions } from './script';
export type { RawStapFrame, RawStapHit } from './record-parser';
export { StapRecordParser, parseUsymdata, parsePrintUsyms, parseBacktraceString } from './record-parser';
export { createKernelBuildStub } from './kernel-stub';
export { compileStapModule, kernelReleaseOf, prebuiltModuleDir, stapModuleName } from './stap-module';
export type { CompileTarget, CompiledModule } from './stap-module';
export { framesFromStap } from './raw-frames';
export { createStapSymbolizer } from './stap-symbolize';

/** Compiling (passes 1-4) may take long on a cold cache, but not forever. */
const TRANSLATE_LIMIT_MS = 10 * 60 * 1000;
/** How long stap gets to deliver the program's end line, and then to unload, before it is given up on. */
const UNLOAD_GRACE_MS = 15000;

// tsc (module commonjs) would turn import() into require(), which cannot load ESM-only execa.
const importEsm = new Function('s', 'return import(s)') as (s: string) => Promise<{ execa: ExecaLike }>;

/** The part of execa's API used here (its overloaded types do not survive a cast). */
type ExecaLike = (
  file: string,
  args: string[],
  options: Record<string, unknown>,
) => Promise<{ stderr?: unknown; exitCode?: number }> & { kill(signal?: NodeJS.Signals): boolean; pid?: number };

/** Absolute path of the program argv[0] names: relative to cwd, bare names from PATH. */
export function resolveProgram(program: string, cwd?: string): string {
  const candidate = program.includes('/') ? path.resolve(cwd ?? process.cwd(), program) : whichSync(program);
  if (!candidate || !fs.existsSync(candidate)) throw new BinaryNotFoundError(program);
  try {
    fs.accessSync(candidate, fs.constants.X_OK);
  } catch {
    throw new BinaryNotFoundError(program, 'not executable (chmod +x it)');
  }
  return fs.realpathSync(candidate);
}

/** Single-quotes a word for /bin/sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function globRegex(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Where each hook's function lives, from the modules' symbol tables (stap does the binding itself). */
function resolveHooks(binary: string, probes: HookProbe[], libraries: string[]): HookResolution[] {
  return probes.map((p) => {
    if (p.locations.length) return { spec: p.hook.spec, resolved: p.locations.map(resolvedHookOf) };
    const modules = p.hook.module !== null ? (p.libraries.length ? p.libraries : [binary]) : [binary, ...libraries];
    const re = globRegex(p.hook.func);
    for (const module of modules) {
      let resolved: HookResolution['resolved'] = [];
      try {
        resolved = openElfCached(module)
          .symbols()
          .functions()
          .filter((s) => s.address !== 0 && re.test(s.name.replace(/@.*$/, '')))
          .map((s) => ({ module, symbol: s.name.replace(/@.*$/, ''), address: '0x' + s.address.toString(16) }));
      } catch {
        resolved = [];
      }
      if (resolved.length) return { spec: p.hook.spec, resolved };
    }
    return { spec: p.hook.spec, resolved: [] };
  });
}

export interface TranslateOptions {
  /** Last pass to run: 2 (resolve probes against the DWARF) or 3 (also generate C). */
  pass: 2 | 3;
  /** A kernel build tree or the stub from createKernelBuildStub(); default: stap's own choice. */
  kernelBuildDir?: string;
  maxFrames?: number;
  /** Environment for stap's debug info lookups (DEBUGINFOD_*, USTACK_DEBUG_DIRS); default process.env. */
  env?: Record<string, string | undefined>;
  debugDirs?: string[];
}

export interface TranslateResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Runs the stap translator on a plan without loading anything into the kernel (`stap -pN`).
 * Rejects with the same errors a real run would give (UnknownHookError, NoDebugInfoError, ...).
 */
export async function translateStapScript(binary: string, plan: StapScriptPlan, opts: TranslateOptions): Promise<TranslateResult> {
  const env = { ...process.env, ...(opts.env ?? {}) };
  const debug = await stapDebugInfo(binary, plan.libraries, env, opts.debugDirs);
  try {
    return await translateWith(binary, plan, opts, { ...env, ...debug.env });
  } finally {
    debug.cleanup();
  }
}

function translateWith(binary: string, plan: StapScriptPlan, opts: TranslateOptions, env: Record<string, string | undefined>): Promise<TranslateResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-stap-'));
  const script = path.join(dir, 'hooks.stp');
  fs.writeFileSync(script, plan.script);
  const args = [
    ...(opts.kernelBuildDir ? ['-r', opts.kernelBuildDir] : []),
    `-p${opts.pass}`,
    ...stapProbeOptions(binary, plan, opts.maxFrames ?? 64),
    script,
  ];
  return new Promise((resolve, reject) => {
    execFile('stap', args, { encoding: 'utf8', maxBuffer: 256 << 20, timeout: TRANSLATE_LIMIT_MS, env: env as NodeJS.ProcessEnv }, (err, stdout, stderr) => {
      fs.rmSync(dir, { recursive: true, force: true });
      if (err) reject(classifyStapFailure(stderr ?? '', plan, binary));
      else resolve({ ok: true, stdout, stderr });
    });
  });
}

export async function recordWithStap(
  argv: string[],
  options: RecordOptions,
  symbolize?: (frames: RawStapFrame[]) => Frame[],
): Promise<RecordResult> {
  const started = performance.now();
  if (argv.length === 0) throw new UsageError('No command to run.');
  const binary = resolveProgram(argv[0], options.cwd);
  // debug files found the standard ways (and downloaded) are handed to stap before it looks
  const stapDebug = await stapDebugInfo(binary, [], { ...process.env, ...(options.env ?? {}) }, options.debugDirs);
  try {
    return await recordWithStapDebug(argv, options, binary, stapDebug.env, started, symbolize);
  } finally {
    stapDebug.cleanup();
  }
}

async function recordWithStapDebug(
  argv: string[],
  options: RecordOptions,
  binary: string,
  debugEnv: Record<string, string>,
  started: number,
  symbolize?: (frames: RawStapFrame[]) => Frame[],
): Promise<RecordResult> {
  const diagnosis = await diagnoseStap(binary);
  if (!diagnosis.canRun) throw new BackendUnavailableError('stap', diagnosis.reasons.join('; '));

  const { plan, maxFrames } = planForRun(binary, options);
  const libraries = [...new Set(plan.probes.flatMap((p) => p.points.map((pt) => /\.library\("((?:[^"\\]|\\.)*)"\)/.exec(pt)?.[1]).filter((x): x is string => !!x)))];
  // compile here, run there: a module built elsewhere for this kernel runs with staprun alone
  const moduleDir = prebuiltModuleDir();
  const moduleName = moduleDir ? stapModuleName(binary, plan, maxFrames, os.release()) : null;
  const prebuilt = moduleDir && moduleName ? path.join(moduleDir, `${moduleName}.ko`) : null;
  const usePrebuilt = prebuilt !== null && fs.existsSync(prebuilt);
  if (prebuilt && !usePrebuilt && !diagnosis.details.kernelBuildDir) throw new StapModuleMissingError(prebuilt, os.release());

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-stap-'));
  const scriptPath = path.join(dir, 'hooks.stp');
  const recordsPath = path.join(dir, 'records.out');
  const programOut = path.join(dir, 'program.stdout');
  const programErr = path.join(dir, 'program.stderr');
  fs.writeFileSync(scriptPath, plan.script);
  fs.writeFileSync(programErr, '');

  const stdoutMode = options.stdout ?? 'pipe';
  const stderrMode = options.stderr ?? 'pipe';
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...(options.env ?? {}), ...debugEnv })) if (v !== undefined) env[k] = v;

  // The program runs under a holder shell started here and given to stap as its target (-x): it
  // waits on fd 3 until the task finder has it (R), then execs the program (same pid, so target()
  // is the program). Not `-c`: stapio 4.8 stops reading the relay buffers as soon as the -c command
  // exits, without draining them (fixed in SystemTap 5.1, PR31597), and the last hits' records and
  // the counts were lost on a busy machine. With -x the session ends when the backend ends it: after
  // the program's end line (Z), printed while the program exits, has been read.
  const input = options.stdin;
  // 'inherit' and 'ignore' are modes, not data for the program
  const isData = Buffer.isBuffer(input) || (typeof input === 'string' && input !== 'inherit' && input !== 'ignore');
  const outFd = stdoutMode === 'pipe' ? fs.openSync(programOut, 'w') : null;
  const errFd = fs.openSync(programErr, 'w');
  let holder: ChildProcess;
  try {
    holder = spawn('/bin/sh', ['-c', 'read _ <&3; exec 3<&- "$@"', 'sh', binary, ...argv.slice(1)], {
      cwd: options.cwd,
      env,
      stdio: [isData ? 'pipe' : input === 'inherit' ? 'inherit' : 'ignore', outFd ?? 'inherit', errFd, 'pipe'],
    });
  } finally {
    if (outFd !== null) fs.closeSync(outFd);
    fs.closeSync(errFd);
  }
  const programExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    holder.on('exit', (code, signal) => resolve({ code, signal }));
    holder.on('error', () => resolve({ code: 127, signal: null }));
  });
  if (isData) {
    holder.stdin!.on('error', () => undefined); // the program need not read all of it
    holder.stdin!.end(input);
  }
  const release = holder.stdio[3] as NodeJS.WritableStream & { destroyed?: boolean };
  release.on('error', () => undefined);
  if (holder.pid === undefined) throw new BinaryNotFoundError(argv[0], 'could not start /bin/sh to run it');

  const tool = usePrebuilt ? 'staprun' : 'stap';
  const stapArgs = usePrebuilt
    ? ['-x', String(holder.pid), '-o', recordsPath, prebuilt!]
    : [...stapProbeOptions(binary, plan, maxFrames), '-o', recordsPath, '-x', String(holder.pid), scriptPath];

  const rawHits: RawStapHit[] = [];
  const otherLines: string[] = [];
  const pids = new Set<number>([holder.pid]);
  let timedOut = false;
  let stopTimer: NodeJS.Timeout | null = null;
  let graceTimer: NodeJS.Timeout | null = null;
  let released = false;
  let programEnded: () => void = () => undefined;
  const programEndLine = new Promise<void>((resolve) => (programEnded = resolve));

  const { execa } = await importEsm('execa');
  const child = execa(tool, stapArgs, {
    cwd: options.cwd,
    env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    stdout: stdoutMode === 'inherit' ? 'inherit' : 'pipe',
    stderr: 'pipe',
    buffer: true,
    encoding: 'utf8',
    cleanup: true,
  });

  /** Ends the run: kills the traced tree; stap is ended once the program's end line is read. */
  const stopRun = () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };

  const parser = new StapRecordParser({
    onBegin(target) {
      pids.add(target);
    },
    onReady() {
      if (released || release.destroyed) return;
      released = true;
      release.end('\n');
      if (options.timeout !== undefined && options.timeout > 0) {
        stopTimer = setTimeout(() => {
          timedOut = true;
          stopRun();
        }, options.timeout);
      }
    },
    onProgramEnd() {
      programEnded();
    },
    onHit(hit) {
      pids.add(hit.pid);
      rawHits.push(hit);
    },
    onOtherLine(line) {
      otherLines.push(line);
    },
  });
  const records = new FileTail(recordsPath, (chunk) => parser.push(chunk));
  records.start();
  const errTail =
    stderrMode === 'inherit' ? new FileTail(programErr, (chunk) => process.stderr.write(chunk)) : null;
  errTail?.start();

  const translateLimit = setTimeout(() => {
    if (parser.targetPid === null) child.kill('SIGKILL');
  }, TRANSLATE_LIMIT_MS);
  const onAbort = () => stopRun();
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) onAbort();

  const stapEnded = child.then(() => 'stap' as const);
  const first = await Promise.race([stapEnded, programExit.then(() => 'program' as const)]);
  let endLineMissing = false;
  if (first === 'stap') {
    // stap failed (or was stopped) before the program ran to its end: the holder must not wait on
    holder.kill('SIGKILL');
  } else {
    const exited = await programExit;
    // killed before its release, or unable to exec the program (126/127, no X line): the program never ran
    const neverStarted = !released || (!parser.programStarted && (exited.code === 126 || exited.code === 127));
    if (!neverStarted && !parser.programEnded) {
      const waited = await Promise.race([
        programEndLine.then(() => true),
        stapEnded.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), UNLOAD_GRACE_MS).unref()),
      ]);
      records.drain();
      endLineMissing = !waited && !parser.programEnded;
    }
    child.kill('SIGINT');
    graceTimer = setTimeout(() => child.kill('SIGKILL'), UNLOAD_GRACE_MS);
  }
  const result = await child;
  const exited = await programExit;
  clearTimeout(translateLimit);
  if (stopTimer) clearTimeout(stopTimer);
  if (graceTimer) clearTimeout(graceTimer);
  options.signal?.removeEventListener('abort', onAbort);
  records.stop();
  errTail?.stop();
  parser.end();

  const stapStderr = String(result.stderr ?? '');
  const programStdout = stdoutMode === 'pipe' ? readOrEmpty(programOut) : '';
  const programStderr = stderrMode === 'pipe' ? readOrEmpty(programErr) : '';
  fs.rmSync(dir, { recursive: true, force: true });

  if (parser.targetPid === null) {
    // The probes never went live: the translator, compiler or module loader failed.
    throw classifyStapFailure(stapStderr, plan, binary);
  }

  rawHits.sort((a, b) => a.id - b.id);
  const knownModules = [binary, ...sharedLibrariesOf(binary), ...plan.libraries];
  for (const h of rawHits) for (const f of h.frames) f.module = expandModulePath(f.module, knownModules);
  const own = symbolize ? null : createStapSymbolizer();
  const finish = symbolize ?? own!.symbolize;
  // one builder turns full-frame hits into the schema-2 tables (src/capture/model.ts)
  const builder = new CaptureBuilder(resolveHooks(binary, plan.probes, libraries));
  rawHits.forEach((h, seq) => {
    builder.add({ hook: plan.probes[h.hookIndex]?.hook.spec ?? String(h.hookIndex), pid: h.pid, tid: h.tid, seq, frames: finish(h.frames.slice(0, maxFrames)) });
  });
  const recorded = rawHits.length;
  const total = [...parser.totals.values()].reduce((a, b) => a + b, 0);
  const totalHits = parser.totals.size ? Math.max(total, recorded) : recorded;
  const exit = { code: exited.code, signal: exited.signal };
  const warnings = [...diagnosis.warnings, ...(own?.takeWarnings() ?? []), ...stapWarnings(stapStderr), ...otherLines.map((l) => `stap: ${l}`)];
  if (rawHits.some((h) => !h.complete)) warnings.push('some stacks were cut short: stap stopped in the middle of a hit');
  if (endLineMissing) warnings.push(`stap's output did not reach the end of the program within ${UNLOAD_GRACE_MS / 1000} s: the last hits may be missing`);

  const capture: Capture = builder.build({
    backend: 'stap',
    command: argv,
    exit,
    crash: null,
    stats: {
      hits: totalHits,
      dropped: totalHits - recorded,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      ...(timedOut ? { timedOut: true } : {}),
    },
    warnings,
  });
  return { capture, stdout: stdoutMode === 'pipe' ? programStdout : '', stderr: programStderr };
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
