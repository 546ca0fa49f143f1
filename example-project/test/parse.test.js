// Where does cfgtool allocate while it parses? Every node comes from the arena.
const path = require('node:path');
const { trace } = require('jest-ustack');

const root = path.resolve(__dirname, '..');
const cfgtool = (args, hooks) => trace(['./build/cfgtool', ...args], { hooks, cwd: root });

test('arrays and objects are allocated from the arena', async () => {
  const run = await cfgtool(['parse', 'fixtures/service.cfg'], ['arena_alloc']);
  expect(run).toExitWith(0);
  expect(run).toHaveCallPath('main > load > cfg_parse > ** > parse_array > arena_alloc');
  expect(run).toHaveCallPath('main > load > cfg_parse > parse_value > parse_object > arena_alloc');
  // printing the document back allocates nothing
  expect(run).not.toHaveCallPath('** > cfg_print > ** > arena_alloc');
});

test('a small document: every allocation, in order, in one snapshot', async () => {
  const run = await cfgtool(['parse', 'fixtures/ports.cfg'], ['arena_alloc']);
  expect(run).toExitWith(0);
  expect(run).toHaveCallPath('main > load > cfg_parse > parse_value > parse_object > parse_value > parse_array > arena_alloc');
  expect(run.callPaths('arena_alloc')).toMatchSnapshot();
});

test('strings are copied into the arena by parse_string and parse_key', async () => {
  const run = await cfgtool(['parse', 'fixtures/service.cfg'], ['arena_strndup', 'parse_string']);
  expect(run).toExitWith(0);
  // bare keys are copied with arena_strndup, quoted strings go through parse_string
  expect(run).toHaveCallPath('main > load > cfg_parse > ** > parse_object > parse_key > arena_strndup');
  expect(run).toHaveHit('parse_string', { times: 9 });
  expect(run.callPaths('parse_string')).toMatchSnapshot();
});

test('the arena grows by whole chunks, as `stats` reports', async () => {
  const run = await cfgtool(['stats', 'fixtures/service.cfg'], ['arena_grow']);
  expect(run).toExitWith(0);
  const chunks = Number(/arena_chunks (\d+)/.exec(run.stdout)[1]);
  expect(run).toHaveHit('arena_grow', { times: chunks });
  expect(run).toHaveCallPath('main > load > cfg_parse > ** > arena_alloc > arena_grow');
});
