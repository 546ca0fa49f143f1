/**
 * The real-program lane's comparison: one program, a few hook specs, three independent counts of
 * every hook location (jest-ustack's ptrace backend with default options, kernel uprobes through
 * perf, gdb breakpoints) and every distinct stack against gdb's at the same stops.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Capture, Frame } from '../../src/capture/types';
import { recordWithPtrace } from '../../src/ptrace/ptrace-backend';
import { gdbPythonStops, runGdbScript, type GdbPyFrame } from './gdb';
import { uprobeCounts } from './uprobes';

const hex = (a: number) => `0x${a.toString(16)}`;

/** Where gdb (which disables address randomization) loads a PIE executable. */
const GDB_PIE_BASE = 0x555555554000;

/** gdb's locations of `break <spec>` for each spec planted in order: breakpoint number, location id (N or N.M), link-time address. */
export function gdbBreakLocations(binary: string, specs: string[]): { spec: string; id: string; address: number }[] {
  const out = runGdbScript([binary], ['set breakpoint pending off', 'set width 0', ...specs.map((s) => `break ${s}`), 'info breakpoints']);
  const table = out.slice(out.indexOf('Num '));
  const rows: { spec: string; id: string; address: number }[] = [];
  for (const m of table.matchAll(/^(\d+)(\.\d+)?\s+(?:breakpoint\s+keep\s+)?[yn]\S*\s+0x([0-9a-f]+) in /gm)) {
    rows.push({ spec: specs[Number(m[1]) - 1], id: m[1] + (m[2] ?? ''), address: parseInt(m[3], 16) });
  }
  return rows;
}

/** The link-time addresses gdb plants for `break <spec>` in `binary` (every location, sorted). */
export function gdbLocations(binary: string, spec: string): number[] {
  return [...new Set(gdbBreakLocations(binary, [spec]).map((r) => r.address))].sort((a, b) => a - b);
}

/** Start addresses of the functions in `binary`'s symbol table, ascending. */
function functionStarts(binary: string): number[] {
  const nm = execFileSync('nm', ['--defined-only', binary], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return [...new Set([...nm.matchAll(/^([0-9a-f]+) [tTwWiI] /gm)].map((m) => parseInt(m[1], 16)))].sort((a, b) => a - b);
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
  /** Locations where gdb's `break F` skips the prologue: compared at the function's entry instead. */
  prologueSkips: { hook: string; gdb: string; entry: string }[];
  /** Hits whose stack `asGdbShows` changed. */
  adjustedStacks: number;
  hooks: LaneHook[];
  locations: LaneLocation[];
}


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

  const ourLocs = new Map(
    hooks.map((h) => [h, [...new Set(capture.hooks.find((x) => x.spec === h)!.resolved.filter((r) => r.module === binary).map((r) => parseInt(r.address, 16)))].sort((a, b) => a - b)]),
  );
  // gdb's `break F` skips the prologue where the line table marks its end (rustc, clang); a hook
  // keeps the entry (README: "A hook plants where gdb's break F does"). Such a location is
  // compared as gdb's `break *ENTRY`: that location disabled, a breakpoint at the entry added.
  const planted = gdbBreakLocations(binary, hooks);
  const starts = functionStarts(binary);
  const startOf = (a: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= a) lo = mid;
      else hi = mid - 1;
    }
    return starts[lo];
  };
  const prologueSkips: { hook: string; gdb: string; entry: string }[] = [];
  const disable: string[] = [];
  const entryBreaks: string[] = [];
  for (const loc of planted) {
    const ours = ourLocs.get(loc.spec)!;
    const entry = startOf(loc.address);
    if (ours.includes(loc.address) || entry === loc.address || !ours.includes(entry)) continue;
    prologueSkips.push({ hook: loc.spec, gdb: hex(loc.address), entry: hex(entry) });
    disable.push(`disable ${loc.id}`);
    entryBreaks.push(`*0x${(entry + GDB_PIE_BASE).toString(16)}`);
  }
  const skipped = new Set(prologueSkips.map((p) => `${p.hook} ${p.gdb}`));
  const gdbLocs = new Map(
    hooks.map((h) => {
      const locs = planted.filter((l) => l.spec === h).map((l) => (skipped.has(`${h} ${hex(l.address)}`) ? startOf(l.address) : l.address));
      return [h, [...new Set(locs)].sort((a, b) => a - b)];
    }),
  );
  const all = [...new Set([...gdbLocs.values(), ...ourLocs.values()].flat())].sort((a, b) => a - b);
  const hookAt = new Map<number, string>();
  for (const [h, locs] of [...gdbLocs, ...ourLocs]) for (const a of locs) hookAt.set(a, h);

  const uprobe = uprobeCounts(binary, all, argv, { cwd: options.cwd });
  const stops = gdbPythonStops(argv, [...hooks, ...entryBreaks], {
    cwd: options.cwd,
    maxStops: 1_000_000_000,
    timeoutMs: options.gdbTimeoutMs ?? 300000,
    afterBreaks: disable,
  });

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
    prologueSkips,
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

/**
 * The oracle tests every real program of the lane runs, inside its describe: locations as gdb's
 * break, counts as uprobes and gdb, the tail-call chains gdb leaves out checked against the machine
 * code, and every distinct stack as gdb's bt. `lane()` hands the beforeAll's results.
 */
export function oracleTests(lane: () => { result: LaneResult; tailCalls: { checkAgainstMachineCode(): unknown[] } }, options: { adjustsStacks?: boolean } = {}): void {
  test('jest-ustack resolves each hook to the locations of gdb\'s break', () => {
    const { result } = lane();
    for (const h of result.hooks) expect({ hook: h.hook, locations: h.ourLocations }).toEqual({ hook: h.hook, locations: h.gdbLocations });
  });

  test('every location: jest-ustack count = kernel uprobe count = gdb count', () => {
    const { result } = lane();
    expect(result.locations.some((l) => l.uprobe > 0)).toBe(true);
    expect(result.locations.map((l) => ({ ...l, ours: l.ours }))).toEqual(result.locations.map((l) => ({ ...l, ours: l.uprobe })));
    expect(result.locations.map((l) => ({ ...l, gdb: l.gdb }))).toEqual(result.locations.map((l) => ({ ...l, gdb: l.uprobe })));
  });

  test('each tail-call chain gdb does not show (test/helpers/gdb-tail-calls.ts) is the machine code\'s: a call into its outer function, jumps down to the callee', () => {
    const { result, tailCalls } = lane();
    if (options.adjustsStacks) expect(result.adjustedStacks).toBeGreaterThan(0);
    expect(tailCalls.checkAgainstMachineCode()).toEqual([]);
  });

  test('every distinct stack (names, inline frames, file:line) and its count equals gdb\'s bt', () => {
    const { result } = lane();
    for (const h of result.hooks) expect({ hook: h.hook, stacks: h.ourStacks }).toEqual({ hook: h.hook, stacks: h.gdbStacks });
  });
}
