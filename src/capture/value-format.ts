/**
 * Parameters and return values as gdb prints them: the frame line `xalloc (n=32, tag=0x5555...
 * "lex", flags=1)`, structs as `{x = 1, y = 2}`, library classes as gdb's pretty printers print
 * them (`std::vector of length 2, capacity 2 = {1, 2}`), and the return line `=> 0x55555555a2d0 (1.2 µs)`.
 */
import type { ArgValue, CStringValue, Hit, PrintedValue, TextValue } from './types';

export function isCString(v: ArgValue): v is CStringValue {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as CStringValue).ptr === 'string' && typeof (v as CStringValue).string === 'string' && Object.keys(v).every((k) => k === 'ptr' || k === 'string' || k === 'truncated');
}

export function isText(v: ArgValue): v is TextValue {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as TextValue).string === 'string' && Object.keys(v).every((k) => k === 'string' || k === 'truncated');
}

export function isPrinted(v: ArgValue): v is PrintedValue {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as PrintedValue).summary === 'string' && Object.keys(v).every((k) => k === 'summary' || k === 'children');
}

function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\' + c.toString(8).padStart(3, '0');
    else out += ch;
  }
  return out + '"';
}

const BARE = /^(0x[0-9a-f]+|-?\d+|<.*>|nan|-?inf|\{\.\.\.\}|\.\.\.)$/;

export function formatValue(v: ArgValue): string {
  if (v === null) return 'void';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  // pointers, big integers and gdb's <...> notes print bare; char arrays are text and get quotes
  if (typeof v === 'string') return BARE.test(v) ? v : quote(v);
  if (Array.isArray(v)) return `{${v.map(formatValue).join(', ')}}`;
  if (isCString(v)) return `${v.ptr} ${quote(v.string)}${v.truncated ? '...' : ''}`;
  if (isText(v)) return `${quote(v.string)}${v.truncated ? '...' : ''}`;
  if (isPrinted(v)) return v.children === undefined ? v.summary : `${v.summary} = ${formatValue(v.children)}`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${k} = ${formatValue(x)}`)
    .join(', ')}}`;
}

/** `name (a=1, b=0x0)`, or just the name without recorded arguments. */
export function formatCallLine(name: string, args: Record<string, ArgValue>): string {
  return `${name} (${Object.entries(args)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(', ')})`;
}

export function formatDuration(ns: number): string {
  if (ns < 1000) return `${ns} ns`;
  if (ns < 1e6) return `${(ns / 1000).toFixed(1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

const REASONS: Record<string, string> = {
  exception: 'an exception unwound through it',
  longjmp: 'longjmp left it',
  unwound: 'its frame was unwound (longjmp or exception)',
  exit: 'the thread or process exited first',
  crash: 'the program crashed first',
  killed: 'the program was killed first',
  inlined: 'inlined copy: no return to stop at',
  'not-traced': 'its return address could not be watched',
};

/** `=> value (1.2 µs)` or `=> no return: why`. */
export function formatReturnLine(h: Hit): string {
  if (h.return) return `=> ${formatValue(h.return.value)} (${formatDuration(h.return.durationNs)})`;
  return `=> no return: ${REASONS[h.noReturn ?? 'unwound'] ?? h.noReturn}`;
}
