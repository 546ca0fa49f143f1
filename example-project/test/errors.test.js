// The error path: a syntax error is recorded once by cfg_error and unwinds to exit code 1.
const path = require('node:path');
const { trace } = require('jest-ustack');

const root = path.resolve(__dirname, '..');

test('a missing comma in an array is reported by parse_array', async () => {
  const run = await trace(['./build/cfgtool', 'parse', 'fixtures/broken.cfg'], { hooks: ['cfg_error'], cwd: root });
  expect(run).toExitWith(1);
  expect(run.stderr).toContain("fixtures/broken.cfg:3:44: error: expected ']' to close the array");
  expect(run).toHaveHit('cfg_error', { times: 1 });
  expect(run).toHaveCallPath('main > load > cfg_parse > ** > parse_array > expect > cfg_error');
  expect(run.callPaths('cfg_error')).toMatchSnapshot();
});

test('a missing key exits with 3 without touching the error path', async () => {
  const run = await trace(['./build/cfgtool', 'get', 'fixtures/service.cfg', 'listen.backlog'], {
    hooks: ['cfg_error', 'lookup_*'],
    cwd: root,
  });
  expect(run).toExitWith(3);
  expect(run).not.toHaveHit('cfg_error');
  expect(run).toHaveHit('lookup_member', { times: 2 });
  expect(run.callPaths('lookup_*')).toMatchSnapshot();
});
