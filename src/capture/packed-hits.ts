/**
 * The hit table as the tracer fills it: typed-array columns (32 bytes a hit) that grow by half
 * when full, instead of six JavaScript arrays (48 bytes a hit plus their growth slack). A million
 * hits stay a few tens of MB; `toTable()` gives the JSON model's plain arrays.
 */
import type { HitTable } from './types';

/** The same columns as HitTable, typed; `extra` holds optional per-hit columns (sparse). */
export interface PackedHitTable {
  length: number;
  seq: Float64Array;
  hook: Int32Array;
  pid: Int32Array;
  tid: Int32Array;
  stack: Int32Array;
  ns: Float64Array;
  extra: Record<string, unknown[]>;
}

const INITIAL = 1024;

export class PackedHits {
  private n = 0;
  private seq = new Float64Array(INITIAL);
  private hook = new Int32Array(INITIAL);
  private pid = new Int32Array(INITIAL);
  private tid = new Int32Array(INITIAL);
  private stack = new Int32Array(INITIAL);
  private ns = new Float64Array(INITIAL);
  private readonly extra: Record<string, unknown[]> = {};

  get length(): number {
    return this.n;
  }

  /** Appends one row; returns its index. */
  push(seq: number, hook: number, pid: number, tid: number, stack: number, ns: number): number {
    const i = this.n;
    if (i === this.seq.length) this.grow();
    this.seq[i] = seq;
    this.hook[i] = hook;
    this.pid[i] = pid;
    this.tid[i] = tid;
    this.stack[i] = stack;
    this.ns[i] = ns;
    this.n = i + 1;
    return i;
  }

  /** Sets an optional per-hit value (such as `args`) of row `row`. */
  setExtra(row: number, name: string, value: unknown): void {
    (this.extra[name] ??= [])[row] = value;
  }

  /** Views of the filled part (no copy). */
  view(): PackedHitTable {
    const n = this.n;
    return {
      length: n,
      seq: this.seq.subarray(0, n),
      hook: this.hook.subarray(0, n),
      pid: this.pid.subarray(0, n),
      tid: this.tid.subarray(0, n),
      stack: this.stack.subarray(0, n),
      ns: this.ns.subarray(0, n),
      extra: this.extra,
    };
  }

  private grow(): void {
    const size = Math.ceil(this.seq.length * 1.5);
    const more = <T extends Float64Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.seq = more(this.seq);
    this.hook = more(this.hook);
    this.pid = more(this.pid);
    this.tid = more(this.tid);
    this.stack = more(this.stack);
    this.ns = more(this.ns);
  }
}

/** The JSON model's table (plain arrays; optional columns null-filled). */
export function unpackHits(t: PackedHitTable): HitTable {
  const table: HitTable = {
    length: t.length,
    seq: Array.from(t.seq),
    hook: Array.from(t.hook),
    pid: Array.from(t.pid),
    tid: Array.from(t.tid),
    stack: Array.from(t.stack),
    ns: Array.from(t.ns),
  };
  for (const [name, column] of Object.entries(t.extra)) {
    const full = new Array<unknown>(t.length);
    for (let i = 0; i < t.length; i++) full[i] = column[i] === undefined ? null : column[i];
    table[name] = full;
  }
  return table;
}
