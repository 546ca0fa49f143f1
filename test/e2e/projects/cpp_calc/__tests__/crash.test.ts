// A worker thread that crashes: the crash stack starts at the thread's routine.
import { trace } from 'jest-ustack';

test('the crashing thread is caught in calc::worker_main', async () => {
  const run = await trace(['./build/calc', '--crash-thread']);
  expect(run).toExitWith('SIGSEGV');
  expect(run).toHaveCrashedIn('calc::worker_main');
});
