/**
 * @ustack-args
 * @ustack-returns
 */
const { trace } = require('jest-ustack');

test('the docblock switches on arguments and returns for every trace in the file', async () => {
  const run = await trace(['./build/params'], { hooks: ['scale'] });
  expect(run).toHaveCalled('scale', { with: { x: 1.5, f: 2, k: 3 }, returned: 6 });
});
