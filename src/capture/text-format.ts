/**
 * The text form of a Capture: each hit as SystemTap's print_usyms(ubacktrace()) prints it,
 * one frame per line (`0x4116b0 : xmalloc+0x0/0x20 [/bin/ls]`), innermost first, with a header
 * per hit, and file:line and inline frames where DWARF has them.
 */
import { stripCppParameters } from '../callpath/names';
import type { Capture, Frame, Hit } from './types';
import { formatCallLine, formatReturnLine } from './value-format';
import { stripParameters } from '../symbolize/demangle';

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

/** `hit 3: leaf (pid ...)`; when the hook is a pattern or a plain name of a qualified function, the function hit is named too. */
function hitHeader(h: Hit): string {
  const hit = h.frames[0]?.symbol ? stripCppParameters(h.frames[0].symbol) : null;
  const bareHook = h.hook.replace(/@.*$/, '');
  const named = hit && hit !== bareHook ? `${hit} (hook ${h.hook})` : h.hook;
  return `hit ${h.seq}: ${named} (pid ${h.pid}, tid ${h.tid})`;
}

/** Every hit's stack (and the crash's), as `ustack record` prints them to stdout or --output. */
export function formatStacks(c: Capture): string {
  const out: string[] = [];
  for (const h of c.hits) {
    out.push(hitHeader(h));
    // parameters and return (--args / --returns), as gdb's frame line and `finish` print them
    if (h.args) out.push(' ' + formatCallLine(stripParameters(h.frames[0]?.symbol ?? h.hook), h.args));
    if (h.return !== undefined) out.push(' ' + formatReturnLine(h));
    out.push(formatStack(h.frames));
  }
  if (c.crash) {
    const fault = c.crash.faultAddress ? ` at ${c.crash.faultAddress}` : '';
    out.push(`crash: ${c.crash.signal}${fault} (pid ${c.crash.pid}, tid ${c.crash.tid})`);
    out.push(formatStack(c.crash.frames));
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** The summary line, hooks that were not planted and the warnings, as `ustack record` prints them to stderr. */
export function formatSummary(c: Capture): string {
  const out: string[] = [];
  const exit = c.exit.signal ? `killed by ${c.exit.signal}` : `exit code ${c.exit.code}`;
  const s = c.stats;
  const extra = [s.dropped ? `${s.dropped} dropped past maxHits` : '', s.timedOut ? 'timed out' : '', s.killedLeftovers ? `${s.killedLeftovers} leftover process(es) killed` : '']
    .filter(Boolean)
    .join(', ');
  out.push(`-- ${s.hits} hit(s), ${s.recorded} recorded, ${exit}, ${s.durationMs} ms${extra ? ', ' + extra : ''}`);
  for (const hook of c.hooks) {
    if (hook.resolved.length === 0) out.push(`-- hook ${hook.spec}: not planted`);
  }
  for (const w of c.warnings ?? []) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}

/** Stacks, then the summary and warnings: the whole capture as text. */
export function formatCapture(c: Capture): string {
  return formatStacks(c) + formatSummary(c);
}
