/**
 * Packaging end to end: `npm pack` of a clean checkout (the repository's files without dist/)
 * builds dist/ itself; the tarball holds no prebuilt native helper, no source maps and the
 * LICENSE; installed with npm into a fresh project, it runs a Jest suite with the preset on the
 * C++ calculator, building the native stop loop on this machine at first use.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFixture } from '../helpers/fixtures';
import { ROOT } from './jest-project';

const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

let work: string;
let tarball: string;

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 300000 });
  return { status: r.status, output: (r.stdout ?? '') + (r.stderr ?? '') };
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-e2e-pack-'));
  const checkout = path.join(work, 'checkout');
  fs.mkdirSync(checkout);
  // the files git would check out (tracked and new), without dist/ and the parts the package does not need
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && !/^(test|bench|example-project)\//.test(f) && fs.existsSync(path.join(ROOT, f)));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(checkout, f)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, f), path.join(checkout, f));
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(checkout, 'node_modules'), 'dir');
  const packed = sh('npm', ['pack', '--pack-destination', work], checkout);
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.output}`);
  tarball = path.join(work, fs.readdirSync(work).find((f) => f.endsWith('.tgz'))!);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('the tarball ships dist/ and the LICENSE, no prebuilt native helper and no source maps', () => {
  const entries = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const f of ['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/jest/environment.js', 'package/dist/jest/reporter.js', 'package/dist/cli.js', 'package/dist/ptrace/worker.js', 'package/native/stop_loop.c', 'package/LICENSE', 'package/README.md', 'package/jest-preset.js']) {
    expect(entries).toContain(f);
  }
  expect(entries.filter((f) => f.includes('dist/native') || f.endsWith('.map') || f.includes('/src/'))).toEqual([]);
  const license = execFileSync('tar', ['-xzOf', tarball, 'package/LICENSE'], { encoding: 'utf8' });
  expect(license).toContain('MIT License');
  expect(license).toContain('Copyright (c) 2026 jest-ustack contributors');
  const js = entries.filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'));
  const text = execFileSync('tar', ['-xzOf', tarball, ...js], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  expect(text).not.toContain('design.md');
  expect(text).not.toContain('sourceMappingURL');
});

test('installed with npm into a fresh project, the preset runs a traced test suite', () => {
  const app = path.join(work, 'app');
  fs.mkdirSync(path.join(app, '__tests__'), { recursive: true });
  fs.mkdirSync(path.join(app, 'build'));
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  // offline from the npm cache when it holds the dependencies, else from the registry
  const args = ['install', tarball, '--no-audit', '--no-fund', '--legacy-peer-deps'];
  let installed = sh('npm', [...args, '--offline'], app);
  if (installed.status !== 0 && /ENOTCACHED/.test(installed.output)) installed = sh('npm', [...args, '--prefer-offline'], app);
  expect(installed.output).not.toMatch(/npm error/);
  expect(installed.status).toBe(0);
  expect(fs.existsSync(path.join(app, 'node_modules', 'jest-ustack', 'dist', 'native'))).toBe(false);

  fs.copyFileSync(buildFixture('cpp_calc.cc', { flags: ['-O2', '-g', '-pthread'], variant: 'O2' }), path.join(app, 'build', 'calc'));
  fs.chmodSync(path.join(app, 'build', 'calc'), 0o755);
  fs.writeFileSync(path.join(app, 'jest.config.js'), "module.exports = { preset: 'jest-ustack', testTimeout: 30000 };\n");
  fs.writeFileSync(
    path.join(app, '__tests__', 'calc.test.js'),
    `const { trace } = require('jest-ustack');
test('node_alloc is reached from the parser', async () => {
  const run = await trace(['./build/calc', '1+2'], { hooks: ['calc::node_alloc'] });
  expect(run).toExitWith(0);
  expect(run).toHaveHit('calc::node_alloc', { times: 3 });
  expect(run).toHaveCallPath('main > calc::evaluate > ** > calc::node_alloc');
});
`,
  );
  const cache = path.join(work, 'xdg-cache');
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: cache };
  for (const key of Object.keys(env)) if (key.startsWith('USTACK_') || key === 'JEST_WORKER_ID' || key === 'GITHUB_STEP_SUMMARY') delete env[key];
  const r = sh(process.execPath, [JEST, '--rootDir', app, '--ci'], app, env);
  expect(r.output).toMatch(/Tests:\s+1 passed, 1 total/);
  expect(r.status).toBe(0);
  expect(r.output).toContain('jest-ustack: 1 traced run');
  const report = JSON.parse(fs.readFileSync(path.join(app, 'ustack-report', 'report.json'), 'utf8'));
  expect(report.runs[0].success).toBe(true);
  // the native stop loop was compiled here, at first use, against this machine's libc
  const built = fs.existsSync(cache) ? fs.readdirSync(path.join(cache, 'jest-ustack')).map((d) => path.join(cache, 'jest-ustack', d, 'libustack_stop.so')) : [];
  expect(built.filter((f) => fs.existsSync(f))).toHaveLength(1);
});
