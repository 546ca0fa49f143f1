/**
 * Hit counts against three independent oracles (issue 19): the program's own count of its calls,
 * gdb's `break F` hit counts, and kernel uprobes (`perf probe` + `perf stat`), which count every
 * execution of an address without stopping the program. A hit recorded twice (a batch of saved
 * hits read again after a stop the native loop did not batch: a fork, a signal, an instruction
 * stepped out of line) or lost shows up here as a difference.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Capture } from '../../src/capture/types';
import { runTracePacked } from '../../src/ptrace/run-trace';
import type { TraceRequest } from '../../src/ptrace/trace-request';
import { buildFixture } from '../helpers/fixtures';
import { gdbHitCounts } from '../helpers/gdb';
import { countWithUprobes, uprobesUnavailable, type UprobeLocation } from '../helpers/uprobes';

/** Traces argv on this thread (batch: whether the native loop may save plain hits); the program's stdout comes back too. */
function trace(argv: string[], hooks: string[], batch: boolean): { capture: Capture; stdout: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-counts-'));
  try {
    const req: TraceRequest = {
      id: 1,
      file: argv[0],
      argv,
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdin: '/dev/null',
      stdout: path.join(dir, 'out'),
      stderr: '/dev/null',
      newProcessGroup: true,
      hooks,
      maxFrames: 64,
      maxHits: 0,
      followChildren: true,
      pinCpu: true,
      batch,
      stopFlag: new SharedArrayBuffer(4),
    };
    const { capture } = runTracePacked(req, () => {});
    return { capture, stdout: fs.readFileSync(path.join(dir, 'out'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const noUprobes = uprobesUnavailable();
if (noUprobes) console.warn(`hit-counts: ${noUprobes}; only the program's own counts and gdb's are compared.`);

/** Hits per hook spec, from the stacks' true counts. */
function hitsPerHook(capture: Capture): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(capture.hooks.map((h) => [h.spec, 0]));
  for (const s of capture.stacks) out[s.hook] += s.count;
  return out;
}

/** Hits per resolved location (module and link address of frame 0). */
function hitsPerLocation(capture: Capture): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of capture.stacks) {
    const key = `${s.frames[0].module}@${BigInt(s.frames[0].offset!)}`;
    out.set(key, (out.get(key) ?? 0) + s.count);
  }
  return out;
}

function locationsOf(capture: Capture): (UprobeLocation & { hook: string })[] {
  return capture.hooks.flatMap((h) => h.resolved.map((r) => ({ hook: h.spec, module: r.module, address: Number(BigInt(r.address)) })));
}

/** The uprobe count of every hook (its locations summed) and of every location, or null without uprobes. */
function uprobeCounts(argv: string[], capture: Capture): { perHook: Record<string, number>; perLocation: Map<string, number>; stdout: string } | null {
  if (noUprobes) return null;
  const locations = locationsOf(capture);
  const run = countWithUprobes(argv, locations);
  const perHook: Record<string, number> = Object.fromEntries(capture.hooks.map((h) => [h.spec, 0]));
  const perLocation = new Map<string, number>();
  locations.forEach((l, i) => {
    perHook[l.hook] += run.counts[i];
    perLocation.set(`${l.module}@${l.address}`, run.counts[i]);
  });
  return { perHook, perLocation, stdout: run.stdout };
}

describe.each([
  ['batched hits (the default)', true],
  ['one stop at a time', false],
])('count_oracle.c at -O2, %s', (_name, batch) => {
  const hooks = ['plain', 'other', 'on_usr1', 'in_child', 'fork'];

  test.each([
    ['saved hits followed by a hook stepped out of line', ['300']],
    ['with a signal handler hooked', ['300', '7']],
    ['with a fork', ['300', '0', '150']],
    ['with signals and a fork', ['300', '11', '40']],
  ])('%s: ours = the program = gdb = uprobes', (_case, args) => {
    const bin = buildFixture('count_oracle.c', { flags: ['-O2', '-g'], variant: 'O2' });
    const argv = [bin, ...args];
    const { capture, stdout } = trace(argv, hooks, batch);
    expect(capture.exit).toEqual({ code: 0, signal: null });
    const ours = hitsPerHook(capture);
    // what the program counted itself (the child prints its own in_child count)
    const own = /plain=(\d+) other=(\d+) on_usr1=(\d+)/.exec(stdout)!;
    const child = /child in_child=(\d+)/.exec(stdout);
    const forked = Number(args[2] ?? -1) >= 0 ? 1 : 0;
    expect(ours).toEqual({ plain: Number(own[1]), other: Number(own[2]), on_usr1: Number(own[3]), in_child: child ? Number(child[1]) : 0, fork: forked });
    expect(ours.plain).toBe(300);
    const gdb = gdbHitCounts(argv, hooks, { passSignals: ['SIGUSR1'] });
    expect(Object.values(ours)).toEqual(gdb);
    const kernel = uprobeCounts(argv, capture);
    if (kernel) {
      expect(ours).toEqual(kernel.perHook);
      expect(kernel.stdout).toBe(stdout);
    }
  });
});

test('split_body.c at -O2: each location of grow (the .part.0 body, the inlined heads) = uprobes, and the total = gdb', () => {
  const bin = buildFixture('split_body.c', { flags: ['-O2', '-g'], variant: 'O2' });
  const argv = [bin, '3000'];
  const { capture } = trace(argv, ['grow'], true);
  expect(capture.exit).toEqual({ code: 0, signal: null });
  expect(capture.hooks[0].resolved.map((r) => r.kind ?? (r.inlined ? 'inlined' : 'entry')).sort()).toEqual(['inlined', 'inlined', 'part']);
  const ours = hitsPerLocation(capture);
  // push grows 11 times (4 to 4096 doubling, then 8192) and push_many once; every push passes an inlined head
  expect(capture.stats.hits).toBe(3000 + 1 + 12);
  expect([capture.stats.hits]).toEqual(gdbHitCounts(argv, ['grow']));
  const kernel = uprobeCounts(argv, capture);
  if (kernel) {
    for (const l of locationsOf(capture)) expect([l, ours.get(`${l.module}@${l.address}`) ?? 0]).toEqual([l, kernel.perLocation.get(`${l.module}@${l.address}`)]);
  }
});
