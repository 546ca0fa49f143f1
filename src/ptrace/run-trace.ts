/** Runs one trace request with the tracer and turns the raw result into a Capture. */
import { CaptureBuilder } from '../capture/model';
import { unpackHits, type PackedHits } from '../capture/packed-hits';
import type { Capture, CrashInfo, HookResolution } from '../capture/types';
import type { CallRecord } from './tracer';
import { Symbolizer } from '../symbolize/symbolizer';
import { libc } from './libc';
import type { TraceRequest } from './trace-request';
import { Tracer } from './tracer';
import { configureDebugSearch } from '../elf/debug-search';
import { debuginfodWarnings } from '../elf/debug-advice';
import { takeDebugFileWarnings } from '../elf/debuginfo';
import { noteDebugFetchFailed, prepareDebugInfoSync } from '../elf/debug-prepare';
import type { ElfFile } from '../elf/elf-file';

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
export function runTracePacked(req: TraceRequest, onPid: (pid: number) => void): { capture: Capture; rows: PackedHits; batchedHits: number } {
  const started = performance.now();
  const flag = new Int32Array(req.stopFlag);
  if (req.debug) configureDebugSearch(req.debug);
  if (req.debugFailed) noteDebugFetchFailed(req.debugFailed);
  const tracer = new Tracer(libc(), {
    hooks: req.hooks,
    maxFrames: req.maxFrames,
    maxHits: req.maxHits,
    maxStacks: req.maxStacks,
    followChildren: req.followChildren,
    pinCpu: req.pinCpu,
    shouldStop: () => Atomics.load(flag, 0) !== 0,
    onProcess: onPid,
    args: req.args,
    returns: req.returns,
    batch: req.batch,
  });
  const raw = tracer.run(req);
  const durationMs = performance.now() - started;
  // modules nobody prepared before the run (dlopen'ed ones): their debug info before symbolizing
  // (every module mapped when a stack was taken, as gdb asks for every loaded object: few module maps, many stacks)
  const maps = new Set(raw.stacks.map((s) => s.modules));
  if (raw.crash) maps.add(raw.crash.modules);
  const modules = new Set<ElfFile>();
  for (const map of maps) for (const m of map.modules()) if (m.elf) modules.add(m.elf);
  const prepared = prepareDebugInfoSync([...modules]);
  const builder = new CaptureBuilder(raw.hooks, { maxStacks: Infinity });
  const inlineAt = inlinedHookNames(raw.hooks);
  // symbolized once per distinct stack; stacks that symbolize alike (other processes, a changed module list) merge
  const index = raw.stacks.map((s) => {
    const mod = s.pcs.length ? s.modules.find(s.pcs[0]) : null;
    const hookedInline = mod ? inlineAt.get(`${mod.path}:0x${(s.pcs[0] - mod.bias).toString(16)}`) : undefined;
    const frames = symbolizer.stack(s.pcs, s.frameFlags, s.modules, true, hookedInline, s.frameRegs);
    const hook = req.hooks[s.hook];
    const i = s.folded ? builder.foldedIndex(hook, frames, s.first) : builder.stackIndex(hook, frames, s.first, s.truncated);
    builder.count(i, s.count, s.first);
    return i;
  });
  const rows = raw.rows;
  rows.mapStacks((s) => index[s]);
  callValueColumns(rows, req);
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
      ...(c.truncated ? { truncated: true as const } : {}),
    };
  }
  const warnings = [...raw.warnings, ...(prepared ? debuginfodWarnings(prepared.failed, prepared.errors) : []), ...takeDebugFileWarnings(), ...symbolizer.takeWarnings()];
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
      ...(raw.returns !== undefined ? { returns: raw.returns } : {}),
    },
    warnings,
  });
  capture.stats.recorded = rows.length;
  if (raw.foldedHits > 0) {
    capture.stats.foldedStacks = raw.foldedStacks;
    capture.stats.foldedHits = raw.foldedHits;
  }
  return { capture, rows, batchedHits: raw.batchedHits };
}

/**
 * The per-call values of the kept hits (`call` records shared by the rows of one stop, completed
 * at the call's return) as the capture's columns: `args` with --args, `return` and `noReturn` with --returns.
 */
function callValueColumns(rows: PackedHits, req: TraceRequest): void {
  const calls = rows.extra.call as (CallRecord | undefined)[] | undefined;
  delete rows.extra.call;
  if (!req.args && !req.returns) return;
  for (let i = 0; i < rows.length; i++) {
    const c = calls?.[i];
    if (req.args) rows.setExtra(i, 'args', c?.args ?? {});
    if (req.returns) {
      rows.setExtra(i, 'return', c?.ret ?? null);
      if (!c?.ret) rows.setExtra(i, 'noReturn', c?.noReturn ?? 'unwound');
    }
  }
}
