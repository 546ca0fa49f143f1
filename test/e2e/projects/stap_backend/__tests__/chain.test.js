/**
 * @ustack-backend stap
 */
const { trace } = require('jest-ustack');

test('trace() runs under SystemTap and gives the same call paths as ptrace', async () => {
  const run = await trace(['./build/chain', '2'], { hooks: ['leaf', 'mid'] });
  expect(run.capture.backend).toBe('stap');
  expect(run).toExitWith(0);
  expect(run.stdout).toMatch(/^total=\d+\n$/);
  expect(run).toHaveCallPath('main > top > mid > leaf');
  expect(run).not.toHaveCallPath('main > leaf');
  expect(run).toHaveHit('leaf', { times: 4 });
  expect(run).toHaveHit('mid', { times: 4 });
  expect(run.callPaths('leaf')).toEqual(['4× main > top > mid > leaf']);
  expect(run.callPaths('mid')).toEqual(['4× main > top > mid']);
  expect(run.hits[0].frames[0]).toEqual(expect.objectContaining({ symbol: 'mid', symbolOffset: 0 }));
});
