const { trace } = require('jest-ustack');

test('arguments, returns and call paths through the environment', async () => {
  const run = await trace(['./build/params'], { hooks: ['xalloc', 'fact', 'move'], args: true, returns: true });
  expect(run).toExitWith(0);
  expect(run).toHaveCalled('xalloc', { with: { n: 32, tag: 'lex' }, returned: expect.stringMatching(/^0x/), path: 'main > xalloc' });
  expect(run).toHaveCalled('fact', { with: { n: expect.any(Number) }, path: 'main > ** > fact', times: 4 });
  expect(run).toHaveCalled('move', { returned: expect.objectContaining({ x: 6 }) });
  // values are made in the test's realm: plain objects and arrays
  const [first] = run.calls('move');
  expect(first.args.p).toStrictEqual({ x: 4, y: -9 });
  expect(run.calls('xalloc')).toMatchSnapshot();
  // a call taken out of the list, and lists made of its calls, are masked the same way
  const calls = run.calls('xalloc');
  expect(calls[0]).toMatchSnapshot('first call');
  expect(calls.slice(0, 1)).toMatchSnapshot('a slice');
  expect(calls.map((c) => c)).toMatchSnapshot('a mapped copy');
});

test('a wrong expectation shows the closest calls', async () => {
  const run = await trace(['./build/params'], { hooks: ['fact'], args: true, returns: true });
  expect(run).toHaveCalled('fact', { with: { n: 5 }, returned: 120 });
});
