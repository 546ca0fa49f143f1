/** Runs one trace request with the tracer and turns the raw result into a Capture. */
import type { Capture, CrashInfo, Hit, HookResolution } from '../capture/types';
import type { RawStack } from './tracer';
import { Symbolizer } from '../symbolize/symbolizer';
import { libc } from './libc';
import type { TraceRequest } from './trace-request';
import { Tracer } from './tracer';

const symbolizer = new Symbolizer();

/** "module:0xaddress" of every hooked inlined copy -> the functions hooked there (frame 0 at that stop). */
function inlinedHookNames(hooks: HookResolution[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const hook of hooks) {
    for (const r of hook.resolved) {
      if (!r.inlined) continue;
      const key = `${r.module}:${r.address}`;
      const names = out.get(key);
      if (!names) out.set(key, [r.symbol]);
      else if (!names.includes(r.symbol)) names.push(r.symbol);
    }
  }
  return out;
}

export function runTrace(req: TraceRequest, onPid: (pid: number) => void): Capture {
  const started = performance.now();
  const flag = new Int32Array(req.stopFlag);
  const tracer = new Tracer(libc(), {
    hooks: req.hooks,
    maxFrames: req.maxFrames,
    maxHits: req.maxHits,
    followChildren: req.followChildren,
    pinCpu: req.pinCpu,
    shouldStop: () => Atomics.load(flag, 0) !== 0,
    onProcess: onPid,
    args: req.args,
    returns: req.returns,
  });
  const raw = tracer.run(req);
  const durationMs = performance.now() - started;
  const hits: Hit[] = [];
  const inlineAt = inlinedHookNames(raw.hooks);
  for (const h of raw.hits) {
    const mod = h.pcs.length ? h.modules.find(h.pcs[0]) : null;
    const hookedInline = mod ? inlineAt.get(`${mod.path}:0x${(h.pcs[0] - mod.bias).toString(16)}`) : undefined;
    const frames = symbolizer.stack(h.pcs, h.frameFlags, h.modules, true, hookedInline);
    for (const hook of h.hooks) hits.push({ hook: req.hooks[hook], pid: h.pid, tid: h.tid, seq: hits.length, frames, ...callValues(h, req) });
  }
  let crash: CrashInfo | null = null;
  if (raw.crash) {
    const c = raw.crash;
    crash = {
      hook: '',
      pid: c.pid,
      tid: c.tid,
      seq: hits.length,
      frames: symbolizer.stack(c.pcs, c.frameFlags, c.modules),
      signal: c.signal,
      faultAddress: c.faultAddress === null ? null : '0x' + c.faultAddress.toString(16),
    };
  }
  const warnings = [...raw.warnings, ...symbolizer.takeWarnings()];
  return {
    schema: 1,
    backend: 'ptrace',
    command: req.argv,
    exit: raw.exit,
    hooks: raw.hooks,
    hits,
    crash,
    stats: {
      hits: raw.hitCount,
      recorded: hits.length,
      dropped: raw.dropped,
      durationMs: Math.round(durationMs * 10) / 10,
      uniqueStacks: raw.uniqueStacks,
      killedLeftovers: raw.killedLeftovers,
      ...(raw.returns !== undefined ? { returns: raw.returns } : {}),
    },
    ...(warnings.length ? { warnings } : {}),
  };
}

/** The issue-13 fields of a hit: `args` with --args, `return` (and `noReturn`) with --returns. */
function callValues(h: RawStack, req: TraceRequest): Pick<Hit, 'args' | 'return' | 'noReturn'> {
  const out: Pick<Hit, 'args' | 'return' | 'noReturn'> = {};
  if (req.args) out.args = h.args ?? {};
  if (req.returns) {
    out.return = h.ret ?? null;
    if (!h.ret) out.noReturn = h.noReturn ?? 'unwound';
  }
  return out;
}
