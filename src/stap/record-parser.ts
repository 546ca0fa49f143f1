/**
 * Parses what stap prints: the records of our generated script (stream-parsed, chunk by
 * chunk), and stap's own symbol formats — usymdata() ("sym+0xoff/0xsize [module]") and
 * print_usyms() listings (" 0x4116b0 : xmalloc+0x0/0x20 [/bin/ls]", as in the seed).
 *
 * Record lines (tab-separated, prefixed with RECORD_MARKER):
 *   B  target-pid                                  once, when the probes are armed
 *   H  id hook pid tid ubacktrace                  a hit starts
 *   F  id index pc mapping-offset|- umodname usymdata   one per frame
 *   E  id frame-count                              the hit is complete
 *   C  hook total-hits                             at the end, per hook that fired
 */
import { StringDecoder } from 'node:string_decoder';
import { RECORD_MARKER } from './script';

/** One frame as stap reported it, before our symbolizer adds file:line and inline frames. */
export interface RawStapFrame {
  pc: number;
  /** umodname(): absolute path of the module, or null when stap did not know it. */
  module: string | null;
  symbol: string | null;
  symbolOffset: number | null;
  symbolSize: number | null;
  /** umodaddr(): pc minus the start of the mapping stap found it in, or null. */
  mappingOffset: number | null;
  /** usymdata() exactly as printed. */
  usymdata: string;
}

export interface RawStapHit {
  id: number;
  hookIndex: number;
  pid: number;
  tid: number;
  /** ubacktrace() as printed: hex addresses separated by spaces. */
  backtrace: string;
  frames: RawStapFrame[];
  /** False when the stream ended before the hit's end line (stap was killed mid-hit). */
  complete: boolean;
}

export interface ParsedUsymdata {
  symbol: string | null;
  symbolOffset: number | null;
  symbolSize: number | null;
  module: string | null;
  /** For a frame without symbol: offset inside the module mapping ("0xADDR [mod+0xoff/0xsize]"). */
  moduleOffset: number | null;
  /** The address, when usymdata printed it (no symbol known). */
  address: number | null;
  inexact: boolean;
}

// stap prints %#lx: "0x1c", and "0" or "0x0" for zero depending on the runtime's printf.
const HEX = '(?:0x)?[0-9a-fA-F]+';
const WITH_SYMBOL = new RegExp(`^(.+?)\\+(${HEX})/(${HEX})(?: \\[(.*)\\])?( \\(inexact\\))?$`);
const MODULE_ONLY = new RegExp(`^0x([0-9a-fA-F]+) \\[(.*)\\+(${HEX})/(${HEX})\\]( \\(inexact\\))?$`);
const SYMBOL_VERSION = /@@?[A-Za-z_][A-Za-z0-9_.]*$/;
const ADDRESS_ONLY = /^0x([0-9a-fA-F]+)( \(inexact\))?$/;

function hex(s: string): number {
  return parseInt(s.startsWith('0x') || s.startsWith('0X') ? s.slice(2) : s, 16);
}

/** Parses one usymdata() string (the formats of _stp_snprint_addr with _STP_SYM_DATA). */
export function parseUsymdata(text: string): ParsedUsymdata {
  const t = text.trim();
  let m = MODULE_ONLY.exec(t);
  if (m) {
    return { symbol: null, symbolOffset: null, symbolSize: null, module: m[2], moduleOffset: hex(m[3]), address: hex(m[1]), inexact: !!m[5] };
  }
  m = ADDRESS_ONLY.exec(t);
  if (m) return { symbol: null, symbolOffset: null, symbolSize: null, module: null, moduleOffset: null, address: hex(m[1]), inexact: !!m[2] };
  m = WITH_SYMBOL.exec(t);
  if (m) {
    // versioned dynamic symbols: "__libc_start_main@GLIBC_2.2.5", "memcpy@@GLIBC_2.14"
    return { symbol: m[1].replace(SYMBOL_VERSION, ''), symbolOffset: hex(m[2]), symbolSize: hex(m[3]), module: m[4] ?? null, moduleOffset: null, address: null, inexact: !!m[5] };
  }
  return { symbol: t || null, symbolOffset: null, symbolSize: null, module: null, moduleOffset: null, address: null, inexact: false };
}

/** Parses a print_usyms()/print_ustack() listing: one " 0xADDR : usymdata" line per frame; other lines are skipped. */
export function parsePrintUsyms(listing: string): RawStapFrame[] {
  const frames: RawStapFrame[] = [];
  for (const line of listing.split('\n')) {
    const m = /^\s*0x([0-9a-fA-F]+) : (.*?)\s*$/.exec(line);
    if (!m) continue;
    const d = parseUsymdata(m[2]);
    frames.push({
      pc: parseInt(m[1], 16),
      module: d.module,
      symbol: d.symbol,
      symbolOffset: d.symbolOffset,
      symbolSize: d.symbolSize,
      mappingOffset: d.moduleOffset,
      usymdata: m[2],
    });
  }
  return frames;
}

/** Parses ubacktrace()/ucallers() output: hex addresses separated by spaces. */
export function parseBacktraceString(bt: string): number[] {
  return bt
    .trim()
    .split(/\s+/)
    .filter((s) => /^0x[0-9a-fA-F]+$/.test(s))
    .map((s) => parseInt(s.slice(2), 16));
}

export interface StapRecordHandlers {
  onBegin?(targetPid: number): void;
  /** The task finder has the target (R): its probes go live when it execs the program. */
  onReady?(targetPid: number): void;
  /** The program is exiting (Z): every record of its hits was printed before this line. */
  onProgramEnd?(pid: number): void;
  onHit(hit: RawStapHit): void;
  /** Lines of the stream that are not records (stap warnings printed into the output file). */
  onOtherLine?(line: string): void;
}

/** Stream parser: feed chunks of the output as they arrive, then call end(). */
export class StapRecordParser {
  /** Total hits per hook index, from the end-of-run count lines. */
  readonly totals = new Map<number, number>();
  targetPid: number | null = null;
  /** The target exec'd the program (X) / the program's exit was recorded (Z). */
  programStarted = false;
  programEnded = false;
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private readonly open = new Map<number, RawStapHit>();
  private readonly prefix = RECORD_MARKER + '\t';

  constructor(private readonly handlers: StapRecordHandlers) {}

  push(chunk: Buffer | string): void {
    const text = this.pending + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    this.pending = text.slice(start);
  }

  /** Flushes the last line and the hits whose end line never came (marked incomplete). */
  end(): void {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (rest) this.line(rest);
    for (const hit of [...this.open.values()].sort((a, b) => a.id - b.id)) {
      hit.complete = false;
      this.handlers.onHit(hit);
    }
    this.open.clear();
  }

  private line(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!line.startsWith(this.prefix)) {
      if (line.trim()) this.handlers.onOtherLine?.(line);
      return;
    }
    const f = line.slice(this.prefix.length).split('\t');
    switch (f[0]) {
      case 'F': {
        const hit = this.open.get(Number(f[1]));
        if (!hit || f.length < 7) return;
        // usymdata is last and may itself contain tabs only in pathological names: rejoin.
        const usym = f.slice(6).join('\t');
        const d = parseUsymdata(usym);
        const pc = parseInt(f[3].replace(/^0x/, ''), 16);
        hit.frames[Number(f[2])] = {
          pc,
          module: f[5] && f[5] !== '<unknown>' ? f[5] : d.module,
          symbol: d.symbol,
          symbolOffset: d.symbolOffset,
          symbolSize: d.symbolSize,
          mappingOffset: f[4] && f[4] !== '-' ? parseInt(f[4], 16) : d.moduleOffset,
          usymdata: usym,
        };
        return;
      }
      case 'H': {
        const id = Number(f[1]);
        this.open.set(id, {
          id,
          hookIndex: Number(f[2]),
          pid: Number(f[3]),
          tid: Number(f[4]),
          backtrace: f[5] ?? '',
          frames: [],
          complete: true,
        });
        return;
      }
      case 'E': {
        const id = Number(f[1]);
        const hit = this.open.get(id);
        if (!hit) return;
        this.open.delete(id);
        hit.frames = hit.frames.filter((x) => x !== undefined);
        hit.complete = hit.frames.length === Number(f[2]);
        this.handlers.onHit(hit);
        return;
      }
      case 'B':
        this.targetPid = Number(f[1]);
        this.handlers.onBegin?.(this.targetPid);
        return;
      case 'C':
        this.totals.set(Number(f[1]), Number(f[2]));
        return;
      case 'R':
        this.handlers.onReady?.(Number(f[1]));
        return;
      case 'X':
        this.programStarted = true;
        return;
      case 'Z':
        this.programEnded = true;
        this.handlers.onProgramEnd?.(Number(f[1]));
        return;
      default:
        this.handlers.onOtherLine?.(line);
    }
  }
}
