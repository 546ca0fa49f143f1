const { trace } = require('jest-ustack');

test('a hanging program fails the test before Jest times out, with its call paths', async () => {
  await trace(['./build/crash', 'hang'], { hooks: ['spin_forever'] });
});

test('an explicit timeout returns the partial run', async () => {
  const run = await trace(['./build/crash', 'hang'], { hooks: ['spin_forever'], timeout: 700 });
  expect(run.timedOut).toBe(true);
  expect(run.callPaths()).toEqual(['1× main > spin_forever']);
});

test('Jest timing out first still kills the traced program', async () => {
  await trace(['./build/crash', 'hang'], { hooks: ['tick'], maxHits: 5, timeout: 60000 });
}, 1500);

test('the next test runs normally', async () => {
  const run = await trace(['./build/crash'], { hooks: ['read_value'] });
  expect(run).toExitWith(0);
});
