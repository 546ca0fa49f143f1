/** Real stacks for call-path tests: gdb backtraces (past main) turned into Capture frames. */
import type { Frame, Hit } from '../../src/capture/types';
import { parseBacktrace, runGdbScript, type GdbFrame } from '../helpers/gdb';

export function toFrame(f: GdbFrame): Frame {
  return {
    pc: '0x0',
    module: null,
    offset: null,
    symbol: f.func === '??' ? null : f.func,
    symbolOffset: null,
    symbolSize: null,
    file: f.file,
    line: f.line,
    inlined: f.inlined,
  };
}

/** One hit per breakpoint stop; hook = the breakpoint spec. */
export function gdbHits(argv: string[], breakpoints: string[]): Hit[] {
  const lines = [
    'set pagination off',
    'set confirm off',
    'set print frame-arguments none',
    'set width 0',
    'set backtrace past-main on',
    'set backtrace past-entry on',
  ];
  breakpoints.forEach((b, i) => {
    lines.push(`break ${b}`, `commands ${i + 1}`, 'silent', `echo @@STOP ${b}\\n`, 'bt', 'echo @@END\\n', 'continue', 'end');
  });
  lines.push('run');
  const out = runGdbScript(argv, lines);
  const hits: Hit[] = [];
  const re = /@@STOP (.*)\n([\s\S]*?)@@END/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(out))) {
    const frames = parseBacktrace(m[2]).filter((f) => !f.signalHandler);
    hits.push({ hook: m[1], pid: 0, tid: 0, seq: hits.length, frames: frames.map(toFrame) });
  }
  return hits;
}
