/** Runs one trace request with the tracer and turns the raw result into a Capture. */
import { CaptureBuilder } from '../capture/model';
import { unpackHits, type PackedHits } from '../capture/packed-hits';
import type { Capture, CrashInfo } from '../capture/types';
import { Symbolizer } from '../symbolize/symbolizer';
import { libc } from './libc';
import type { TraceRequest } from './trace-request';
import { Tracer } from './tracer';

const symbolizer = new Symbolizer();

/** The capture with its hits as JSON arrays (what the worker hands the Jest environment). */
export function runTrace(req: TraceRequest, onPid: (pid: number) => void): Capture {
  const { capture, rows } = runTracePacked(req, onPid);
  capture.hits = unpackHits(rows);
  return capture;
}

/**
 * The capture with an empty `hits` table and the rows still in typed columns (the CLI writes
 * them out from there: a million hits never become JavaScript arrays).
 */
export function runTracePacked(req: TraceRequest, onPid: (pid: number) => void): { capture: Capture; rows: PackedHits } {
  const started = performance.now();
  const flag = new Int32Array(req.stopFlag);
  const tracer = new Tracer(libc(), {
    hooks: req.hooks,
    maxFrames: req.maxFrames,
    maxHits: req.maxHits,
    maxStacks: req.maxStacks,
    followChildren: req.followChildren,
    pinCpu: req.pinCpu,
    shouldStop: () => Atomics.load(flag, 0) !== 0,
    onProcess: onPid,
  });
  const raw = tracer.run(req);
  const durationMs = performance.now() - started;
  const builder = new CaptureBuilder(raw.hooks, { maxStacks: Infinity });
  // symbolized once per distinct stack; stacks that symbolize alike (other processes, a changed module list) merge
  const index = raw.stacks.map((s) => {
    const frames = symbolizer.stack(s.pcs, s.frameFlags, s.modules, !s.atInlineEntry);
    const hook = req.hooks[s.hook];
    const i = s.folded ? builder.foldedIndex(hook, frames, s.first) : builder.stackIndex(hook, frames, s.first);
    builder.count(i, s.count, s.first);
    return i;
  });
  const rows = raw.rows;
  rows.mapStacks((s) => index[s]);
  builder.drop(raw.dropped);
  let crash: CrashInfo | null = null;
  if (raw.crash) {
    const c = raw.crash;
    crash = {
      hook: '',
      pid: c.pid,
      tid: c.tid,
      seq: c.seq,
      frames: symbolizer.stack(c.pcs, c.frameFlags, c.modules),
      signal: c.signal,
      faultAddress: c.faultAddress === null ? null : '0x' + c.faultAddress.toString(16),
    };
  }
  const warnings = [...raw.warnings, ...symbolizer.takeWarnings()];
  const capture = builder.build({
    backend: 'ptrace',
    command: req.argv,
    exit: raw.exit,
    crash,
    stats: {
      hits: raw.hitCount,
      durationMs: Math.round(durationMs * 10) / 10,
      uniqueStacks: raw.uniqueStacks,
      killedLeftovers: raw.killedLeftovers,
    },
    warnings,
  });
  capture.stats.recorded = rows.length;
  if (raw.foldedHits > 0) {
    capture.stats.foldedStacks = raw.foldedStacks;
    capture.stats.foldedHits = raw.foldedHits;
  }
  return { capture, rows };
}
