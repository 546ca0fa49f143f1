/**
 * Capture schema 2 (types.ts): building one from hits with full frames, expanding it back into
 * hits, upgrading schema 1, and its JSON text. Pure (no Node or Jest imports): it also runs in
 * Jest's test sandbox.
 */
import { CaptureFormatError } from '../errors';
import { HIT_COLUMNS, type PackedHits } from './packed-hits';
import { CAPTURE_SCHEMA, type ArgValue, type Capture, type CaptureStats, type CaptureV1, type Frame, type Hit, type HitTable, type HookResolution, type NoReturnReason, type ReturnInfo, type Stack } from './types';

/** Everything of a Capture but its stacks, hits and schema (the part a backend fills itself). */
/** The hooks come from the builder (its constructor, plus any spec a hit names). */
export type CaptureBase = Omit<Capture, 'schema' | 'stacks' | 'hits' | 'stats' | 'hooks'> & { stats: Omit<CaptureStats, 'recorded' | 'dropped' | 'foldedStacks' | 'foldedHits' | 'truncatedStacks'> & Partial<CaptureStats> };

/** Default bound on distinct stacks per capture; further distinct stacks are folded (stats.foldedStacks). */
export const DEFAULT_MAX_STACKS = 10000;
/** Distinct folded stacks are counted up to this many (their keys are kept as numbers). */
const MAX_FOLDED_KEYS = 1000000;

export interface BuilderOptions {
  /** Rows kept per hook (default: every hit). Counts stay exact. */
  maxHits?: number;
  /** Distinct stacks stored (default DEFAULT_MAX_STACKS). */
  maxStacks?: number;
}

export function emptyHitTable(): HitTable {
  return { length: 0, seq: [], hook: [], pid: [], tid: [], stack: [], ns: [] };
}

/** The identity of a stack: its frames exactly (two stacks that symbolize alike are one). */
function stackKey(hook: string, frames: readonly Frame[]): string {
  return hook + '\u0000' + JSON.stringify(frames);
}

function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Builds a schema-2 Capture. The one way from hits with full frames (the stap backend, schema-1
 * captures) and from the ptrace tracer's already-distinct stacks into the model.
 */
export class CaptureBuilder {
  private readonly stacks: Stack[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly rows = emptyHitTable();
  private readonly hooks: HookResolution[];
  private readonly keptPerHook = new Map<string, number>();
  private readonly maxHits: number;
  private readonly maxStacks: number;
  private readonly foldedKeys = new Set<number>();
  private foldedHits = 0;
  private total = 0;
  private dropped = 0;
  private nextSeq = 0;

  constructor(hooks: readonly HookResolution[], options: BuilderOptions = {}) {
    this.hooks = hooks.map((h) => ({ ...h }));
    this.maxHits = options.maxHits ?? Infinity;
    this.maxStacks = options.maxStacks ?? DEFAULT_MAX_STACKS;
  }

  /** Index of the hook spec in the capture's hooks (added, unresolved, when a hit names another). */
  hookIndex(spec: string): number {
    let i = this.hooks.findIndex((h) => h.spec === spec);
    if (i < 0) i = this.hooks.push({ spec, resolved: [] }) - 1;
    return i;
  }

  /**
   * The stack table index for these frames of `hook` (a new entry with count 0 when unseen);
   * past the stack limit a new stack goes to its hook's folded stack of frame 0.
   */
  stackIndex(hook: string, frames: Frame[], first: number, truncated = false): number {
    const key = (truncated ? '\u0002' : '') + stackKey(hook, frames);
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    if (this.stacks.length >= this.maxStacks) {
      if (this.foldedKeys.size < MAX_FOLDED_KEYS) this.foldedKeys.add(hash32(key));
      return this.foldedIndex(hook, frames, first);
    }
    this.byKey.set(key, this.stacks.length);
    return this.stacks.push(truncated ? { hook, count: 0, first, frames, truncated: true } : { hook, count: 0, first, frames }) - 1;
  }

  /** The catch-all stack of `hook` for stacks past the limit, keyed by frame 0. */
  foldedIndex(hook: string, frames: readonly Frame[], first: number): number {
    const top = frames.slice(0, 1);
    const key = '\u0001' + stackKey(hook, top);
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    this.byKey.set(key, this.stacks.length);
    return this.stacks.push({ hook, count: 0, first, frames: top, folded: true }) - 1;
  }

  /** Counts `n` hits of a stack (already counted hits of a folded stack add to stats.foldedHits). */
  count(stack: number, n = 1, first?: number): void {
    const s = this.stacks[stack];
    s.count += n;
    if (first !== undefined && first < s.first) s.first = first;
    if (s.folded) this.foldedHits += n;
    this.total += n;
  }

  /** Marks `n` hits as counted but not kept as rows. */
  drop(n: number): void {
    this.dropped += n;
  }

  /** Appends one row (no counting, no maxHits check: for callers that did both). */
  row(seq: number, hook: number, pid: number, tid: number, stack: number, ns: number, extra?: Record<string, unknown>): void {
    const r = this.rows;
    const i = r.length++;
    r.seq.push(seq);
    r.hook.push(hook);
    r.pid.push(pid);
    r.tid.push(tid);
    r.stack.push(stack);
    r.ns.push(ns);
    if (extra) for (const [name, value] of Object.entries(extra)) this.column(name)[i] = value;
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
  }

  /** Adopts whole columns of rows (the ptrace tracer's), `stack` already mapped to this builder's indexes. */
  rowsFrom(table: HitTable): void {
    if (this.rows.length === 0) {
      Object.assign(this.rows, table);
      for (const s of table.seq) if (s >= this.nextSeq) this.nextSeq = s + 1;
      return;
    }
    for (let i = 0; i < table.length; i++) this.row(table.seq[i], table.hook[i], table.pid[i], table.tid[i], table.stack[i], table.ns[i]);
  }

  /**
   * Adds one hit with full frames: counted in its stack, kept as a row while its hook has fewer
   * than maxHits rows. `seq` defaults to the next one; `extra` holds further per-hit columns.
   */
  add(hit: Omit<Hit, 'seq'> & { seq?: number }, extra?: Record<string, unknown>): void {
    const seq = hit.seq ?? this.nextSeq;
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
    const stack = this.stackIndex(hit.hook, hit.frames, seq, hit.truncated === true);
    this.count(stack, 1, seq);
    const kept = this.keptPerHook.get(hit.hook) ?? 0;
    if (kept >= this.maxHits) {
      this.dropped++;
      return;
    }
    this.keptPerHook.set(hit.hook, kept + 1);
    this.row(seq, this.hookIndex(hit.hook), hit.pid, hit.tid, stack, hit.ns ?? 0, extra);
  }

  /** The next unused seq (for a crash recorded after the hits). */
  get seq(): number {
    return this.nextSeq;
  }

  build(base: CaptureBase): Capture {
    for (const s of this.stacks) this.hookIndex(s.hook);
    const { hits, dropped, durationMs, ...rest } = base.stats;
    const stats: CaptureStats = {
      hits: Math.max(hits ?? 0, this.total),
      recorded: this.rows.length,
      dropped: dropped ?? this.dropped,
      durationMs,
      ...rest,
    };
    if (this.foldedHits > 0) {
      stats.foldedStacks = this.foldedKeys.size;
      stats.foldedHits = this.foldedHits;
    }
    const truncated = this.stacks.filter((s) => s.truncated).length;
    if (truncated > 0) stats.truncatedStacks = truncated;
    for (const name of Object.keys(this.rows)) {
      const col = this.rows[name];
      // optional columns are filled with null where a row has no value
      if (Array.isArray(col) && col.length < this.rows.length) for (let i = 0; i < this.rows.length; i++) if (col[i] === undefined) col[i] = null;
    }
    return {
      schema: CAPTURE_SCHEMA,
      backend: base.backend,
      command: base.command,
      exit: base.exit,
      hooks: this.hooks,
      stacks: this.stacks,
      hits: this.rows,
      crash: base.crash,
      stats,
      ...(base.warnings?.length ? { warnings: base.warnings } : {}),
    };
  }

  private column(name: string): unknown[] {
    if (name in this.rows && !Array.isArray(this.rows[name])) throw new Error(`per-hit column "${name}" clashes with a hit table field`);
    let col = this.rows[name] as unknown[] | undefined;
    if (!col) this.rows[name] = col = [];
    return col;
  }
}

/** A schema-2 Capture from hits with full frames (every hit kept as a row unless maxHits says otherwise). */
export function captureFromHits(base: CaptureBase, hooks: readonly HookResolution[], hits: Iterable<Hit & { extra?: Record<string, unknown> }>, options: BuilderOptions = {}): Capture {
  const builder = new CaptureBuilder(hooks, options);
  for (const h of hits) builder.add(h, h.extra);
  return builder.build(base);
}

/**
 * Reads a capture of schema 1 or 2 (from JSON) as schema 2. Schema 1 keeps its stats (its
 * stack counts only cover the hits it recorded); anything else fails with CaptureFormatError.
 */
export function upgradeCapture(value: unknown): Capture {
  const c = value as Partial<Capture> | Partial<CaptureV1> | null;
  if (!c || typeof c !== 'object' || !('hits' in c) || !('exit' in c)) throw new CaptureFormatError('it is not a jest-ustack capture (no "exit" and "hits")');
  if (c.schema === CAPTURE_SCHEMA) {
    const v2 = c as Capture;
    if (!Array.isArray(v2.stacks) || !v2.hits || !Array.isArray(v2.hits.stack)) throw new CaptureFormatError('schema 2 without a "stacks" table or hit columns');
    return v2;
  }
  if (c.schema === 1) {
    const v1 = c as CaptureV1;
    if (!Array.isArray(v1.hits)) throw new CaptureFormatError('schema 1 with "hits" that is not a list');
    const { hits, schema: _schema, ...rest } = v1;
    const { hooks, ...base } = rest;
    const builder = new CaptureBuilder(hooks ?? []);
    for (const h of hits) builder.add(h);
    return builder.build(base);
  }
  throw new CaptureFormatError(`capture schema ${JSON.stringify(c.schema)}`);
}

/** The kept hits with their frames, in order (frames arrays are shared with `stacks`). */
export function expandHits(capture: Capture): Hit[] {
  const t = capture.hits;
  const out: Hit[] = new Array(t.length);
  // per-call values of --args / --returns, when the backend recorded them
  const args = t.args as (Record<string, ArgValue> | null)[] | undefined;
  const returns = t.return as (ReturnInfo | null)[] | undefined;
  const noReturn = t.noReturn as (NoReturnReason | null)[] | undefined;
  for (let i = 0; i < t.length; i++) {
    const stack = capture.stacks[t.stack[i]];
    const hit: Hit = { hook: capture.hooks[t.hook[i]]?.spec ?? stack.hook, pid: t.pid[i], tid: t.tid[i], seq: t.seq[i], frames: stack.frames, ns: t.ns[i] };
    if (stack.truncated) hit.truncated = true;
    if (args) hit.args = args[i] ?? {};
    if (returns) {
      // a null return means "never returned" only with a reason; noReturn says which
      const why = noReturn?.[i];
      hit.return = why ? null : (returns[i] ?? null);
      if (why || returns[i] == null) hit.noReturn = why ?? 'unwound';
    }
    out[i] = hit;
  }
  return out;
}

/** Stacks of one hook (all when undefined), in order of first appearance. */
export function stacksOf(capture: Capture, hook?: string): Stack[] {
  const list = hook === undefined ? capture.stacks.slice() : capture.stacks.filter((s) => s.hook === hook);
  return list.sort((a, b) => a.first - b.first);
}

/** True hit count of one hook (every hook when undefined). */
export function hitCount(capture: Capture, hook?: string): number {
  let n = 0;
  for (const s of capture.stacks) if (hook === undefined || s.hook === hook) n += s.count;
  return n;
}

/**
 * JSON text of a capture, indented, with each hit column on one line (an indented column of a
 * million numbers would be ten times longer), in pieces: a writer never holds the whole text.
 * With `scratch`, the typed columns come as views of that buffer (each valid until the next
 * piece is asked for): a million hits then make no garbage strings (which grew the young
 * generation of the heap by 30 MB).
 */
export function captureJsonChunks(capture: Capture, rows: PackedHits | undefined, scratch: Buffer): Generator<string | Buffer>;
export function captureJsonChunks(capture: Capture, rows?: PackedHits): Generator<string>;
export function* captureJsonChunks(capture: Capture, rows?: PackedHits, scratch?: Buffer): Generator<string | Buffer> {
  const placeholder = '"\\u0000hits"';
  const shape: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(capture)) shape[key] = key === 'hits' ? '\u0000hits' : value;
  const text = JSON.stringify(shape, null, 2);
  const at = text.indexOf(placeholder);
  if (at < 0) {
    yield text + '\n';
    return;
  }
  yield text.slice(0, at) + '{\n';
  if (rows) {
    // typed columns, written a slice at a time
    yield `    "length": ${rows.length},\n`;
    const extras = Object.keys(rows.extra);
    for (let c = 0; c < HIT_COLUMNS.length; c++) {
      const name = HIT_COLUMNS[c];
      yield `    ${JSON.stringify(name)}: [`;
      let first = true;
      for (const piece of rows.pieces(name)) {
        if (scratch) {
          for (let i = 0; i < piece.length; ) {
            const { written, next } = formatIntegers(piece, i, scratch, !first);
            first = false;
            i = next;
            yield scratch.subarray(0, written);
          }
          continue;
        }
        // small strings die young; a whole chunk's text would go to the large-object space
        for (let i = 0; i < piece.length; i += JSON_SLICE) {
          yield (first ? '' : ',') + piece.subarray(i, i + JSON_SLICE).join(',');
          first = false;
        }
      }
      yield `]${c < HIT_COLUMNS.length - 1 || extras.length ? ',' : ''}\n`;
    }
    for (let k = 0; k < extras.length; k++) {
      const col = rows.extra[extras[k]];
      const full = Array.from({ length: rows.length }, (_, i) => col[i] ?? null);
      yield `    ${JSON.stringify(extras[k])}: ${JSON.stringify(full)}${k < extras.length - 1 ? ',' : ''}\n`;
    }
  } else {
    const names = Object.keys(capture.hits);
    for (let i = 0; i < names.length; i++) {
      yield `    ${JSON.stringify(names[i])}: ${JSON.stringify(capture.hits[names[i]])}${i < names.length - 1 ? ',' : ''}\n`;
    }
  }
  yield '  }' + text.slice(at + placeholder.length) + '\n';
}


/** Numbers per piece of JSON text written from a typed column (under 100 KB of text). */
const JSON_SLICE = 4096;
/** Room one number needs at most in formatIntegers (a comma, a sign, 17 digits, or String(v)). */
const NUMBER_ROOM = 32;
const digits = new Uint8Array(24);

/**
 * Writes values from piece[from] on as comma-separated JSON numbers into `out` until it is full;
 * integers are formatted by hand (no strings), anything else through String().
 */
function formatIntegers(piece: ArrayLike<number>, from: number, out: Buffer, leadingComma: boolean): { written: number; next: number } {
  let pos = 0;
  let i = from;
  const limit = out.length - NUMBER_ROOM;
  for (; i < piece.length && pos <= limit; i++) {
    if (leadingComma || i > from) out[pos++] = 0x2c;
    let v = piece[i];
    if (!Number.isSafeInteger(v)) {
      pos += out.write(JSON.stringify(v), pos, 'latin1');
      continue;
    }
    if (v < 0) {
      out[pos++] = 0x2d;
      v = -v;
    }
    let n = 0;
    do {
      digits[n++] = 48 + (v % 10);
      v = Math.floor(v / 10);
    } while (v > 0);
    while (n > 0) out[pos++] = digits[--n];
  }
  return { written: pos, next: i };
}

export function captureJson(capture: Capture, rows?: PackedHits): string {
  return [...captureJsonChunks(capture, rows)].join('');
}
