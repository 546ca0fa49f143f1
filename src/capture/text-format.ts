/**
 * The text form of a Capture: each distinct stack once, as SystemTap's print_usyms(ubacktrace())
 * prints it, one frame per line (`0x4116b0 : xmalloc+0x0/0x20 [/bin/ls]`), innermost first, with
 * a header saying its hook, its hit count and its first hit, and file:line and inline frames where
 * DWARF has them; with per-call values (--args, --returns), every call.
 */
import { stripCppParameters } from '../callpath/names';
import { expandHits } from './model';
import type { Capture, Frame, Hit, HitTable, Stack } from './types';
import { formatCallLine, formatReturnLine } from './value-format';
import { stripParameters } from '../symbolize/demangle';

function symbolPart(f: Frame): string {
  if (!f.symbol) return '??';
  if (f.inlined) return `${f.symbol} [inlined]`;
  if (f.symbolOffset === null) return f.symbol;
  // a symbol without a size (an assembly label such as ld.so's _start) gets no "/size"
  return `${f.symbol}+0x${f.symbolOffset.toString(16)}${f.symbolSize ? `/0x${f.symbolSize.toString(16)}` : ''}`;
}

export function formatFrame(f: Frame): string {
  const where = f.module ? ` [${f.module}]` : '';
  const source = f.file ? ` at ${f.file}:${f.line ?? '?'}` : '';
  // inline frames share their physical frame's pc: indent it away so the column reads as gdb's
  const pc = f.inlined ? ' '.repeat(f.pc.length) : f.pc;
  return ` ${pc} : ${symbolPart(f)}${where}${source}`;
}

/** The line that ends a stack cut at maxFrames, where its outermost callers would follow. */
export const TRUNCATED_LINE = ' ... (truncated: the callers above were not recorded; raise --max-frames)';

export function formatStack(frames: Frame[], truncated = false): string {
  return frames.map(formatFrame).join('\n') + (truncated ? '\n' + TRUNCATED_LINE : '');
}

/** The hook, and the function hit when the hook is a pattern or a plain name of a qualified function. */
function hookLabel(hook: string, frames: Frame[]): string {
  const hit = frames[0]?.symbol ? stripCppParameters(frames[0].symbol) : null;
  const bareHook = hook.replace(/@.*$/, '');
  return hit && hit !== bareHook ? `${hit} (hook ${hook})` : hook;
}

/** `hit 3: leaf (pid ...)`, for the per-call listing. */
function hitHeader(h: Hit): string {
  return `hit ${h.seq}: ${hookLabel(h.hook, h.frames)} (pid ${h.pid}, tid ${h.tid})`;
}

/** The hit columns the text form reads: the capture's, or the tracer's packed ones. */
type Rows = { length: number; get(column: 'stack' | 'pid' | 'tid', row: number): number };

function stackHeader(s: Stack, index: number, firstRow: number, rows: Rows): string {
  const where = firstRow >= 0 ? `, pid ${rows.get('pid', firstRow)}, tid ${rows.get('tid', firstRow)}` : '';
  const folded = s.folded ? ', other stacks past the distinct-stack limit (frame 0 only)' : '';
  const truncated = s.truncated ? `, truncated at ${s.frames.filter((f) => !f.inlined).length} frames` : '';
  return `stack ${index}: ${hookLabel(s.hook, s.frames)}, ${s.count} hit${s.count === 1 ? '' : 's'} (first: hit ${s.first}${where})${folded}${truncated}`;
}

/** True when the hits carry per-call values (--args / --returns): then each call is listed. */
export function hasCallColumns(hits: HitTable): boolean {
  return Array.isArray(hits.args) || Array.isArray(hits.return);
}

/**
 * The stacks as `ustack record` prints them to stdout or --output: each distinct stack once with
 * its count, or with --args/--returns every call with its values and stack (gdb's frame line and
 * `finish`). `rows`: the hit columns when they are not in `c.hits` (the CLI's typed ones).
 */
export function formatStacks(c: Capture, rows: Rows = { length: c.hits.length, get: (column, row) => c.hits[column][row] }): string {
  const out: string[] = [];
  if (hasCallColumns(c.hits)) {
    for (const h of expandHits(c)) {
      out.push(hitHeader(h));
      if (h.args) out.push(' ' + formatCallLine(stripParameters(h.frames[0]?.symbol ?? h.hook), h.args));
      if (h.return !== undefined) out.push(' ' + formatReturnLine(h));
      out.push(formatStack(h.frames, h.truncated === true));
    }
  } else {
    const firstRow = new Array<number>(c.stacks.length).fill(-1);
    for (let i = rows.length - 1; i >= 0; i--) firstRow[rows.get('stack', i)] = i;
    c.stacks.forEach((s, i) => {
      out.push(stackHeader(s, i, firstRow[i], rows));
      out.push(formatStack(s.frames, s.truncated === true));
    });
  }
  if (c.crash) {
    const fault = c.crash.faultAddress ? ` at ${c.crash.faultAddress}` : '';
    out.push(`crash: ${c.crash.signal}${fault} (pid ${c.crash.pid}, tid ${c.crash.tid})`);
    out.push(formatStack(c.crash.frames, c.crash.truncated === true));
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** The summary line, hooks that were not planted and the warnings, as `ustack record` prints them to stderr. */
export function formatSummary(c: Capture): string {
  const out: string[] = [];
  const exit = c.exit.signal ? `killed by ${c.exit.signal}` : `exit code ${c.exit.code}`;
  const s = c.stats;
  const extra = [s.dropped ? `${s.dropped} not kept as hit records past maxHits (counted)` : '', s.timedOut ? 'timed out' : '', s.killedLeftovers ? `${s.killedLeftovers} leftover process(es) killed` : '']
    .filter(Boolean)
    .join(', ');
  const folded = s.foldedHits ? `, ${s.foldedHits} hit(s) in folded stacks (${s.foldedStacks ?? '?'} distinct stacks past the limit)` : '';
  const truncated = s.truncatedStacks ? `, ${s.truncatedStacks} stack(s) truncated at the frame limit (--max-frames)` : '';
  out.push(`-- ${s.hits} hit(s), ${c.stacks.length} distinct stack(s), ${s.recorded} recorded, ${exit}, ${s.durationMs} ms${extra ? ', ' + extra : ''}${folded}${truncated}`);
  for (const hook of c.hooks) {
    if (hook.resolved.length === 0) out.push(`-- hook ${hook.spec}: not planted`);
  }
  for (const w of c.warnings ?? []) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}

/** Stacks, then the summary and warnings: the whole capture as text. */
export function formatCapture(c: Capture, rows?: Rows): string {
  return formatStacks(c, rows) + formatSummary(c);
}
