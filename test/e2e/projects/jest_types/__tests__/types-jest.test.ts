// @types/jest style: global `expect`, `test` and the global `trace` from the environment.
test('global trace and jest.Matchers', async () => {
  const run = await trace(['./build/chain'], { hooks: ['mid'] });
  expect(run).toHaveCallPath('main > top > mid');
  expect(run).toHaveHit('mid');
  expect(run.callPaths()).toHaveCallPath('** > mid');
  // @ts-expect-error toExitWith takes a code or a signal name
  expect(run).toExitWith(true);
});
