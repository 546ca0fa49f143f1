/**
 * Every `ustack` command ends itself once its output is flushed (issue 19: `ustack symbols` now
 * and then never exited on a loaded machine, its output complete, node waiting in its own
 * shutdown). Here a preloaded module leaves a timer running, the way any handle or background task
 * left behind would keep Node alive: each command must still exit, with its output and exit code.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFixture } from '../helpers/fixtures';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-exit-'));
const keepAlive = path.join(dir, 'keep-alive.js');
fs.writeFileSync(keepAlive, 'setInterval(() => {}, 1000);\n');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function ustack(args: string[]) {
  // the guard only ends a command that hangs (the test then fails on the signal); no command takes a minute
  const r = spawnSync(process.execPath, ['--require', keepAlive, CLI, ...args], { encoding: 'utf8', timeout: 60000, killSignal: 'SIGKILL' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const chain = buildFixture('chain.c');

test.each([
  ['symbols', ['symbols', chain, 'leaf'], 0, /entry\s+leaf/],
  ['symbols --json', ['symbols', chain, 'leaf', '--json'], 0, /"symbol": "leaf"/],
  ['symbols of an unknown function', ['symbols', chain, 'no_such_function'], 2, /^$/],
  ['record', ['record', '--hook', 'leaf', '--', chain, '1'], 0, /leaf, 1 hit/],
  ['record --format json', ['record', '--hook', 'leaf', '--format', 'json', '--', chain, '1'], 0, /"schema": 2/],
  ['doctor', ['doctor'], null, /ptrace: /],
  ['--help', ['--help'], 0, /Usage: ustack/],
  ['an unknown command', ['frobnicate'], 2, /^$/],
])('%s ends once its output is written, whatever is left running in the process', (_name, args, code, stdout) => {
  const r = ustack(args as string[]);
  expect(r.signal).toBeNull();
  if (code !== null) expect(r.code).toBe(code);
  expect(r.stdout).toMatch(stdout as RegExp);
});
