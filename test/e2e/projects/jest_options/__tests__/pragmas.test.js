/**
 * @ustack-hooks leaf, top
 * @ustack-max-hits 1
 */
const { trace } = require('jest-ustack');

test('docblock pragmas add hooks and set maxHits for this file', async () => {
  const run = await trace(['./build/chain', '2']);
  expect(run.capture.hooks.map((h) => h.spec)).toEqual(['mid', 'leaf', 'top']);
  // one hit per hook kept, every hit counted
  expect(run.hits).toHaveLength(3);
  expect(run.callPaths()).toEqual(['2× main > top', '4× main > top > mid', '4× main > top > mid > leaf']);
});
