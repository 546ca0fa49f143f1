// What cfgtool asks its arena for, and what it gets back: parameters and return values at hooks.
const path = require('node:path');
const { trace } = require('jest-ustack');

const root = path.resolve(__dirname, '..');
const cfgtool = (args, hooks) => trace(['./build/cfgtool', ...args], { hooks, cwd: root, args: true, returns: true });

test('parse_array asks for 4 item slots, and gets them', async () => {
  const run = await cfgtool(['parse', 'fixtures/ports.cfg'], ['arena_alloc']);
  expect(run).toExitWith(0);
  // items = arena_alloc(p->arena, 4 * sizeof *items): 32 bytes, on the parse_array path
  expect(run).toHaveCalled('arena_alloc', {
    with: { size: 32 },
    returned: expect.not.stringMatching(/^0x0$/), // not NULL
    path: 'main > load > cfg_parse > ** > parse_array > arena_alloc',
  });
  // no allocation ever fails (NULL would be "0x0")
  expect(run).not.toHaveCalled('arena_alloc', { returned: '0x0' });
});

test('bare keys are copied with their length and come back as strings', async () => {
  const run = await cfgtool(['parse', 'fixtures/ports.cfg'], ['arena_strndup']);
  expect(run).toExitWith(0);
  expect(run).toHaveCalled('arena_strndup', { with: { n: 5, s: expect.stringMatching(/^ports:/) }, returned: 'ports' });
  // pointers and durations are masked in the snapshot, so it holds across runs
  expect(run.calls('arena_strndup')).toMatchSnapshot();
});
