/**
 * Real captures without our tracer: runs a program under gdb with breakpoints on the hooks and
 * turns each stop's backtrace (and a fatal signal's) into the `Capture` model. Used as a second,
 * independent source of real stacks for the report writers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { captureFromHits } from '../../src/capture/model';
import type { Capture, Frame, Hit } from '../../src/capture/types';
import { runGdbScript } from '../helpers/gdb';

function parseFrames(text: string, pc0: string, binary: string, cwd: string): Frame[] {
  const frames: Frame[] = [];
  for (const raw of text.split('\n')) {
    const m = /^#(\d+)\s+(?:(0x[0-9a-f]+) in )?(\S+) \(.*?\)(?: at (\S+):(\d+))?/.exec(raw.trim());
    if (!m) continue;
    const file = m[4] ? path.resolve(cwd, m[4]) : null;
    frames.push({
      pc: m[2] ?? pc0,
      module: binary,
      offset: null,
      symbol: m[3] === '??' ? null : m[3],
      symbolOffset: null,
      symbolSize: null,
      file,
      line: m[5] ? Number(m[5]) : null,
      inlined: false,
    });
  }
  return frames;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function gdbCapture(argv: string[], hooks: string[], cwd: string): Capture & { stdout: string } {
  const binary = path.resolve(cwd, argv[0]);
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-gdb-out-'));
  const outFile = path.join(outDir, 'stdout');
  const script = [
    'set pagination off',
    'set confirm off',
    'set print frame-arguments none',
    'set width 0',
    ...hooks.map((h) => `break ${h}`),
    ...(hooks.length ? [`commands 1-${hooks.length}`, 'silent', 'echo @@STOP\\n', 'p/x $pc', 'bt', 'echo @@END\\n', 'continue', 'end'] : []),
    // "run ARGS" replaces the --args arguments, so the program's arguments are repeated here
    `run ${argv.slice(1).map(shellQuote).join(' ')} > ${shellQuote(outFile)}`,
    'echo @@AFTER\\n',
    'p $_exitcode',
    'p/x $pc',
    'bt',
    'echo @@END\\n',
  ];
  const started = Date.now();
  const text = runGdbScript([binary, ...argv.slice(1)], script, { cwd });
  const stdout = fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8') : '';
  fs.rmSync(outDir, { recursive: true, force: true });
  const hits: Hit[] = [];
  const stop = /@@STOP\n\$\d+ = (0x[0-9a-f]+)\n([\s\S]*?)@@END/g;
  let m: RegExpExecArray | null;
  while ((m = stop.exec(text))) {
    const frames = parseFrames(m[2], m[1], binary, cwd);
    const name = frames[0]?.symbol ?? '??';
    hits.push({ hook: hooks.find((h) => h === name) ?? name, pid: 1, tid: 1, seq: hits.length, frames });
  }
  const after = /@@AFTER\n\$\d+ = (\S+)\n([\s\S]*)$/.exec(text);
  let crash: Capture['crash'] = null;
  let exit: Capture['exit'] = { code: 0, signal: null };
  if (after && /Program received signal (SIG\w+)/.test(text)) {
    const signal = /Program received signal (SIG\w+)/.exec(text)![1];
    const pc = /\$\d+ = (0x[0-9a-f]+)/.exec(after[2])?.[1] ?? '0x0';
    crash = { hook: '', pid: 1, tid: 1, seq: hits.length, frames: parseFrames(after[2], pc, binary, cwd), signal, faultAddress: '0x0' };
    exit = { code: null, signal };
  } else if (after) {
    exit = { code: /^\d+$/.test(after[1]) ? Number(after[1]) : 0, signal: null };
  }
  const resolved = hooks.map((spec) => ({ spec, resolved: [{ module: binary, symbol: spec, address: '0x0' }] }));
  const capture = captureFromHits({ backend: 'ptrace', command: argv, exit, crash, stats: { hits: hits.length, durationMs: Date.now() - started } }, resolved, hits);
  return { ...capture, stdout };
}
