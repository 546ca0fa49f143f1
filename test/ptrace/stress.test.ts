/**
 * The stress lane (issue 19): threads, `--returns`, fork, signals and batched hits, each traced
 * many times. Races between threads that stop at the same breakpoints show up only now and then,
 * and more often on a loaded machine, so every run must hold: the program is never killed, its
 * output and exit status equal an untraced run's, and every hook's count equals the program's own
 * count of its calls (printed to stdout). Runs alternate between the Jest environment's worker
 * thread and the CLI's main-thread tracer (their timing differs, and so do the races). Sized to about a minute on a 2-core machine; it must also
 * pass while other jobs load the machine (`/work/shared/tools/with-load -- npx jest test/ptrace/stress.test.ts`).
 */
import { spawnSync } from 'node:child_process';
import type { Capture } from '../../src/capture/types';
import { recordInThisThread, recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { buildFixture } from '../helpers/fixtures';

jest.setTimeout(300000);
afterAll(() => shutdownTracer());

function untraced(argv: string[]): { stdout: string; status: number | null; signal: string | null } {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return { stdout: r.stdout, status: r.status, signal: r.signal };
}

function hitsPerHook(capture: Capture): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(capture.hooks.map((h) => [h.spec, 0]));
  for (const s of capture.stacks) out[s.hook] += s.count;
  return out;
}

/** Every failed run, described; the test fails listing them all. */
function problems(label: string, capture: Capture, stdout: string, expected: { stdout: string; status: number | null }, counts: Record<string, number>): string[] {
  const out: string[] = [];
  if (capture.exit.signal) out.push(`${label}: killed by ${capture.exit.signal}`);
  else if (capture.exit.code !== expected.status) out.push(`${label}: exit ${capture.exit.code}, untraced ${expected.status}`);
  if (stdout !== expected.stdout) out.push(`${label}: output ${JSON.stringify(stdout.slice(0, 200))}, untraced ${JSON.stringify(expected.stdout.slice(0, 200))}`);
  const ours = hitsPerHook(capture);
  for (const [hook, n] of Object.entries(counts)) if (ours[hook] !== n) out.push(`${label}: ${hook} hit ${ours[hook]} times, called ${n} times`);
  if (capture.stats.returns !== undefined) {
    const entered = Object.values(ours).reduce((a, b) => a + b, 0);
    if (capture.stats.returns !== entered) out.push(`${label}: ${capture.stats.returns} returns for ${entered} calls`);
  }
  return out;
}

const RUNS = 12;

describe.each([
  ['-O0', ['-O0', '-g']],
  ['-O2', ['-O2', '-g']],
])('threads.c at %s, four threads through the same return addresses', (_opt, flags) => {
  const bin = buildFixture('threads.c', { flags, libs: ['-lpthread'], variant: `stress${flags[0]}` });
  const rounds = 1500;

  test.each([
    ['--returns', { returns: true }],
    ['--returns --args', { returns: true, args: true }],
    ['batched hits', {}],
  ])(`${RUNS} runs with %s: never killed, output and counts as the program's`, async (_name, extra) => {
    const argv = [bin, String(rounds)];
    const failures: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      // every other run on this thread, as the CLI traces (the worker thread is the Jest environment's way)
      const options = { hooks: ['work', 'step', 'leaf'], maxHits: 0, ...extra };
      const { capture, stdout } = run % 2 === 0 ? await recordWithPtrace(argv, options) : recordInThisThread(argv, options);
      // sink depends on how the threads interleave (sink ^= x races by design): the line's shape is the output
      const expected = { stdout: 'sink=N\n', status: 0 };
      failures.push(...problems(`run ${run}`, capture, stdout.replace(/^sink=-?\d+$/m, 'sink=N'), expected, { work: 4, step: 4 * rounds, leaf: 4 * rounds }));
    }
    expect(failures).toEqual([]);
  });
});

test(`count_oracle.c at -O2: ${RUNS * 2} runs with signals, a fork and batched hits, --returns or not`, async () => {
  const bin = buildFixture('count_oracle.c', { flags: ['-O2', '-g'], variant: 'O2' });
  const argv = [bin, '2000', '13', '777'];
  const expected = untraced(argv);
  expect(expected).toMatchObject({ status: 0, signal: null });
  const own = /plain=(\d+) other=(\d+) on_usr1=(\d+)/.exec(expected.stdout)!;
  const counts = { plain: Number(own[1]), other: Number(own[2]), on_usr1: Number(own[3]), in_child: 1, fork: 1 };
  const failures: string[] = [];
  for (let run = 0; run < RUNS * 2; run++) {
    const returns = run % 2 === 1;
    const options = { hooks: Object.keys(counts), maxHits: 0, returns };
    const { capture, stdout } = run % 4 < 2 ? await recordWithPtrace(argv, options) : recordInThisThread(argv, options);
    // the fork child's copies of the calls in progress return too: only the parent's count as calls
    const label = `run ${run}${returns ? ' --returns' : ''}`;
    failures.push(...problems(label, { ...capture, stats: { ...capture.stats, returns: undefined } }, stdout, expected, counts));
    if (returns && capture.stats.returns! < counts.plain + counts.other) failures.push(`${label}: ${capture.stats.returns} returns`);
  }
  expect(failures).toEqual([]);
});
