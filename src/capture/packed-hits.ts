/**
 * The hit table as the tracer fills it: typed-array columns (32 bytes a hit) in fixed chunks of
 * rows, so growing never copies and a million hits take 32 MB instead of six JavaScript arrays
 * (48 bytes a hit plus their growth slack). `unpackHits()` gives the JSON model's plain arrays.
 */
import type { HitTable } from './types';

export const HIT_COLUMNS = ['seq', 'hook', 'pid', 'tid', 'stack', 'ns'] as const;
export type HitColumnName = (typeof HIT_COLUMNS)[number];

const CHUNK = 65536;

type Chunk = Record<HitColumnName, Float64Array | Int32Array>;

function newChunk(): Chunk {
  return {
    seq: new Float64Array(CHUNK),
    hook: new Int32Array(CHUNK),
    pid: new Int32Array(CHUNK),
    tid: new Int32Array(CHUNK),
    stack: new Int32Array(CHUNK),
    ns: new Float64Array(CHUNK),
  };
}

export class PackedHits {
  private n = 0;
  private readonly chunks: Chunk[] = [];
  /** Optional per-hit columns (such as `args`), sparse: a row without a value has none. */
  readonly extra: Record<string, unknown[]> = {};

  get length(): number {
    return this.n;
  }

  /** Appends one row; returns its index. */
  push(seq: number, hook: number, pid: number, tid: number, stack: number, ns: number): number {
    const i = this.n;
    const at = i % CHUNK;
    if (at === 0) this.chunks.push(newChunk());
    const c = this.chunks[this.chunks.length - 1];
    c.seq[at] = seq;
    c.hook[at] = hook;
    c.pid[at] = pid;
    c.tid[at] = tid;
    c.stack[at] = stack;
    c.ns[at] = ns;
    this.n = i + 1;
    return i;
  }

  setExtra(row: number, name: string, value: unknown): void {
    (this.extra[name] ??= [])[row] = value;
  }

  get(column: HitColumnName, row: number): number {
    return this.chunks[Math.floor(row / CHUNK)][column][row % CHUNK];
  }

  /** The filled parts of one column, chunk by chunk (views, no copy). */
  *pieces(column: HitColumnName): Generator<Float64Array | Int32Array> {
    for (let k = 0; k < this.chunks.length; k++) {
      const filled = Math.min(CHUNK, this.n - k * CHUNK);
      yield this.chunks[k][column].subarray(0, filled);
    }
  }

  /** Rewrites the stack column in place (the tracer's stack numbers to the capture's). */
  mapStacks(map: (stack: number) => number): void {
    for (const piece of this.pieces('stack')) for (let i = 0; i < piece.length; i++) piece[i] = map(piece[i]);
  }
}

/** The JSON model's table (plain arrays; optional columns null-filled). */
export function unpackHits(rows: PackedHits): HitTable {
  const column = (name: HitColumnName): number[] => {
    const out = new Array<number>(rows.length);
    let i = 0;
    for (const piece of rows.pieces(name)) for (let k = 0; k < piece.length; k++) out[i++] = piece[k];
    return out;
  };
  const table: HitTable = { length: rows.length, seq: column('seq'), hook: column('hook'), pid: column('pid'), tid: column('tid'), stack: column('stack'), ns: column('ns') };
  for (const [name, col] of Object.entries(rows.extra)) table[name] = Array.from({ length: rows.length }, (_, i) => col[i] ?? null);
  return table;
}
