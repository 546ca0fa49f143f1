/**
 * The native loop's hit batch (native/stop_loop.c, HitBatch): plain breakpoint hits are saved
 * with their registers and live stack, stepped over natively and unwound afterwards. Whatever it
 * saves must give exactly the hits and stacks the one-stop-at-a-time path gives, for each
 * emulated first instruction, with threads, and where the stack outgrows the saved window.
 */
import { expandHits } from '../../src/capture/model';
import type { Capture } from '../../src/capture/types';
import { runTracePacked } from '../../src/ptrace/run-trace';
import { unpackHits } from '../../src/capture/packed-hits';
import type { TraceRequest } from '../../src/ptrace/trace-request';
import { buildFixture } from '../helpers/fixtures';

function trace(bin: string, args: string[], hooks: string[], batch: boolean, maxFrames = 64): { capture: Capture; batchedHits: number } {
  const req: TraceRequest = {
    id: 1,
    file: bin,
    argv: [bin, ...args],
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdin: '/dev/null',
    stdout: '/dev/null',
    stderr: '/dev/null',
    newProcessGroup: true,
    hooks,
    maxFrames,
    maxHits: Infinity,
    followChildren: true,
    pinCpu: true,
    batch,
    stopFlag: new SharedArrayBuffer(4),
  };
  const { capture, rows, batchedHits } = runTracePacked(req, () => {});
  capture.hits = unpackHits(rows);
  return { capture, batchedHits };
}

/** Each hit as its hook and frames, without what differs between two runs (addresses, ids, times). */
function hitLines(capture: Capture): string[] {
  return expandHits(capture).map(
    (h) => `${h.hook}: ${h.frames.map((f) => `${f.symbol ?? '??'}+${f.offset}@${f.line ?? ''}${f.inlined ? '[inlined]' : ''}${f.tailCall ? '[tail]' : ''}`).join(' < ')}`,
  );
}

describe.each([
  ['push %rbp entry (-O0)', ['-O0', '-g']],
  ['mov disp(%rip) entry (-O2 -fomit-frame-pointer)', ['-O2', '-g', '-fomit-frame-pointer']],
  ['endbr64 entry (-fcf-protection=full)', ['-O0', '-g', '-fcf-protection=full']],
])('hit batch: %s', (variant, flags) => {
  test('same hits in the same order as without it, nearly all of them batched', () => {
    const bin = buildFixture('chain.c', { flags, variant: `batch-${variant.replace(/\W+/g, '')}` });
    const batched = trace(bin, ['500'], ['leaf', 'top'], true);
    const plain = trace(bin, ['500'], ['leaf', 'top'], false);
    expect(batched.capture.stats.hits).toBe(1500);
    expect(hitLines(batched.capture)).toEqual(hitLines(plain.capture));
    expect(plain.batchedHits).toBe(0);
    // the first hit of each hook's breakpoint in the thread goes through TypeScript and measures the stack
    expect(batched.batchedHits).toBeGreaterThan(1490);
    const times = expandHits(batched.capture).map((h) => h.ns!);
    expect(times.every((t, i) => t >= 0 && (i === 0 || t >= times[i - 1]))).toBe(true);
  });
});

test('hit batch: threads give the same stacks with the same counts', () => {
  const bin = buildFixture('threads.c', { flags: ['-O0', '-g', '-pthread'], variant: 'batch' });
  const batched = trace(bin, ['2000'], ['leaf'], true);
  const plain = trace(bin, ['2000'], ['leaf'], false);
  expect(batched.capture.stats.hits).toBe(plain.capture.stats.hits);
  expect(batched.capture.stats.hits).toBeGreaterThan(4000);
  const counts = (c: Capture) => hitLines(c).reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<string, number>());
  expect(counts(batched.capture)).toEqual(counts(plain.capture));
  expect(batched.batchedHits).toBeGreaterThan(batched.capture.stats.hits * 0.9);
});

test('hit batch: hits whose live stack outgrows the saved window go through TypeScript, with the same stacks', () => {
  // descend(600) recurses 600 levels: from about level 250 on the stack is deeper than the 8 KiB a saved hit holds
  const bin = buildFixture('deep.c', { flags: ['-O0', '-g'], variant: 'batch' });
  const batched = trace(bin, ['600'], ['descend'], true, 1000);
  const plain = trace(bin, ['600'], ['descend'], false, 1000);
  expect(batched.capture.stats.hits).toBe(601);
  expect(hitLines(batched.capture)).toEqual(hitLines(plain.capture));
  const depth = expandHits(batched.capture).map((h) => h.frames.filter((f) => f.symbol === 'descend').length);
  expect(depth).toEqual(Array.from({ length: 601 }, (_, i) => i + 1));
  expect(batched.batchedHits).toBeGreaterThan(100);
  expect(batched.batchedHits).toBeLessThan(500);
});
