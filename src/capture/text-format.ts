/**
 * The text form of a Capture: each distinct stack once, as SystemTap's print_usyms(ubacktrace())
 * prints it, one frame per line (`0x4116b0 : xmalloc+0x0/0x20 [/bin/ls]`), innermost first, with
 * a header saying its hook, its hit count and its first hit, and file:line and inline frames where
 * DWARF has them.
 */
import type { Capture, Frame, Stack } from './types';

function symbolPart(f: Frame): string {
  if (!f.symbol) return '??';
  if (f.inlined) return `${f.symbol} [inlined]`;
  if (f.symbolOffset === null) return f.symbol;
  return `${f.symbol}+0x${f.symbolOffset.toString(16)}/0x${(f.symbolSize ?? 0).toString(16)}`;
}

export function formatFrame(f: Frame): string {
  const where = f.module ? ` [${f.module}]` : '';
  const source = f.file ? ` at ${f.file}:${f.line ?? '?'}` : '';
  // inline frames share their physical frame's pc: indent it away so the column reads as gdb's
  const pc = f.inlined ? ' '.repeat(f.pc.length) : f.pc;
  return ` ${pc} : ${symbolPart(f)}${where}${source}`;
}

export function formatStack(frames: Frame[]): string {
  return frames.map(formatFrame).join('\n');
}

/** The hit columns the text form reads: the capture's, or the tracer's packed ones. */
type Rows = { length: number; get(column: 'stack' | 'pid' | 'tid', row: number): number };

function stackHeader(s: Stack, index: number, firstRow: number, rows: Rows): string {
  const where = firstRow >= 0 ? `, pid ${rows.get('pid', firstRow)}, tid ${rows.get('tid', firstRow)}` : '';
  const folded = s.folded ? ', other stacks past the distinct-stack limit (frame 0 only)' : '';
  return `stack ${index}: ${s.hook}, ${s.count} hit${s.count === 1 ? '' : 's'} (first: hit ${s.first}${where})${folded}`;
}

/** `rows`: the hit columns when they are not in `c.hits` (the CLI's typed ones). */
export function formatCapture(c: Capture, rows: Rows = { length: c.hits.length, get: (column, row) => c.hits[column][row] }): string {
  const out: string[] = [];
  const firstRow = new Array<number>(c.stacks.length).fill(-1);
  for (let i = rows.length - 1; i >= 0; i--) firstRow[rows.get('stack', i)] = i;
  c.stacks.forEach((s, i) => {
    out.push(stackHeader(s, i, firstRow[i], rows));
    out.push(formatStack(s.frames));
  });
  if (c.crash) {
    const fault = c.crash.faultAddress ? ` at ${c.crash.faultAddress}` : '';
    out.push(`crash: ${c.crash.signal}${fault} (pid ${c.crash.pid}, tid ${c.crash.tid})`);
    out.push(formatStack(c.crash.frames));
  }
  const exit = c.exit.signal ? `killed by ${c.exit.signal}` : `exit code ${c.exit.code}`;
  const s = c.stats;
  const extra = [s.dropped ? `${s.dropped} not kept as hit records past maxHits (counted)` : '', s.timedOut ? 'timed out' : '', s.killedLeftovers ? `${s.killedLeftovers} leftover process(es) killed` : '']
    .filter(Boolean)
    .join(', ');
  const folded = s.foldedHits ? `, ${s.foldedHits} hit(s) in folded stacks (${s.foldedStacks ?? '?'} distinct stacks past the limit)` : '';
  out.push(`-- ${s.hits} hit(s), ${c.stacks.length} distinct stack(s), ${s.recorded} recorded, ${exit}, ${s.durationMs} ms${extra ? ', ' + extra : ''}${folded}`);
  for (const hook of c.hooks) {
    if (hook.resolved.length === 0) out.push(`-- hook ${hook.spec}: not planted`);
  }
  for (const w of c.warnings ?? []) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}
