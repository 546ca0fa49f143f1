/**
 * `ustack record --args` / `--returns` as a user runs it: the compiled CLI on a real binary, the
 * call printed like gdb's frame line and the return like `finish` (issue 13).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { buildFixture } from '../helpers/fixtures';
import { expandHits } from '../../src/capture/model';
import type { Capture } from '../../src/capture/types';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
const bin = buildFixture('params.c', { libs: ['-lpthread'] });

function ustack(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--args prints each call as gdb frame lines do, without return lines', () => {
  const r = ustack(['record', '--args', '--hook', 'xalloc', '--hook', 'move', '--', bin]);
  expect(r.code).toBe(0);
  const lines = r.stdout.split('\n');
  const call = lines.findIndex((l) => /^hit 0: xalloc /.test(l));
  expect(lines[call + 1]).toMatch(/^ xalloc \(n=32, tag=0x[0-9a-f]+ "lex", flags=1\)$/);
  expect(r.stdout).toMatch(/^ move \(p=\{x = 4, y = -9\}, dx=2\)$/m);
  expect(r.stdout).not.toMatch(/^ =>/m);
});

test('--returns adds the return value and duration, or why there was none', () => {
  const r = ustack(['record', '--args', '--returns', '--hook', 'xalloc', '--hook', 'scale', '--hook', 'jumper', '--', bin]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^ xalloc \(n=32, tag=0x[0-9a-f]+ "lex", flags=1\)\n => 0x[0-9a-f]+ \(\d+(\.\d)? (ns|µs|ms)\)$/m);
  expect(r.stdout).toMatch(/^ scale \(x=1\.5, f=2, k=3\)\n => 6 \(/m);
  expect(r.stdout).toMatch(/^ jumper \(depth=0\)\n => no return: longjmp left it$/m);
});

test('--format json carries args, return and noReturn per hit and the return count', () => {
  const r = ustack(['record', '--format', 'json', '--args', '--returns', '--hook', 'fact', '--hook', 'jumper', '--', bin]);
  expect(r.code).toBe(0);
  const c = JSON.parse(r.stdout.slice(r.stdout.indexOf('{\n'))) as Capture;
  // schema 2: the values are per-hit columns next to seq, pid and stack
  expect(c.hits.args).toHaveLength(c.hits.length);
  const hits = expandHits(c);
  const facts = hits.filter((h) => h.hook === 'fact');
  expect(facts.map((h) => h.args)).toEqual([{ n: 4 }, { n: 3 }, { n: 2 }, { n: 1 }]);
  expect(facts.map((h) => h.return!.value)).toEqual([24, 6, 2, 1]);
  for (const h of facts) expect(h.return!.durationNs).toBeGreaterThan(0);
  const jumps = hits.filter((h) => h.hook === 'jumper');
  expect(jumps.map((h) => [h.return, h.noReturn])).toEqual([
    [null, 'longjmp'],
    [null, 'longjmp'],
    [null, 'longjmp'],
  ]);
  expect(c.stats.returns).toBe(4);
});

test('the stap backend refuses --args with a clear error', () => {
  const r = ustack(['record', '--backend', 'stap', '--args', '--hook', 'xalloc', '--', bin]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/ptrace backend only/);
});
