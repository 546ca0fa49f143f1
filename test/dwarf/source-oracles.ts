/**
 * Oracles for the source-level DWARF tests: addr2line (binutils) on many addresses at once, and
 * code addresses of a binary taken from objdump's disassembly.
 */
import { execFileSync } from 'node:child_process';
import { runGdbScript } from '../helpers/gdb';

/** Instruction addresses of .text (every `step`-th one when there are more than `max`). */
export function textAddresses(binary: string, max = 600): number[] {
  const out = execFileSync('objdump', ['-d', '--section=.text', '--no-show-raw-insn', binary], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  const all: number[] = [];
  for (const m of out.matchAll(/^\s+([0-9a-f]+):\t/gm)) all.push(parseInt(m[1], 16));
  if (all.length <= max) return all;
  const step = all.length / max;
  const picked: number[] = [];
  for (let i = 0; i < max; i++) picked.push(all[Math.floor(i * step)]);
  return picked;
}

export interface Addr2LineFrame {
  function: string;
  file: string | null;
  line: number | null;
}

/** `addr2line -f -i -C -e BIN` for each address: the frames innermost first. */
export function addr2lineFrames(binary: string, addresses: number[], opts: { inline?: boolean; demangle?: boolean } = {}): Addr2LineFrame[][] {
  const args = ['-f', '-a', '-e', binary];
  if (opts.inline !== false) args.push('-i');
  if (opts.demangle !== false) args.push('-C');
  const out = execFileSync('addr2line', args, {
    input: addresses.map((a) => '0x' + a.toString(16)).join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  const result: Addr2LineFrame[][] = [];
  const lines = out.split('\n');
  let current: Addr2LineFrame[] | null = null;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/^0x[0-9a-f]+$/.test(l)) {
      current = [];
      result.push(current);
      continue;
    }
    if (!l || !current) continue;
    const loc = lines[++i].replace(/ \(discriminator \d+\)$/, '');
    const colon = loc.lastIndexOf(':');
    const file = loc.slice(0, colon);
    const lineText = loc.slice(colon + 1);
    const known = file !== '??' && lineText !== '?' && lineText !== '0';
    current.push({ function: l, file: known ? file : null, line: known ? Number(lineText) : null });
  }
  return result;
}

/** gdb's `info line *ADDR` for each address: "file:line", or null when gdb knows no line. */
export function gdbInfoLines(binary: string, addresses: number[]): (string | null)[] {
  if (addresses.length === 0) return [];
  const args = ['-batch', '-nx', '-ex', 'set width 0'];
  for (const a of addresses) args.push('-ex', `echo @@${a.toString(16)}\\n`, '-ex', `info line *0x${a.toString(16)}`);
  args.push(binary);
  const out = execFileSync('gdb', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const parts = out.split(/^@@[0-9a-f]+\n/m).slice(1);
  return parts.map((p) => {
    const m = /^Line (\d+) of "([^"]+)"/m.exec(p);
    return m ? `${m[2]}:${m[1]}` : null;
  });
}

export interface GdbStopFrame {
  func: string;
  file: string | null;
  line: number | null;
  /** gdb prints inline frames (other than #0) without an address. */
  inlined: boolean;
  /** pc of a physical frame: $pc for #0, the printed return address for callers; null for inline frames. */
  pc: number | null;
  /** The shared library gdb names ("from LIB") for frames without line info outside the program. */
  library: string | null;
}

/** Runs BIN under gdb with breakpoints; per stop, the `bt` frames with their pcs (use non-PIE binaries). */
export function gdbStops(argv: string[], breakpoints: string[], maxStops = 20): GdbStopFrame[][] {
  const cmds = ['set pagination off', 'set confirm off', 'set print frame-arguments none', 'set width 0', 'set breakpoint pending on'];
  for (const b of breakpoints) cmds.push(`break ${b}`);
  cmds.push(`commands 1-${breakpoints.length}`, 'silent', 'echo @@STOP\\n', 'p/x $pc', 'bt', 'echo @@END\\n', 'continue', 'end', 'run');
  const out = runGdbScript(argv, cmds);
  const stops: GdbStopFrame[][] = [];
  for (const m of out.matchAll(/@@STOP\n([\s\S]*?)@@END/g)) {
    if (stops.length >= maxStops) break;
    const pc0 = /^\$\d+ = (0x[0-9a-f]+)/m.exec(m[1]);
    const frames: GdbStopFrame[] = [];
    for (const raw of m[1].split('\n')) {
      const f = /^#(\d+)\s+(?:(0x[0-9a-f]+) in )?(.*)$/.exec(raw.trim());
      if (!f) continue;
      const rest = f[3];
      const at = / at (\S+):(\d+)\s*$/.exec(rest);
      const from = / from (\S+)\s*$/.exec(rest);
      frames.push({
        func: functionOfFrameLine(rest),
        file: at ? at[1] : null,
        line: at ? Number(at[2]) : null,
        inlined: !f[2] && f[1] !== '0',
        pc: f[1] === '0' ? (pc0 ? parseInt(pc0[1], 16) : null) : f[2] ? parseInt(f[2], 16) : null,
        library: from ? from[1] : null,
      });
    }
    stops.push(frames);
  }
  return stops;
}

/** The function part of a `bt` line: up to the argument list gdb prints after " (". */
function functionOfFrameLine(rest: string): string {
  // the argument list is the last top-level " (...)" before " at file:line" / " from lib"
  const text = rest.replace(/ (at|from) \S+$/, '');
  let depth = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text[i];
    if (c === ')') depth++;
    else if (c === '(' && --depth === 0) return text.slice(0, i).trim();
  }
  return text.trim();
}
