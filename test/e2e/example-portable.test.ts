/**
 * The README's first command runs example-project's Jest suite against its committed snapshots.
 * Those snapshots must hold on every machine: here they are checked (with --ci, so nothing is
 * written) with glibc's separate debug file (libc6-dbg) and with the debug-file search pointed at
 * an empty folder (USTACK_DEBUG_DIRS), on a private copy of the project.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from './jest-project';

const EXAMPLE = path.join(ROOT, 'example-project');
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

function copyExample(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-example-'));
  fs.cpSync(EXAMPLE, dir, { recursive: true, filter: (src) => !/\/(node_modules|build|ustack-report)$/.test(src) });
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'jest-ustack'), 'dir');
  execFileSync('make', ['-s', '-C', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  return dir;
}

function runJest(dir: string, env: Record<string, string>) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const key of Object.keys(childEnv)) if (key.startsWith('USTACK_') && !(key in env)) delete childEnv[key];
  delete childEnv.JEST_WORKER_ID;
  delete childEnv.GITHUB_STEP_SUMMARY;
  const r = spawnSync(process.execPath, [JEST, '--ci', '--rootDir', dir, '--no-cache'], { cwd: dir, env: childEnv, encoding: 'utf8', timeout: 300000 });
  return { status: r.status, output: (r.stdout + r.stderr).replace(/\u001b\[[0-9;]*m/g, '') };
}

test('example-project passes against its committed snapshots with and without glibc\'s debug file', () => {
  const dir = copyExample();
  const snapshots = fs.readdirSync(path.join(dir, 'test', '__snapshots__')).map((f) => fs.readFileSync(path.join(dir, 'test', '__snapshots__', f), 'utf8'));
  const noDebug = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-no-debug-'));
  for (const env of [{}, { USTACK_DEBUG_DIRS: noDebug }] as Record<string, string>[]) {
    const r = runJest(dir, env);
    expect({ env, status: r.status, output: r.status === 0 ? '' : r.output }).toEqual({ env, status: 0, output: '' });
    expect(r.output).toMatch(/Snapshots:\s+6 passed, 6 total/);
    expect(r.output).not.toMatch(/obsolete|written/);
  }
  const after = fs.readdirSync(path.join(dir, 'test', '__snapshots__')).map((f) => fs.readFileSync(path.join(dir, 'test', '__snapshots__', f), 'utf8'));
  expect(after).toEqual(snapshots);
});
