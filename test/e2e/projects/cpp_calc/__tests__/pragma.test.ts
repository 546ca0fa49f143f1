/**
 * @ustack-hooks calc::node_alloc
 */
// The docblock's hooks are this file's defaults: used by calls that pass no hooks, replaced by a
// call's own hooks (an explicit [] means none), and named as the origin when they match nothing.

test('a call without hooks uses the file-level ones', async () => {
  const run = await trace(['./build/calc', '1+2']);
  expect(run.capture.hooks.map((h) => h.spec)).toEqual(['calc::node_alloc']);
  expect(run).toHaveHit('calc::node_alloc', { times: 3 });
});

test("a call's own hooks replace them", async () => {
  const run = await trace(['./build/calc', '1+2'], { hooks: ['calc::evaluate'] });
  expect(run.capture.hooks.map((h) => h.spec)).toEqual(['calc::evaluate']);
});

test('hooks: [] means none', async () => {
  const run = await trace(['./build/calc', '1+2'], { hooks: [] });
  expect(run.capture.hooks).toEqual([]);
  expect(run.hits).toEqual([]);
});

test('another program: the unknown-hook error says the hook came from the pragma', async () => {
  await expect(trace(['/bin/sh', '-c', 'true'])).rejects.toThrow(/"calc::node_alloc"[\s\S]*came from the @ustack-hooks docblock pragma/);
  await expect(trace(['/bin/sh', '-c', 'true'], { hooks: [] })).resolves.toBeDefined();
  await expect(trace(['./build/calc', '1'], { hooks: ['calc::no_such_function'] })).rejects.toThrow(
    /"calc::no_such_function"[\s\S]*came from this trace\(\) call's hooks option\.$/,
  );
});
