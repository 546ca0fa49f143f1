/**
 * A trace's time limit is the program's: it starts when the program does, not while the request
 * waits for the tracer (traces run one after another on its thread, as with test.concurrent).
 */
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { buildFixture } from '../helpers/fixtures';

afterAll(() => shutdownTracer());

test('a trace queued behind a long one is not timed out by its wait', async () => {
  const hang = buildFixture('hang.c');
  const chain = buildFixture('chain.c');
  // the first run holds the tracer until its own limit kills it; the second waits behind it
  // for longer than its own limit, then runs in a few milliseconds
  const long = recordWithPtrace([hang], { hooks: ['tick'], timeout: 3000, maxHits: 1 });
  const queued = recordWithPtrace([chain, '2'], { hooks: ['leaf'], timeout: 1500 });
  const [first, second] = await Promise.all([long, queued]);
  expect(first.capture.stats.timedOut).toBe(true);
  expect(second.capture.stats.timedOut).toBeUndefined();
  expect(second.capture.exit).toEqual({ code: 0, signal: null });
  expect(second.capture.hits).toHaveLength(4);
  expect(second.stdout).toMatch(/^total=\d+\n$/);
});
