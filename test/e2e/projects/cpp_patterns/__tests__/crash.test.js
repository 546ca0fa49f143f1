// A thread dereferences a null Ptr in operator->: every raw value of the run snapshots stably.
const { trace } = require('jest-ustack');

test('the crash, its frames, the hooks and the whole capture snapshot without addresses or ids', async () => {
  const run = await trace(['./build/calc', 'crash'], { hooks: ['calc::crash_on_thread'] });
  expect(run).toExitWith('SIGSEGV');
  expect(run).toHaveCrashedIn('calc::Ptr<calc::Node>::operator->');
  expect(run.crash).toMatchSnapshot();
  expect(run.crash.frames[0]).toMatchSnapshot();
  expect(run.hits).toMatchSnapshot();
  expect(run.capture.hooks).toMatchSnapshot();
  expect(run.capture).toMatchSnapshot();
  expect(run).toMatchSnapshot();
});
