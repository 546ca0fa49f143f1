const { trace } = require('jest-ustack');

test('environment options: default hooks, maxHits and normalization switches', async () => {
  const run = await trace(['./build/chain', '4'], { hooks: ['leaf'] });
  expect(run.capture.hooks.map((h) => h.spec)).toEqual(['mid', 'leaf']);
  expect(run.hits.filter((h) => h.hook === 'mid')).toHaveLength(3);
  expect(run.hits.filter((h) => h.hook === 'leaf')).toHaveLength(3);
  expect(run.capture.stats.dropped).toBe(10);
  // maxHits bounds the hits kept, never the counts: leaf ran 8 times
  // startAtMain off: the path goes up to the libc start routine (but runtime frames are still dropped)
  expect(run.callPaths('leaf')).toEqual(['8× main > top > mid > leaf']);
  expect(run).toHaveHit('leaf', { times: 8 });
  const kept = await trace(['./build/chain', '1'], { hooks: [], normalize: { dropRuntimeFrames: false } });
  expect(kept.callPaths('mid')[0]).toMatch(/^2× .*__libc_start_\w+ > main > top > mid$/);
});
