/**
 * The real-program lane's comparison: one program, a few hook specs, three independent counts of
 * every hook location (jest-ustack's ptrace backend with default options, kernel uprobes through
 * perf, gdb breakpoints) and every distinct stack against gdb's at the same stops.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Capture, Frame } from '../../src/capture/types';
import { recordWithPtrace } from '../../src/ptrace/ptrace-backend';
import { gdbPythonStops, runGdbScript, type GdbPyFrame } from './gdb';
import { uprobeCounts } from './uprobes';

/** Where gdb (which disables address randomization) loads a PIE executable. */
const GDB_PIE_BASE = 0x555555554000;

/** The link-time addresses gdb plants for `break <spec>` in `binary` (every location, sorted). */
export function gdbLocations(binary: string, spec: string): number[] {
  const out = runGdbScript([binary], ['set breakpoint pending off', 'set width 0', `break ${spec}`, 'info breakpoints']);
  const table = out.slice(out.indexOf('Num '));
  return [...new Set([...table.matchAll(/\b0x([0-9a-f]+) in /g)].map((m) => parseInt(m[1], 16)))].sort((a, b) => a - b);
}

/** One frame as the lane compares it: gdb's name, inline mark and file:line (basename). */
function row(name: string, inlined: boolean, file: string | null, line: number | null): string {
  return `${name}${inlined ? ' [inlined]' : ''} ${file ? path.basename(file) : '?'}:${line ?? '?'}`;
}

function ourStackKey(frames: Frame[]): string {
  const rows: string[] = [];
  for (const f of frames) {
    rows.push(row(f.symbol ?? '??', f.inlined, f.file, f.line));
    if (f.symbol === 'main') break;
  }
  return rows.join('\n');
}

function gdbStackKey(frames: GdbPyFrame[]): string {
  return frames.map((f) => row(f.func, f.inlined, f.file, f.line)).join('\n');
}

function sortedCounts(m: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export interface LaneLocation {
  hook: string;
  /** Link-time address (the offset from the load base of a PIE). */
  address: string;
  ours: number;
  uprobe: number;
  gdb: number;
}

export interface LaneHook {
  hook: string;
  /** Link-time addresses jest-ustack resolved the spec to, and those of gdb's `break`. */
  ourLocations: string[];
  gdbLocations: string[];
  /** Distinct stacks (frames up to main, one line each) with their hit counts. */
  ourStacks: Record<string, number>;
  gdbStacks: Record<string, number>;
}

export interface LaneResult {
  capture: Capture;
  /** Hits whose stack `asGdbShows` changed. */
  adjustedStacks: number;
  hooks: LaneHook[];
  locations: LaneLocation[];
}

const hex = (a: number) => `0x${a.toString(16)}`;

/** Runs `argv` (argv[0] = `binary`) under jest-ustack, under perf's uprobes and under gdb, with `hooks`. */
export async function compareWithOracles(
  binary: string,
  argv: string[],
  hooks: string[],
  options: {
    cwd?: string;
    gdbTimeoutMs?: number;
    afterOurRun?: () => void;
    /**
     * Our frames as gdb can show them, for a difference the test explains (where gdb is wrong by the
     * machine code); the stacks are compared after it, `adjustedStacks` counts what it changed.
     */
    asGdbShows?: (frames: Frame[]) => Frame[];
  } = {},
): Promise<LaneResult> {
  // the tracer names modules by their real path (as /proc/PID/maps does)
  binary = fs.realpathSync(binary);
  const { capture } = await recordWithPtrace(argv, { hooks, cwd: options.cwd });
  const ourFrames = options.asGdbShows ?? ((frames: Frame[]) => frames);
  if (capture.exit?.code !== 0) throw new Error(`${argv.join(' ')} under jest-ustack ended with ${JSON.stringify(capture.exit)}`);
  // what the traced run produced, checked before the oracles' runs overwrite it
  options.afterOurRun?.();

  const gdbLocs = new Map(hooks.map((h) => [h, gdbLocations(binary, h)]));
  const ourLocs = new Map(
    hooks.map((h) => [h, [...new Set(capture.hooks.find((x) => x.spec === h)!.resolved.filter((r) => r.module === binary).map((r) => parseInt(r.address, 16)))].sort((a, b) => a - b)]),
  );
  const all = [...new Set([...gdbLocs.values(), ...ourLocs.values()].flat())].sort((a, b) => a - b);
  const hookAt = new Map<number, string>();
  for (const [h, locs] of [...gdbLocs, ...ourLocs]) for (const a of locs) hookAt.set(a, h);

  const uprobe = uprobeCounts(binary, all, argv, { cwd: options.cwd });
  const stops = gdbPythonStops(argv, hooks, { cwd: options.cwd, maxStops: Infinity, timeoutMs: options.gdbTimeoutMs ?? 300000 });

  const ourCount = new Map<number, number>();
  let adjusted = 0;
  const ourStacks = new Map(hooks.map((h) => [h, new Map<string, number>()]));
  for (const s of capture.stacks) {
    const f0 = s.frames[0];
    if (f0?.module === binary && f0.offset) {
      const a = parseInt(f0.offset, 16);
      ourCount.set(a, (ourCount.get(a) ?? 0) + s.count);
    }
    const m = ourStacks.get(s.hook)!;
    const shown = ourFrames(s.frames);
    if (shown !== s.frames) adjusted += s.count;
    const key = ourStackKey(shown);
    m.set(key, (m.get(key) ?? 0) + s.count);
  }
  const gdbCount = new Map<number, number>();
  const gdbStacks = new Map(hooks.map((h) => [h, new Map<string, number>()]));
  for (const stop of stops) {
    const a = stop.pc - GDB_PIE_BASE;
    gdbCount.set(a, (gdbCount.get(a) ?? 0) + 1);
    const m = gdbStacks.get(hookAt.get(a) ?? `(no hook at ${hex(a)})`) ?? new Map<string, number>();
    if (!hookAt.has(a)) gdbStacks.set(`(no hook at ${hex(a)})`, m);
    const key = gdbStackKey(stop.frames);
    m.set(key, (m.get(key) ?? 0) + 1);
  }

  return {
    capture,
    adjustedStacks: adjusted,
    hooks: hooks.map((h) => ({
      hook: h,
      ourLocations: ourLocs.get(h)!.map(hex),
      gdbLocations: gdbLocs.get(h)!.map(hex),
      ourStacks: sortedCounts(ourStacks.get(h)!),
      gdbStacks: sortedCounts(gdbStacks.get(h)!),
    })),
    locations: all.map((a) => ({ hook: hookAt.get(a)!, address: hex(a), ours: ourCount.get(a) ?? 0, uprobe: uprobe.get(a)!, gdb: gdbCount.get(a) ?? 0 })),
  };
}
