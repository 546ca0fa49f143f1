// Fails on purpose: the failure message must explain the 0 hits with the capture's warning.
const { trace } = require('jest-ustack');

test('a hook in a library the program never loads', async () => {
  const run = await trace(['./build/calc', '1+2'], { hooks: ['malloc@libfoo.so'] });
  expect(run).toHaveHit('malloc@libfoo.so');
});
