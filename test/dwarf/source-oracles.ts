/**
 * Oracles for the source-level DWARF tests: addr2line (binutils) on many addresses at once, and
 * code addresses of a binary taken from objdump's disassembly.
 */
import { execFileSync } from 'node:child_process';

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
