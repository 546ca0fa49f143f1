/**
 * The ptrace backend against gdb, the oracle: for every fixture, the function names of each hit's
 * stack (frame 0 up to main, or the thread's start routine) equal gdb's `bt` at the same
 * breakpoint, hit for hit, and the hit counts equal the true call counts.
 */
import { expandHits } from '../../src/capture/model';
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import type { Capture, Frame } from '../../src/capture/types';
import { buildFixture } from '../helpers/fixtures';
import { gdbBacktraces, namesUpToMain, type GdbFrame } from '../helpers/gdb';

afterAll(() => shutdownTracer());

/** Names the way gdb prints them: no parameter lists; stop at main or at the thread start routine. */
function ourNames(frames: Frame[]): string[] {
  const names: string[] = [];
  for (const f of frames) {
    names.push(f.symbol ?? '??');
    if (f.symbol === 'main') break;
  }
  return names;
}

function gdbNames(frames: GdbFrame[]): string[] {
  return namesUpToMain(frames.filter((f) => !f.signalHandler));
}

/** Compares stacks hit by hit (gdb: up to 200 stops). */
async function compareWithGdb(argv: string[], hooks: string[], gdbBreaks = hooks, options: { threaded?: boolean; startAt?: string } = {}) {
  const { capture } = await recordWithPtrace(argv, { hooks, maxHits: 100000 });
  // gdb 13's own displaced stepping loops forever on the -O2 threads build (leaf starts with
  // `lock add %rdi,sink(%rip)`); with it off gdb steps in place with all threads stopped
  const setup = options.threaded ? ['set displaced-stepping off'] : [];
  const oracle = gdbBacktraces(argv, { breakpoints: gdbBreaks, maxStops: 200, startAt: options.startAt, setup });
  if (oracle.length < 200) expect(expandHits(capture)).toHaveLength(oracle.length); // hit counts equal gdb's
  expect(oracle.length).toBeGreaterThan(0);
  const ours = expandHits(capture).slice(0, oracle.length).map((h) => ourNames(h.frames));
  const theirs = oracle.map(gdbNames);
  if (options.threaded) {
    // threads interleave differently under two tracers: compare the distinct stacks; the callers check the true call count
    const distinct = (list: string[][]) => [...new Set(list.map((s) => s.join(' > ')))].sort();
    expect(distinct(expandHits(capture).map((h) => ourNames(h.frames)))).toEqual(distinct(theirs));
  } else {
    expect(ours).toEqual(theirs);
  }
  return capture;
}

function countBy(capture: Capture, hook: string): number {
  return expandHits(capture).filter((h) => h.hook === hook).length;
}

describe.each([
  ['-O0', ['-O0', '-g']],
  ['-O2 without frame pointers', ['-O2', '-g', '-fomit-frame-pointer']],
  ['endbr64 entries', ['-O2', '-g', '-fcf-protection=full']],
  ['non-PIE', ['-O0', '-g', '-no-pie']],
])('call chain built %s', (variant, flags) => {
  const bin = buildFixture('chain.c', { flags, variant: variant.replace(/\W+/g, '') });

  test('stacks of leaf, mid and top equal gdb bt, hit for hit', async () => {
    const capture = await compareWithGdb([bin, '5'], ['leaf', 'mid', 'top']);
    // true call counts: top 5, mid 10, leaf 10
    expect(countBy(capture, 'top')).toBe(5);
    expect(countBy(capture, 'mid')).toBe(10);
    expect(countBy(capture, 'leaf')).toBe(10);
    expect(expandHits(capture)[0].frames[0]).toMatchObject({ symbol: 'top', symbolOffset: 0 });
    expect(capture.exit).toEqual({ code: 0, signal: null });
  });
});

describe('four threads', () => {
  const bin = buildFixture('threads.c', { libs: ['-lpthread'] });
  test.each([
    ['-O0', bin],
    ['-O2 without frame pointers', buildFixture('threads.c', { flags: ['-O2', '-g', '-fomit-frame-pointer'], libs: ['-lpthread'], variant: 'O2' })],
  ])('every hit of leaf is caught with its stack up to start_thread (%s)', async (_v, b) => {
    const capture = await compareWithGdb([b, '25'], ['leaf'], ['leaf'], { threaded: true });
    expect(countBy(capture, 'leaf')).toBe(100);
    const tids = new Set(expandHits(capture).map((h) => h.tid));
    expect(tids.size).toBe(4);
  });
});

describe('hooks in libc and frames through libc', () => {
  const bin = buildFixture('libc_calls.c');
  test('qsort comparator: frames inside libc back into the program equal gdb', async () => {
    await compareWithGdb([bin, '12'], ['by_value']);
  });
  test('malloc@libc.so.6 hits equal gdb, including calls made inside libc', async () => {
    // gdb's `break malloc` also stops in ld.so's private malloc and at malloc@plt; `*malloc` once libc is loaded is libc's only
    const capture = await compareWithGdb([bin, '12'], ['malloc@libc.so.6'], ['*malloc'], { startAt: 'main' });
    expect(expandHits(capture)).toHaveLength(3); // make_items, the label, stdio's buffer for puts
    expect(capture.hooks[0].resolved[0].module).toMatch(/libc\.so\.6$/);
  });
});
