/**
 * `ustack record --hook SPEC [...] [--format text|json] [--output FILE] [--max-frames N]
 *  [--max-hits N] [--timeout SECONDS] [--no-follow] [--backend B] -- CMD [ARGS...]`
 * The program's stdio passes through untouched; the stacks (or the JSON capture) go to --output or
 * to stdout after the program ends, the summary line and warnings to stderr, so they never mix
 * with the stacks; ustack exits with the program's code (128+signal when it was killed).
 */
import * as fs from 'node:fs';
import { captureJsonChunks } from '../capture/model';
import { unpackHits } from '../capture/packed-hits';
import { formatStacks, formatSummary } from '../capture/text-format';
import { UsageError } from '../errors';
import { record } from '../record';
import { prepareRunDebugInfo, recordInThisThread } from '../ptrace/ptrace-backend';
import type { BackendName, RecordOptions } from '../record-options';
import { signalNumber } from '../ptrace/signals';
import { intFlag, parseArgs } from './args';

export const usage = `Usage: ustack record [--hook SPEC ...] [--format text|json] [--output FILE]
                     [--max-frames N] [--max-hits N] [--timeout SECONDS] [--no-follow]
                     [--args] [--returns] [--backend ptrace|stap|auto] [--debug-dir DIR ...]
                     -- CMD [ARGS...]

Runs CMD with hooks on the given functions and prints the stack of every hit.
CMD's stdin, stdout and stderr pass through untouched. The stacks go to --output or stdout, after
CMD ends; the summary line and warnings go to stderr. Exit code: CMD's (128+signal when killed).

  --hook SPEC         hook a function (repeatable). Default: none, only a crash is recorded.
                      SPEC: func, func@libc.so.6, a glob such as 'parse_*', or a C++/Rust name such
                      as ns::Klass::method (a plain name also matches the last components of
                      qualified names). \`ustack symbols CMD SPEC\` lists where it hooks.
  --format text|json  text: each distinct stack once with its hit count, frames as
                      print_usyms(ubacktrace()) prints them; json: the Capture model. Default: text.
  --output FILE       write the stacks there instead of stdout. Default: stdout.
  --max-frames N      frames per stack; a deeper stack is cut and marked truncated.
                      Default: 1024 (stap backend: 64).
  --max-hits N        hit records kept per hook; later hits are still counted in their distinct
                      stacks. Default: every hit.
  --timeout SECONDS   kill the traced tree after this long and print what was captured.
                      Default: no limit.
  --no-follow         trace the first process only. Default: forked children, their threads and
                      exec'ed images are traced too.
  --backend B         ptrace (embedded), stap (SystemTap), or auto (stap when \`ustack doctor\`
                      says it can run). Default: ptrace.
  --args              record each hooked function's parameters at entry (ptrace backend).
                      Default: off.
  --returns           also stop at each hooked call's return: its return value and duration
                      (ptrace backend). Default: off.
  --debug-dir DIR     look for separate debug files under DIR (repeatable; gdb's
                      debug-file-directory). Default: $USTACK_DEBUG_DIRS (colon-separated), else
                      /usr/lib/debug. With DEBUGINFOD_URLS set, missing debug info is downloaded
                      by build-id (README "Debug info").`;

/**
 * Writes to the fd directly (process.stdout would load Node's stream modules, a few ms of
 * start-up). False when the reader went away (`| head`): stop writing.
 */
function writeAll(fd: number, text: string | Buffer): boolean {
  // a string is written without a Buffer of our own (none pile up until the next GC); a short write falls back
  let done = 0;
  try {
    done = typeof text === 'string' ? fs.writeSync(fd, text) : fs.writeSync(fd, text, 0, text.length);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return false;
    if (code !== 'EAGAIN') throw e;
  }
  if (done >= (typeof text === 'string' ? Buffer.byteLength(text) : text.length)) return true;
  const data = typeof text === 'string' ? Buffer.from(text) : text;
  while (done < data.length) {
    try {
      done += fs.writeSync(fd, data, done);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return false;
      if (code !== 'EAGAIN') throw e;
      // a non-blocking pipe that is full: wait for the reader without spinning hot
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
  return true;
}

export async function main(args: string[]): Promise<number> {
  const parsed = parseArgs(
    args,
    {
      hook: { value: true, multiple: true },
      format: { value: true },
      output: { value: true },
      'max-frames': { value: true },
      'max-hits': { value: true },
      timeout: { value: true },
      'no-follow': {},
      args: {},
      returns: {},
      backend: { value: true },
      'debug-dir': { value: true, multiple: true },
      help: {},
    },
    'record',
  );
  if (parsed.flags.help) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  const command = parsed.rest.length ? parsed.rest : parsed.positional;
  if (command.length === 0) throw new UsageError(`No command to run.\n${usage}`);
  const format = (parsed.flags.format as string | undefined) ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, got "${format}".`);
  const backend = (parsed.flags.backend as BackendName | undefined) ?? 'ptrace';
  if (!['ptrace', 'stap', 'auto'].includes(backend)) throw new UsageError(`--backend must be ptrace, stap or auto, got "${backend}".`);
  const timeout = intFlag(parsed.flags.timeout, 'timeout');
  const options: RecordOptions = {
    hooks: (parsed.flags.hook as string[] | undefined) ?? [],
    backend,
    stdin: 'inherit',
    stdout: 'inherit',
    stderr: 'inherit',
    maxFrames: intFlag(parsed.flags['max-frames'], 'max-frames'),
    maxHits: intFlag(parsed.flags['max-hits'], 'max-hits'),
    timeout: timeout === undefined ? undefined : timeout * 1000,
    followChildren: !parsed.flags['no-follow'],
    args: parsed.flags.args ? true : undefined,
    returns: parsed.flags.returns ? true : undefined,
    debugDirs: (parsed.flags['debug-dir'] as string[] | undefined) ?? undefined,
    debugDirsOption: '--debug-dir',
    onDebugProgress: (line) => process.stderr.write(line + '\n'),
  };
  // without a timeout nothing needs the main thread while the program runs: trace on it (faster start)
  // in this thread the hits stay in typed columns (`rows`) until they are written
  let recorded: Awaited<ReturnType<typeof record>> & { rows?: ReturnType<typeof recordInThisThread>['rows'] };
  if (backend === 'ptrace' && timeout === undefined) {
    const { warnings: debugWarnings, failed } = await prepareRunDebugInfo(command, options);
    recorded = recordInThisThread(command, options, failed);
    if (debugWarnings.length) recorded.capture.warnings = [...debugWarnings, ...(recorded.capture.warnings ?? [])];
  } else {
    recorded = { ...(await record(command, options)), rows: undefined };
  }
  const capture = recorded.capture;
  let rows = recorded.rows;
  if (rows && Object.keys(rows.extra).length > 0) {
    // per-call values (--args/--returns) are objects anyway: read them from the plain table
    capture.hits = unpackHits(rows);
    rows = undefined;
  }
  // JSON goes out in pieces (a million hits would otherwise be one 40 MB string, then its copies)
  const chunks = format === 'json' ? captureJsonChunks(capture, rows, Buffer.allocUnsafe(64 * 1024)) : [formatStacks(capture, rows)];
  const output = parsed.flags.output as string | undefined;
  const fd = output ? fs.openSync(output, 'w') : 1;
  try {
    for (const chunk of chunks) if (!writeAll(fd, chunk)) break;
  } finally {
    if (output) fs.closeSync(fd);
  }
  process.stderr.write(formatSummary(capture));
  if (capture.stats.timedOut) process.stderr.write(`ustack: the program timed out after ${timeout}s and was killed.\n`);
  if (capture.exit.signal) return 128 + (signalNumber(capture.exit.signal) ?? 0);
  return capture.exit.code ?? 1;
}
