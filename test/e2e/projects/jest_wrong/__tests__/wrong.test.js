const { trace } = require('jest-ustack');

test('deliberately wrong call path', async () => {
  const run = await trace(['./build/chain', '1'], { hooks: ['leaf'] });
  expect(run).toHaveCallPath('main > ** > top > leaf');
});

test('deliberately wrong exit expectation on a crash', async () => {
  const run = await trace(['./build/crash', 'crash'], { hooks: [] });
  expect(run).toExitWith(0);
});
