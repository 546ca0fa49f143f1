/**
 * gdb as the oracle: runs `gdb -batch` with `break F` / `bt` / `continue` on a real binary and
 * returns the function names of every stop, innermost first, as gdb prints them.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface GdbFrame {
  /** Function name as gdb prints it (demangled, no parameter list), or '??'. */
  func: string;
  file: string | null;
  line: number | null;
  /** gdb prints inline frames without an address; they have `inlined: true`. */
  inlined: boolean;
  /** gdb's `<signal handler called>` pseudo frame. */
  signalHandler: boolean;
}

export interface GdbOptions {
  breakpoints: string[];
  /** Stop collecting after this many stops (default 200). */
  maxStops?: number;
  /** Extra gdb commands run before `run` (e.g. 'set follow-fork-mode child'). */
  setup?: string[];
  cwd?: string;
  timeoutMs?: number;
  /** Run to this location first, then plant the breakpoints (for `*malloc`, which means libc's only once it is loaded). */
  startAt?: string;
}

/** Parses one `bt` listing (lines starting with #N). */
export function parseBacktrace(text: string): GdbFrame[] {
  const frames: GdbFrame[] = [];
  for (const raw of text.split('\n')) {
    const m = /^#(\d+)\s+(.*)$/.exec(raw.trim());
    if (!m) continue;
    let rest = m[2];
    if (rest.startsWith('<signal handler called>')) {
      frames.push({ func: '<signal handler called>', file: null, line: null, inlined: false, signalHandler: true });
      continue;
    }
    const hasAddress = /^0x[0-9a-f]+ in /.test(rest);
    rest = rest.replace(/^0x[0-9a-f]+ in /, '');
    // name is everything up to the argument list " (" that follows it
    const nameEnd = rest.search(/ \(/);
    const func = (nameEnd >= 0 ? rest.slice(0, nameEnd) : rest.split(' ')[0]).trim();
    const at = / at (\S+):(\d+)\s*$/.exec(rest);
    frames.push({
      func,
      file: at ? at[1] : null,
      line: at ? Number(at[2]) : null,
      // gdb omits the "0x... in" prefix for frame 0 at a breakpoint and for inline frames;
      // frame 0 is never reported as inline here (callers compare frames 1.. for that).
      inlined: !hasAddress && m[1] !== '0',
      signalHandler: false,
    });
  }
  return frames;
}

/**
 * Runs `gdb -batch` with `commands` as a script file on `argv` and returns what gdb printed, also
 * when gdb or the program fails. Breakpoint `commands` blocks only work from a script file (-x),
 * not from -ex arguments, which is why every gdb oracle in the tests goes through here.
 */
export function runGdbScript(argv: string[], commands: string[], options: { cwd?: string; timeoutMs?: number } = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-gdb-'));
  const script = path.join(dir, 'cmds.gdb');
  fs.writeFileSync(script, commands.join('\n') + '\n');
  try {
    return execFileSync('gdb', ['-batch', '-nx', '-x', script, '--args', ...argv], {
      cwd: options.cwd,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      timeout: options.timeoutMs ?? 120000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? '');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the program under gdb and returns one backtrace per breakpoint stop. */
export function gdbBacktraces(argv: string[], options: GdbOptions): GdbFrame[][] {
  const max = options.maxStops ?? 200;
  const cmds: string[] = [
    'set pagination off',
    'set confirm off',
    'set breakpoint pending on',
    'set print frame-arguments none',
    'set print address on',
    'set width 0',
    ...(options.setup ?? []),
  ];
  if (options.startAt) cmds.push(`tbreak ${options.startAt}`, 'run');
  const first = options.startAt ? 2 : 1;
  for (const b of options.breakpoints) cmds.push(`break ${b}`);
  // one `commands` block for all breakpoints: print a marker, the backtrace, continue
  cmds.push(`commands ${first}-${first + options.breakpoints.length - 1}`, 'silent', 'echo @@STOP\\n', 'bt', 'echo @@END\\n', 'continue', 'end');
  cmds.push(options.startAt ? 'continue' : 'run');
  const out = runGdbScript(argv, cmds, { cwd: options.cwd, timeoutMs: options.timeoutMs });
  const stops: GdbFrame[][] = [];
  const re = /@@STOP\n([\s\S]*?)@@END/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(out)) && stops.length < max) stops.push(parseBacktrace(m[1]));
  return stops;
}

/** Function names from frame 0 up to and including `main` (or the last frame). */
export function namesUpToMain(frames: { func: string }[]): string[] {
  const names: string[] = [];
  for (const f of frames) {
    names.push(f.func);
    if (f.func === 'main') break;
  }
  return names;
}

export interface GdbPyFrame {
  /** gdb's frame.name(): demangled with parameters for C++ (as `bt` prints it without arguments), or '??'. */
  func: string;
  file: string | null;
  line: number | null;
  /** frame.type() == gdb.INLINE_FRAME: exact, unlike the address-less heuristic of parseBacktrace. */
  inlined: boolean;
}

/** One breakpoint stop as gdb's Python API sees it: the stopped pc and the walked frames. */
export interface GdbPyStop {
  /** The pc of the newest frame (the breakpoint's address, as the process has it mapped). */
  pc: number;
  /** Thread number gdb gave the stopped thread (1 = the main thread). */
  thread: number;
  frames: GdbPyFrame[];
}

/**
 * Every stop at `breakpoints` as gdb's Python API walks it (newest_frame() then older() up to
 * main, or to the outermost frame in a thread): name, exact inline flag and the frame's file:line
 * (find_sal, the lines `bt` prints), with the stopped pc and thread.
 */
export function gdbPythonStops(
  argv: string[],
  breakpoints: string[],
  options: { maxStops?: number; cwd?: string; timeoutMs?: number; setup?: string[]; /** Commands after the `break`s (e.g. `disable 2.3`). */ afterBreaks?: string[] } = {},
): GdbPyStop[] {
  const max = options.maxStops ?? 1000;
  const cmds = [
    'set pagination off',
    'set confirm off',
    'set breakpoint pending on',
    'set width 0',
    ...(options.setup ?? []),
    'python',
    'ustack_stops = [0]',
    'def ustack_walk():',
    '    ustack_stops[0] += 1',
    `    if ustack_stops[0] > ${max}:`,
    // past maxStops the program runs on without breakpoints, so a hook hit thousands of times costs no more stops
    '        gdb.execute("delete breakpoints")',
    '        return',
    '    f = gdb.newest_frame()',
    '    print("@@STOP\\t%d\\t%d" % (f.pc(), gdb.selected_thread().num))',
    '    while f is not None:',
    '        sal = f.find_sal()',
    '        name = f.name() or "??"',
    '        path = sal.symtab.filename if sal.symtab else ""',
    '        print("@@F\\t%s\\t%d\\t%s\\t%d" % (name, 1 if f.type() == gdb.INLINE_FRAME else 0, path, sal.line))',
    '        if name == "main":',
    '            break',
    '        f = f.older()',
    '    print("@@END")',
    'end',
    ...breakpoints.map((b) => `break ${b}`),
    ...(options.afterBreaks ?? []),
    `commands 1-${breakpoints.length}`,
    'silent',
    'python ustack_walk()',
    'continue',
    'end',
    'run',
  ];
  const out = runGdbScript(argv, cmds, { cwd: options.cwd, timeoutMs: options.timeoutMs });
  const stops: GdbPyStop[] = [];
  for (const m of out.matchAll(/@@STOP\t(\d+)\t(\d+)\n([\s\S]*?)@@END/g)) {
    if (stops.length >= max) break;
    const frames = m[3]
      .split('\n')
      .filter((l) => l.startsWith('@@F\t'))
      .map((l) => {
        const [, func, inl, file, line] = l.split('\t');
        return { func, inlined: inl === '1', file: file || null, line: Number(line) || null };
      });
    stops.push({ pc: Number(m[1]), thread: Number(m[2]), frames });
  }
  return stops;
}

/** The frames of every stop at `breakpoints` (gdbPythonStops without pcs). */
export function gdbPythonStacks(argv: string[], breakpoints: string[], options: { maxStops?: number; cwd?: string } = {}): GdbPyFrame[][] {
  return gdbPythonStops(argv, breakpoints, options).map((s) => s.frames);
}

/**
 * How often gdb's `break SPEC` stops for each spec in a whole run, children included (gdb keeps
 * every forked inferior and runs them all), as `info breakpoints` counts them. Breakpoints go in
 * at main, once the libraries are loaded; `handle` lines pass the program's own signals through.
 */
export function gdbHitCounts(argv: string[], specs: string[], options: { passSignals?: string[]; cwd?: string; timeoutMs?: number } = {}): number[] {
  const cmds = [
    'set pagination off',
    'set confirm off',
    'set breakpoint pending on',
    'set detach-on-fork off',
    'set schedule-multiple on',
    ...(options.passSignals ?? []).map((s) => `handle ${s} nostop noprint pass`),
    'tbreak main',
    'run',
    ...specs.map((s) => `break ${s}`),
    `commands 2-${specs.length + 1}`,
    'silent',
    'continue',
    'end',
    'python',
    'while True:',
    '    live = [i for i in gdb.inferiors() if i.pid > 0]',
    '    if not live:',
    '        break',
    '    gdb.execute("inferior %d" % live[0].num, to_string=True)',
    '    gdb.execute("continue")',
    'end',
    'echo @@COUNTS\\n',
    'info breakpoints',
  ];
  const out = runGdbScript(argv, cmds, { cwd: options.cwd, timeoutMs: options.timeoutMs });
  const table = out.slice(out.indexOf('@@COUNTS'));
  const counts = specs.map(() => 0);
  let current = -1;
  for (const line of table.split('\n')) {
    const head = /^(\d+)\s+breakpoint\s/.exec(line);
    if (head) current = Number(head[1]) - 2;
    const hit = /breakpoint already hit (\d+) time/.exec(line);
    if (hit && current >= 0 && current < specs.length) counts[current] = Number(hit[1]);
  }
  if (!out.includes('@@COUNTS')) throw new Error(`gdb did not finish the run:\n${out.slice(-2000)}`);
  return counts;
}
