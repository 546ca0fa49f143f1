const { expect, test } = require('@jest/globals');
const { trace } = require('jest-ustack');

test('matchers work on the expect from @jest/globals', async () => {
  const run = await trace(['./build/chain', '1'], { hooks: ['mid'] });
  expect(run).toHaveCallPath('main > top > mid');
  expect(run).toHaveHit('mid', { times: 2 });
  expect(run.stacks('mid')).toMatchSnapshot();
});
