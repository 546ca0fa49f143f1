/**
 * The pure ffi-rs stop loop (used when the native helper cannot be built) must behave exactly
 * like the native one: same hits, same stacks.
 */
process.env.USTACK_NATIVE = '0';
import { expandHits } from '../../src/capture/model';
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { buildFixture } from '../helpers/fixtures';
import { namesUpToMain } from '../helpers/gdb';

afterAll(() => shutdownTracer());

test.each([
  ['-O0', ['-O0', '-g']],
  ['-O2 without frame pointers', ['-O2', '-g', '-fomit-frame-pointer']],
])('pure ffi-rs stop loop: same stacks as the native one (%s)', async (variant, flags) => {
  const bin = buildFixture('chain.c', { flags, variant: variant.replace(/\W+/g, '') });
  const viaFfi = await recordWithPtrace([bin, '3'], { hooks: ['leaf', 'top'] });
  expect(viaFfi.capture.stats.hits).toBe(9);
  const names = expandHits(viaFfi.capture).map((h) => namesUpToMain(h.frames.map((f) => ({ func: f.symbol ?? '??' }))).join(' > '));
  expect(names).toEqual([
    'top > main',
    'leaf > mid > top > main',
    'leaf > mid > top > main',
    'top > main',
    'leaf > mid > top > main',
    'leaf > mid > top > main',
    'top > main',
    'leaf > mid > top > main',
    'leaf > mid > top > main',
  ]);
});
