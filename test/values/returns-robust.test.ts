/**
 * Return breakpoints under threads, fork, signals, exit and crashes (issue 13): every call is
 * matched to its own return per thread by stack pointer, a fork child returns through its copy
 * without a stray SIGTRAP, and calls that end otherwise say why.
 */
import { expandHits } from '../../src/capture/model';
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { buildFixture } from '../helpers/fixtures';

afterAll(() => shutdownTracer());

test('four threads at -O2: every call returns, matched on its own thread', async () => {
  const bin = buildFixture('threads.c', { flags: ['-O2', '-g'], libs: ['-lpthread'], variant: 'O2' });
  const { capture, stdout } = await recordWithPtrace([bin, '50'], { hooks: ['work', 'step', 'leaf'], args: true, returns: true, maxHits: 100000 });
  expect(stdout).toMatch(/^sink=/);
  expect(capture.exit).toEqual({ code: 0, signal: null });
  expect(capture.stats.hits).toBe(4 + 2 * 200);
  expect(capture.stats.returns).toBe(capture.stats.hits);
  for (const h of expandHits(capture)) expect(h.return).not.toBeNull();
  // work returns NULL; step and leaf are void
  expect(new Set(expandHits(capture).map((h) => `${h.hook} ${JSON.stringify(h.return!.value)}`))).toEqual(new Set(['work "0x0"', 'step null', 'leaf null']));
  // each thread's step(id + i) calls leaf((id + i) * 3): entries and returns interleave per thread, never across
  for (const tid of new Set(expandHits(capture).map((h) => h.tid))) {
    const mine = expandHits(capture).filter((h) => h.tid === tid && h.hook !== 'work');
    for (let i = 0; i < mine.length; i += 2) {
      expect([mine[i].hook, mine[i + 1].hook]).toEqual(['step', 'leaf']);
      expect(mine[i + 1].args!.x).toBe((mine[i].args!.x as number) * 3);
    }
  }
});

describe.each([true, false])('fork inside a hooked call (followChildren %s)', (follow) => {
  test('parent and child both return; a signal handler nests a call; exit ends one', async () => {
    const bin = buildFixture('params_fork.c');
    const { capture, stdout } = await recordWithPtrace([bin], { hooks: ['spawn_worker', 'busy', 'in_handler', 'quit'], args: true, returns: true, followChildren: follow });
    // the child was not killed by a return breakpoint left in its copy of the code
    expect(stdout).toContain('child -3\n');
    expect(stdout).toContain('parent 3 child exit 0\n');
    expect(stdout).toContain('busy 499500 handled 110\n');
    const byHook = Object.fromEntries(expandHits(capture).map((h) => [h.hook, h]));
    expect(expandHits(capture).map((h) => h.hook)).toEqual(['spawn_worker', 'busy', 'in_handler', 'quit']);
    expect(byHook.spawn_worker.return!.value).toBe(3);
    expect(byHook.busy.return!.value).toBe(499500);
    expect(byHook.in_handler).toMatchObject({ args: { sig: 10 }, return: { value: 110 } });
    expect(byHook.in_handler.frames.map((f) => f.symbol)).toContain('busy');
    expect(byHook.quit).toMatchObject({ return: null, noReturn: 'exit' });
    expect(capture.stats.returns).toBe(3);
  });
});

test('a crash inside a hooked call settles it as crash', async () => {
  const bin = buildFixture('crash_null.c');
  const { capture } = await recordWithPtrace([bin], { hooks: ['outer', 'inner'], returns: true });
  expect(capture.exit.signal).toBe('SIGSEGV');
  expect(expandHits(capture).map((h) => [h.hook, h.return, h.noReturn])).toEqual([
    ['outer', null, 'crash'],
    ['inner', null, 'crash'],
  ]);
});
