/**
 * Capture schema 2 on real traces: distinct stacks stored once with exact counts, hits as table
 * rows, maxHits bounding the rows and never the counts, the distinct-stack limit, schema 1 read back.
 */
import { buildFixture } from '../helpers/fixtures';
import { captureFromHits, captureJson, captureJsonChunks, expandHits, upgradeCapture } from '../../src/capture/model';
import { PackedHits } from '../../src/capture/packed-hits';
import type { Capture } from '../../src/capture/types';
import { DEFAULT_NORMALIZE } from '../../src/callpath/normalize';
import { createRun } from '../../src/jest/run';
import { matchers } from '../../src/jest/matchers';
import { runSnapshotView } from '../../src/jest/serializer';
import { recordInThisThread, recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { unpackHits } from '../../src/capture/packed-hits';
import { formatCapture } from '../../src/capture/text-format';
import { tracedRun } from '../jest/runs';
import '../../src/jest/matchers-types';

expect.extend(matchers);

const chain = buildFixture('chain.c');
const context = { normalize: { ...DEFAULT_NORMALIZE }, rootDir: '/nonexistent' };

afterAll(() => shutdownTracer());

test('100,000 hits of one call path serialize to less than 5 MB, with exact counts', async () => {
  // chain N: top runs N times and calls mid (then leaf) from two call sites: 2N hits, two distinct stacks, one path
  const { capture } = await recordWithPtrace([chain, '50000'], { hooks: ['leaf'], timeout: 120000 });
  expect(capture.stats).toMatchObject({ hits: 100000, recorded: 100000, dropped: 0, uniqueStacks: 2 });
  expect(capture.stacks.map((s) => [s.hook, s.count])).toEqual([['leaf', 50000], ['leaf', 50000]]);
  expect(capture.stacks[0].frames.slice(0, 4).map((f) => f.symbol)).toEqual(['leaf', 'mid', 'top', 'main']);
  expect(capture.hits.length).toBe(100000);
  expect(capture.hits.stack.filter((s) => s === 0)).toHaveLength(50000);
  expect(capture.hits.seq[99999]).toBe(99999);
  // timestamps are ns since start, in order
  expect(capture.hits.ns.every((ns, i) => i === 0 || ns >= capture.hits.ns[i - 1])).toBe(true);

  const pretty = captureJson(capture);
  const compact = JSON.stringify(capture);
  expect(Buffer.byteLength(pretty)).toBeLessThan(5 * 1024 * 1024);
  expect(Buffer.byteLength(compact)).toBeLessThan(5 * 1024 * 1024);
  // the stack table is a few KB; the rest is the hit rows
  expect(Buffer.byteLength(JSON.stringify(capture.stacks))).toBeLessThan(10000);
  expect(JSON.parse(pretty)).toEqual(JSON.parse(compact));

  const run = createRun(JSON.parse(pretty) as Capture, '', '', context);
  expect(run.callPaths()).toEqual(['100000× main > top > mid > leaf']);
  expect(run.stacks('leaf').map((s) => s.count)).toEqual([100000]); // both call sites of mid are on one line of top
  expect(run).toHaveHit('leaf', { times: 100000 });
  expect(run.hits).toHaveLength(100000);
  expect(run.hits[1]).toMatchObject({ hook: 'leaf', seq: 1 });
  // expanded hits share their stack's frames: no object graph per hit
  expect(run.hits[1].frames).toBe(run.capture.stacks[run.capture.hits.stack[1]].frames);
}, 180000);

test('the CLI path keeps the rows in typed chunks and writes the same JSON and text as the plain table', () => {
  // 80,000 rows: more than one chunk of 65,536
  const { capture, rows } = recordInThisThread([chain, '40000'], { hooks: ['leaf'], stdout: 'pipe', stderr: 'pipe' });
  expect(capture.hits.length).toBe(0);
  expect(rows.length).toBe(80000);
  const plain = { ...capture, hits: unpackHits(rows) };
  const json = JSON.parse(captureJson(capture, rows));
  expect(json).toEqual(JSON.parse(captureJson(plain)));
  expect(json.hits.seq).toEqual(Array.from({ length: 80000 }, (_, i) => i));
  // what the CLI writes: the typed columns formatted into one reused buffer, byte for byte the same text
  expect(writtenWithScratch(capture, rows, 4096)).toBe(captureJson(capture, rows));
  expect(json.stats).toMatchObject({ hits: 80000, recorded: 80000 });
  expect(formatCapture(capture, rows)).toBe(formatCapture(plain));
  expect(formatCapture(plain)).toMatch(/^stack 0: leaf, 40000 hits \(first: hit 0, pid \d+, tid \d+\)$/m);
}, 120000);

/** What the CLI writes: each piece consumed before the next is asked for (a view of the reused buffer). */
function writtenWithScratch(capture: Capture, rows: PackedHits, size: number): string {
  const pieces: Buffer[] = [];
  for (const c of captureJsonChunks(capture, rows, Buffer.alloc(size))) pieces.push(Buffer.from(c));
  return Buffer.concat(pieces).toString();
}

test('typed hit columns formatted into a reused buffer: the same JSON numbers as String() for every kind of value', () => {
  const rows = new PackedHits();
  const values = [0, 7, 10, 99, 100, 4294967295, 2 ** 40 + 3, 2 ** 53 - 1, 2 ** 53 + 2, -1, -123456, 1.5, 1e21];
  for (let i = 0; i < 3000; i++) {
    const v = values[i % values.length];
    rows.push(i, i % 3, 4242, -7, i % 11, v);
  }
  const capture = { schema: 2, stacks: [], hits: {} } as unknown as Capture;
  const viaScratch = writtenWithScratch(capture, rows, 300);
  expect(viaScratch).toBe(captureJson(capture, rows));
  expect(JSON.parse(viaScratch).hits.ns.slice(0, values.length)).toEqual(values);
});

describe('maxHits bounds the hit records, not the counts', () => {
  test('callPaths, stacks, toHaveHit and the snapshot view give true counts past maxHits', async () => {
    const run = await tracedRun('chain.c', ['50'], ['leaf', 'mid'], { maxHits: 5 });
    expect(run.capture.stats).toMatchObject({ hits: 200, recorded: 10, dropped: 190 });
    expect(run.hits).toHaveLength(10);
    expect(run.hits.filter((h) => h.hook === 'leaf')).toHaveLength(5);
    expect(run.callPaths('leaf')).toEqual(['100× main > top > mid > leaf']);
    expect(run.callPaths()).toEqual(['100× main > top > mid', '100× main > top > mid > leaf']);
    expect(run.stacks('mid').map((s) => s.count)).toEqual([100]);
    expect(run).toHaveHit('leaf', { times: 100 });
    expect(run).toHaveHit('mi*', { times: 100 });
    expect(runSnapshotView(run)).toMatchObject({ hits: { leaf: 100, mid: 100 }, callPaths: ['100× main > top > mid', '100× main > top > mid > leaf'] });
  });

  test('a program killed at its timeout: the rows stop at maxHits, the count goes on (issue 10: 5× instead of 522×)', async () => {
    const run = await tracedRun('hang.c', [], ['tick'], { maxHits: 5, timeout: 800 });
    expect(run.timedOut).toBe(true);
    expect(run.hits).toHaveLength(5);
    const total = run.capture.stats.hits;
    expect(total).toBeGreaterThan(5);
    const [line] = run.callPaths('tick');
    expect(line).toBe(`${total}× ${line.replace(/^\d+× /, '')}`);
    expect(run).toHaveHit('tick', { times: total });
  });
});

test('past the distinct-stack limit, further stacks fold into one per hooked function, and stats say so', async () => {
  const { capture } = await recordWithPtrace([chain, '30'], { hooks: ['leaf'], maxStacks: 1 });
  expect(capture.stacks).toHaveLength(2);
  expect(capture.stacks[0]).toMatchObject({ hook: 'leaf', count: 30 });
  expect(capture.stacks[0].folded).toBeUndefined();
  expect(capture.stacks[1]).toMatchObject({ hook: 'leaf', count: 30, folded: true });
  expect(capture.stacks[1].frames.map((f) => f.symbol)).toEqual(['leaf']);
  expect(capture.stats).toMatchObject({ hits: 60, foldedStacks: 1, foldedHits: 30 });
  const run = createRun(JSON.parse(JSON.stringify(capture)), '', '', context);
  expect(run.callPaths()).toEqual(['30× main > top > mid > leaf', '30× (folded) > leaf']);
  expect(run).toHaveHit('leaf', { times: 60 });
  expect(run).not.toHaveCallPath('main > ** > leaf', { hook: 'nothing' });
});

describe('one builder from full-frame hits (stap backend, schema 1)', () => {
  let real: Capture;
  beforeAll(async () => {
    real = (await recordWithPtrace([chain, '3'], { hooks: ['leaf', 'mid'], maxHits: 2 })).capture;
  });

  test('a schema-1 capture reads back as the same tables (its counts cover the hits it recorded)', () => {
    const { stacks: _s, hits: _h, ...rest } = real;
    const hits = expandHits(real).map(({ ns: _ns, ...h }) => h);
    const v1 = JSON.parse(JSON.stringify({ ...rest, schema: 1, hits }));
    const upgraded = upgradeCapture(v1);
    expect(upgraded.schema).toBe(2);
    expect(upgraded.stats).toEqual(real.stats);
    expect(expandHits(upgraded).map(({ ns: _ns, ...h }) => h)).toEqual(hits);
    expect(upgraded.stacks.map((s) => [s.hook, s.count, s.first])).toEqual([['mid', 1, 0], ['leaf', 1, 1], ['mid', 1, 2], ['leaf', 1, 3]]);
    expect(upgradeCapture(real)).toBe(real);
  });

  test('identical full stacks are stored once; rows stop at maxHits; optional per-hit columns are null-filled', () => {
    const full = expandHits(real);
    const again = captureFromHits(
      { backend: 'stap', command: real.command, exit: real.exit, crash: null, stats: { hits: 0, durationMs: 1 } },
      real.hooks,
      [...full, ...full].map((h, i) => ({ ...h, seq: i, extra: i === 1 ? { args: [7] } : undefined })),
      { maxHits: 3 },
    );
    expect(again.stacks.map((s) => [s.hook, s.count])).toEqual([['mid', 2], ['leaf', 2], ['mid', 2], ['leaf', 2]]);
    expect(again.stats).toMatchObject({ hits: 8, recorded: 6, dropped: 2 });
    expect(again.hits.seq).toEqual([0, 1, 2, 3, 4, 5]);
    expect(again.hits.args).toEqual([null, [7], null, null, null, null]);
  });

  test('input that is not a capture of a known schema fails with USTACK_BAD_CAPTURE', () => {
    expect(() => upgradeCapture({ schema: 3, exit: {}, hits: [] })).toThrow(expect.objectContaining({ code: 'USTACK_BAD_CAPTURE', message: expect.stringContaining('capture schema 3') }));
    expect(() => upgradeCapture({ hello: 1 })).toThrow(/not a jest-ustack capture/);
    expect(() => upgradeCapture({ schema: 2, exit: {}, hits: [] })).toThrow(/without a "stacks" table/);
  });
});
