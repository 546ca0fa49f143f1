// cfg_print walks the document recursively: the call paths show the nesting of the input.
const path = require('node:path');
const { trace } = require('jest-ustack');

const root = path.resolve(__dirname, '..');

test('nested values are printed through cfg_print recursion', async () => {
  const run = await trace(['./build/cfgtool', 'get', 'fixtures/service.cfg', 'upstreams'], {
    hooks: ['print_*'],
    cwd: root,
  });
  expect(run).toExitWith(0);
  expect(run.stdout).toContain('"redis://cache:6379"');
  expect(run).toHaveCallPath('main > cfg_print > cfg_print > cfg_print > print_string');
  expect(run).toHaveCallPath('main > cfg_print > cfg_print > cfg_print > print_number');
  expect(run).not.toHaveCallPath('** > load > ** > print_*');
  expect(run.callPaths()).toMatchSnapshot();
});
