/**
 * @ustack-hooks leaf, top
 * @ustack-max-hits 1
 */
const { trace } = require('jest-ustack');

test('docblock pragmas add hooks and set maxHits for this file', async () => {
  const run = await trace(['./build/chain', '2']);
  expect(run.capture.hooks.map((h) => h.spec)).toEqual(['mid', 'leaf', 'top']);
  expect(run.callPaths()).toEqual(['1× main > top', '1× main > top > mid', '1× main > top > mid > leaf']);
});
