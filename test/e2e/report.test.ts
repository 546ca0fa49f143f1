/**
 * The reporter end to end: real Jest (against dist/) runs test/e2e/projects/report with the
 * `jest-ustack` preset on a real native program; the report files must hold the call paths,
 * the crash with file:line and the deliberate failure; index.html must draw in Chromium; and
 * two sharded runs merged with `ustack report merge` must give the same tests as one run.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { UstackReport } from '../../src/report/model';
import { buildFixture } from '../helpers/fixtures';
import { chromiumOrSkipReason, dumpDom, screenshot } from '../report/chromium';

const ROOT = path.resolve(__dirname, '..', '..');
const PROJECT = path.join(__dirname, 'projects', 'report');
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

let work: string;
let app: string;

interface JestRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runJest(args: string[], env: Record<string, string> = {}): JestRun {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, REPORT_APP: app, TMPDIR: path.join(work, 'tmp'), ...env };
  for (const key of Object.keys(childEnv)) {
    if (key.startsWith('USTACK_') && !(key in env)) delete childEnv[key];
  }
  delete childEnv.JEST_WORKER_ID;
  if (!('GITHUB_STEP_SUMMARY' in env)) delete childEnv.GITHUB_STEP_SUMMARY;
  const r = spawnSync(process.execPath, [JEST, '--ci', ...args], { cwd: work, env: childEnv, encoding: 'utf8', timeout: 300000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function readJson(file: string): UstackReport {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as UstackReport;
}

/** What must match between a whole run and merged shards: files, tests, statuses, call paths. */
function shape(report: UstackReport) {
  return report.files.map((f) => ({
    path: f.path,
    status: f.status,
    tests: f.tests.map((t) => ({ name: t.fullName, status: t.status, hits: t.captures.map((c) => c.hits.length), crash: t.captures.map((c) => c.crash?.signal ?? null) })),
  }));
}

let whole: JestRun;

beforeAll(() => {
  for (const entry of ['dist/jest/reporter.js', 'dist/index.js', 'dist/cli.js', 'jest-preset.js']) {
    if (!fs.existsSync(path.join(ROOT, entry))) throw new Error(`${entry} is missing: run \`npm run build\` before the e2e tests.`);
  }
  app = buildFixture('report_app.c');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-e2e-report-'));
  fs.cpSync(PROJECT, work, { recursive: true });
  fs.mkdirSync(path.join(work, 'node_modules'));
  fs.mkdirSync(path.join(work, 'tmp'));
  fs.symlinkSync(ROOT, path.join(work, 'node_modules', 'jest-ustack'), 'dir');
  whole = runJest([], { GITHUB_STEP_SUMMARY: path.join(work, 'step-summary.md') });
});

test('Jest fails only because of the deliberately wrong test, and says where the report is', () => {
  const out = whole.stdout + whole.stderr;
  expect(out).toContain('deliberately wrong');
  expect(out).toMatch(/Tests:\s+1 failed, 1 skipped, 1 todo, 3 passed, 6 total/);
  expect(whole.status).toBe(1);
  expect(out).toContain('jest-ustack: 4 traced runs');
  expect(out).toContain('ustack-report/index.html');
});

test('report.json holds every test file and test with its captures, without absolute project paths', () => {
  const report = readJson(path.join(work, 'ustack-report', 'report.json'));
  expect(report.kind).toBe('jest-ustack-report');
  expect(report.title).toBe('e2e report');
  expect(shape(report)).toEqual([
    {
      path: '__tests__/chain.test.js',
      status: 'passed',
      tests: [
        { name: 'chain leaf is reached through top and mid', status: 'passed', hits: [6], crash: [null] },
        { name: 'chain side calls leaf too', status: 'passed', hits: [3], crash: [null] },
        { name: 'chain more shapes', status: 'todo', hits: [], crash: [] },
      ],
    },
    {
      path: '__tests__/crash.test.js',
      status: 'failed',
      tests: [
        { name: 'the crash is caught in explode', status: 'passed', hits: [0], crash: ['SIGSEGV'] },
        { name: 'deliberately wrong: expects a clean exit from a crashing program', status: 'failed', hits: [1], crash: ['SIGSEGV'] },
        { name: 'skipped', status: 'pending', hits: [], crash: [] },
      ],
    },
  ]);
  expect(report.totals).toMatchObject({ files: 2, tests: 6, passed: 3, failed: 1, skipped: 2, captures: 4, hits: 10, crashes: 2 });
  expect(JSON.stringify(report)).not.toContain(work);
  expect(report.runs[0].success).toBe(false);
});

test('summary.md shows merged call paths, the crash stack with file:line, and the failure', () => {
  const md = fs.readFileSync(path.join(work, 'ustack-report', 'summary.md'), 'utf8');
  expect(md).toContain('# e2e report');
  expect(md).toContain('3× main > top > mid > leaf\n');
  expect(md).toContain('2× main > top > mid > leaf\n');
  expect(md).toContain('1× main > side > leaf\n');
  expect(md).toContain('3× main > top > mid\n');
  const src = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'report_app.c'), 'utf8').split('\n');
  const explodeLine = src.findIndex((l) => l.includes('void explode(')) + 1;
  expect(md).toContain(`#0 explode (${path.join(ROOT, 'test', 'fixtures', 'report_app.c')}:${explodeLine})`);
  expect(md).toContain('SIGSEGV in explode');
  expect(md).toMatch(/<summary>Failure<\/summary>[\s\S]*toExitWith/);
  const step = fs.readFileSync(path.join(work, 'step-summary.md'), 'utf8');
  expect(step).toBe(md + '\n');
});

test('stacks.folded has one caller-first line per stack under file, test and hook', () => {
  const folded = fs.readFileSync(path.join(work, 'ustack-report', 'stacks.folded'), 'utf8').trimEnd().split('\n');
  expect(folded).toEqual(
    expect.arrayContaining([
      '__tests__/chain.test.js;chain › leaf is reached through top and mid;[hook leaf];main;top;mid;leaf 3',
      '__tests__/chain.test.js;chain › leaf is reached through top and mid;[hook mid];main;top;mid 3',
      '__tests__/chain.test.js;chain › side calls leaf too;[hook leaf];main;side;leaf 1',
      '__tests__/crash.test.js;the crash is caught in explode;[crash SIGSEGV];main;detonate;explode 1',
    ]),
  );
  for (const line of folded) expect(line).toMatch(/^[^;]+(;[^;]+)+ \d+$/);
});

const { bin: chromium, reason } = chromiumOrSkipReason();
(chromium ? test : test.skip)(`index.html draws the flame graphs in Chromium${chromium ? '' : ` (${reason})`}`, () => {
  const html = path.join(work, 'ustack-report', 'index.html');
  const dom = dumpDom(chromium!, html);
  expect(dom).toMatch(/data-rendered="4"/);
  const labels = [...dom.matchAll(/<div class="frame[^"]*"[^>]*>([^<]*)<\/div>/g)].map((m) => m[1]);
  for (const name of ['main', 'top', 'mid', 'leaf', 'side', 'detonate']) expect(labels).toContain(name);
  expect(dom).toContain('SIGSEGV in explode');
  const png = path.join(work, 'report.png');
  screenshot(chromium!, html, png);
  expect(fs.statSync(png).size).toBeGreaterThan(10000);
  if (process.env.USTACK_KEEP_SCREENSHOT) fs.copyFileSync(png, process.env.USTACK_KEEP_SCREENSHOT);
});

test('the run directory is removed after the run', () => {
  expect(fs.readdirSync(path.join(work, 'tmp')).filter((f) => f.startsWith('jest-ustack-run-'))).toEqual([]);
});

test('sharded runs merged with `ustack report merge` equal one whole run', () => {
  const one = runJest(['--shard=1/2'], { USTACK_REPORT_DIR: path.join(work, 'shard-1') });
  const two = runJest(['--shard=2/2'], { USTACK_REPORT_DIR: path.join(work, 'shard-2') });
  expect([one.status, two.status].sort()).toEqual([0, 1]);
  const merged = spawnSync(
    process.execPath,
    [path.join(ROOT, 'dist', 'cli.js'), 'report', 'merge', path.join(work, 'shard-1'), path.join(work, 'shard-2'), '--output', path.join(work, 'merged')],
    { encoding: 'utf8' },
  );
  expect(merged.stderr).toBe('');
  expect(merged.status).toBe(0);
  const mergedReport = readJson(path.join(work, 'merged', 'report.json'));
  const wholeReport = readJson(path.join(work, 'ustack-report', 'report.json'));
  expect(shape(mergedReport)).toEqual(shape(wholeReport));
  expect(mergedReport.runs.map((r) => r.shard)).toEqual(['1/2', '2/2']);
  expect(fs.readFileSync(path.join(work, 'merged', 'stacks.folded'), 'utf8').split('\n').sort()).toEqual(
    fs.readFileSync(path.join(work, 'ustack-report', 'stacks.folded'), 'utf8').split('\n').sort(),
  );
});
