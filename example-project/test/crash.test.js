// A real bug: walking through a `null` value dereferences a NULL pointer in lookup_step.
const path = require('node:path');
const { trace } = require('jest-ustack');

const root = path.resolve(__dirname, '..');

test('looking up a key below a null crashes in lookup_step', async () => {
  const run = await trace(['./build/cfgtool', 'get', 'fixtures/service.cfg', 'proxy.host'], { hooks: [], cwd: root });
  expect(run).toExitWith('SIGSEGV');
  expect(run).toHaveCrashedIn('lookup_step');
  expect(run.crash.frames[0].line).toBeGreaterThan(0);
  expect(run.callPaths()).toEqual([]);
});

test('looking up the null itself is fine', async () => {
  const run = await trace(['./build/cfgtool', 'get', 'fixtures/service.cfg', 'proxy'], { hooks: ['lookup_step'], cwd: root });
  expect(run).toExitWith(0);
  expect(run.stdout).toBe('null\n');
  expect(run).not.toHaveCrashedIn('lookup_step');
  expect(run).toHaveHit('lookup_step', { times: 1 });
});
