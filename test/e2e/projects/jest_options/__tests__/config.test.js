const { trace } = require('jest-ustack');

test('environment options: default hooks, maxHits and normalization switches', async () => {
  const run = await trace(['./build/chain', '4']);
  expect(run.capture.hooks.map((h) => h.spec)).toEqual(['mid']);
  expect(run.hits.filter((h) => h.hook === 'mid')).toHaveLength(3);
  expect(run.capture.stats.dropped).toBe(5);
  // maxHits bounds the hits kept, never the counts: mid ran 8 times
  // startAtMain off: the path goes up to the libc start routine (but runtime frames are still dropped)
  expect(run.callPaths('mid')).toEqual(['8× main > top > mid']);
  expect(run).toHaveHit('mid', { times: 8 });
  const kept = await trace(['./build/chain', '1'], { normalize: { dropRuntimeFrames: false } });
  expect(kept.callPaths('mid')[0]).toMatch(/^2× .*__libc_start_\w+ > main > top > mid$/);
  // a call's own hooks replace the defaults; [] hooks nothing
  const own = await trace(['./build/chain', '1'], { hooks: ['leaf'] });
  expect(own.capture.hooks.map((h) => h.spec)).toEqual(['leaf']);
  const none = await trace(['./build/chain', '1'], { hooks: [] });
  expect(none.capture.hooks).toEqual([]);
  expect(none.hits).toEqual([]);
  // a configured hook that another program lacks: the error says where it came from
  await expect(trace(['./build/crash'])).rejects.toThrow(/"mid"[\s\S]*came from testEnvironmentOptions\.ustack\.hooks\. File-level hooks apply/);
});
