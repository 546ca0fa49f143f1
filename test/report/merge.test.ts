/**
 * Sharded runs: two reports of disjoint test files (real ptrace captures of cfgtool) merged by
 * `ustack report merge` into one, with every output regenerated.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/report';
import { expandHits } from '../../src/capture/model';
import type { Capture } from '../../src/capture/types';
import { buildReport } from '../../src/report/build';
import { mergeReports, readReport } from '../../src/report/merge';
import type { UstackReport } from '../../src/report/model';
import { resolveReporterOptions } from '../../src/report/options';
import { writeReport } from '../../src/report/write';
import { record } from '../../src/record';
import { buildCfgtool, EXAMPLE_ROOT } from './example-build';

let binary: string;
let parseCapture: Capture;
let crashCapture: Capture;
let dir: string;
let shard1: UstackReport;
let shard2: UstackReport;

function shardReport(shard: string, file: string, name: string, capture: Capture): UstackReport {
  return buildReport({
    title: 'cfgtool suite',
    rootDir: EXAMPLE_ROOT,
    traces: [{ schema: 1, testPath: path.join(EXAMPLE_ROOT, file), tests: [{ title: [name], fullName: name, captures: [capture] }] }],
    results: [
      {
        testFilePath: path.join(EXAMPLE_ROOT, file),
        numFailingTests: 0,
        testResults: [{ ancestorTitles: [], title: name, fullName: name, status: 'passed', duration: 3, failureMessages: [] }],
      },
    ],
    run: { shard, startedAt: new Date().toISOString(), durationMs: 10, jestVersion: '30.5.2', nodeVersion: process.version, success: true },
  });
}

async function capture(args: string[], hooks: string[]): Promise<Capture> {
  return (await record([binary, ...args], { hooks, cwd: EXAMPLE_ROOT, timeout: 60000 })).capture;
}

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const so = jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const se = jest.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    so.mockRestore();
    se.mockRestore();
  }
}

beforeAll(async () => {
  binary = buildCfgtool();
  parseCapture = await capture(['parse', 'fixtures/service.cfg'], ['parse_string']);
  crashCapture = await capture(['get', 'fixtures/service.cfg', 'proxy.host'], []);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-merge-'));
  shard1 = shardReport('1/2', 'test/parse.test.js', 'parses', parseCapture);
  shard2 = shardReport('2/2', 'test/crash.test.js', 'crashes', crashCapture);
  writeReport(shard1, path.join(dir, 'shard-1'));
  writeReport(shard2, path.join(dir, 'shard-2'));
});

test('the ptrace captures are real', () => {
  expect(parseCapture.hits).toHaveLength(9);
  expect(crashCapture.crash?.signal).toBe('SIGSEGV');
  expect(crashCapture.crash?.frames[0].symbol).toBe('lookup_step');
});

test('mergeReports joins files, runs and totals', () => {
  const { report, duplicates } = mergeReports([shard2, shard1], { title: 'merged' });
  expect(duplicates).toEqual([]);
  expect(report.title).toBe('merged');
  expect(report.files.map((f) => f.path)).toEqual(['test/crash.test.js', 'test/parse.test.js']);
  expect(report.runs.map((r) => r.shard)).toEqual(['1/2', '2/2']);
  expect(report.totals).toEqual({ files: 2, tests: 2, passed: 2, failed: 0, skipped: 0, captures: 2, hits: 9, crashes: 1 });
  const again = mergeReports([shard1, shard1]);
  expect(again.duplicates).toEqual(['test/parse.test.js']);
  expect(again.report.files).toHaveLength(1);
});

test('`ustack report merge` regenerates every output from the merged data', async () => {
  const out = path.join(dir, 'merged');
  const r = await runCli(['merge', path.join(dir, 'shard-1'), path.join(dir, 'shard-2', 'report.json'), '--output', out, '--title', 'whole suite']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('Merged 2 reports: 2 test files, 2 tests, 2 traced runs, 9 hits, 1 crashes');
  expect(fs.readdirSync(out).sort()).toEqual(['index.html', 'report.json', 'stacks.folded', 'summary.md']);
  const merged = readReport(out);
  expect(merged.title).toBe('whole suite');
  expect(merged.files.map((f) => f.tests[0].captures[0])).toEqual([shard2.files[0].tests[0].captures[0], shard1.files[0].tests[0].captures[0]]);
  const md = fs.readFileSync(path.join(out, 'summary.md'), 'utf8');
  expect(md).toContain('merged shards 1/2, 2/2');
  expect(md).toMatch(/\d× main > load > cfg_parse > parse_value > parse_object > parse_value > parse_string\n/);
  expect(md).toMatch(/#0 lookup_step \(src\/lookup\.c:\d+\)/);
  const folded = fs.readFileSync(path.join(out, 'stacks.folded'), 'utf8');
  expect(folded).toContain('test/crash.test.js;crashes;[crash SIGSEGV];main;cfg_lookup;lookup_step 1\n');
  expect(folded.split('\n').filter((l) => l.startsWith('test/parse.test.js;parses;[hook parse_string];main;')).length).toBeGreaterThan(1);
  const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  expect(html).toContain('shards 1/2, 2/2');
});

test('a shard written before capture schema 2 (every hit with its stack) still merges, with the same counts and paths', async () => {
  // the schema-1 form of the same real capture: report schema 1, one full stack per hit
  const { stacks: _stacks, hits: _rows, ...rest } = shard1.files[0].tests[0].captures[0];
  const v1Capture = { ...rest, schema: 1, hits: expandHits(shard1.files[0].tests[0].captures[0]).map(({ ns: _ns, ...h }) => h) };
  const v1Report = { ...shard1, schema: 1, files: [{ ...shard1.files[0], tests: [{ ...shard1.files[0].tests[0], captures: [v1Capture] }] }] };
  const oldDir = path.join(dir, 'old-shard');
  fs.mkdirSync(oldDir, { recursive: true });
  fs.writeFileSync(path.join(oldDir, 'report.json'), JSON.stringify(v1Report));
  const upgraded = readReport(oldDir);
  expect(upgraded.schema).toBe(2);
  const capture = upgraded.files[0].tests[0].captures[0];
  expect(capture.schema).toBe(2);
  expect(capture.stacks.reduce((n, s) => n + s.count, 0)).toBe(9);
  expect(capture.hits.length).toBe(9);
  expect(capture.stacks.map((s) => [s.hook, s.count, s.frames])).toEqual(shard1.files[0].tests[0].captures[0].stacks.map((s) => [s.hook, s.count, s.frames]));

  const out = path.join(dir, 'merged-old');
  const r = await runCli(['merge', oldDir, path.join(dir, 'shard-2'), '--output', out]);
  expect(r.stderr).toBe('');
  expect(r.stdout).toContain('2 traced runs, 9 hits, 1 crashes');
  const fresh = path.join(dir, 'merged-new');
  await runCli(['merge', path.join(dir, 'shard-1'), path.join(dir, 'shard-2'), '--output', fresh]);
  const withoutDate = (f: string) => fs.readFileSync(f, 'utf8');
  expect(withoutDate(path.join(out, 'summary.md'))).toBe(withoutDate(path.join(fresh, 'summary.md')));
  expect(withoutDate(path.join(out, 'stacks.folded'))).toBe(withoutDate(path.join(fresh, 'stacks.folded')));

  // a capture of an unknown schema inside a report: a clear error naming it
  const broken = { ...v1Report, files: [{ ...v1Report.files[0], tests: [{ ...v1Report.files[0].tests[0], captures: [{ ...v1Capture, schema: 7 }] }] }] };
  fs.writeFileSync(path.join(oldDir, 'report.json'), JSON.stringify(broken));
  expect(() => readReport(oldDir)).toThrow(expect.objectContaining({ code: 'USTACK_BAD_REPORT', message: expect.stringMatching(/capture 1 of test "parses" in test\/parse\.test\.js: .*capture schema 7/) }));
});

test('bad inputs fail with a code and a message saying what to pass', async () => {
  const missing = await runCli(['merge', path.join(dir, 'nope'), '--output', path.join(dir, 'x')]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('Cannot merge');
  expect(missing.stderr).toContain('ENOENT');
  const other = path.join(dir, 'other.json');
  fs.writeFileSync(other, JSON.stringify({ kind: 'jest-ustack-report', schema: 99, files: [], runs: [] }));
  expect(() => readReport(other)).toThrow(expect.objectContaining({ code: 'USTACK_BAD_REPORT', message: expect.stringContaining('schema 99') }));
  fs.writeFileSync(other, '{"hello": 1}');
  expect(() => readReport(other)).toThrow(/not a jest-ustack report/);
  expect((await runCli(['merge', path.join(dir, 'shard-1')])).stderr).toContain('--output DIR is required');
  expect((await runCli(['merge', '--output', 'x'])).code).toBe(2);
  expect((await runCli(['merge', path.join(dir, 'shard-1'), '-o', 'x', '--bogus'])).stderr).toContain('Unknown option "--bogus"');
  expect((await runCli(['frobnicate'])).stderr).toContain('Unknown report command');
  const help = await runCli(['merge', '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('Usage: ustack report merge DIR... --output DIR');
});

test('merge refuses to overwrite an input and to merge one shard twice (exit 2) unless --force', async () => {
  const a = path.join(dir, 'refuse-a');
  const b = path.join(dir, 'refuse-b');
  writeReport(shard1, a);
  writeReport(shard2, b);
  const before = fs.readFileSync(path.join(a, 'report.json'), 'utf8');
  for (const output of [a, path.join(a, '.'), path.relative(process.cwd(), a)]) {
    const over = await runCli(['merge', a, b, '--output', output]);
    expect(over.code).toBe(2);
    expect(over.stderr).toContain(`is also an input (${a})`);
    expect(over.stderr).toContain('--force');
  }
  const viaFile = await runCli(['merge', path.join(a, 'report.json'), b, '-o', a]);
  expect(viaFile.code).toBe(2);
  expect(fs.readFileSync(path.join(a, 'report.json'), 'utf8')).toBe(before);

  const twice = await runCli(['merge', a, a, '--output', path.join(dir, 'twice')]);
  expect(twice.code).toBe(2);
  expect(twice.stderr).toContain('a test file is in more than one input (test/parse.test.js)');
  expect(fs.existsSync(path.join(dir, 'twice'))).toBe(false);

  const forcedTwice = await runCli(['merge', a, a, '--output', path.join(dir, 'twice'), '--force']);
  expect(forcedTwice.code).toBe(0);
  expect(forcedTwice.stderr).toContain('test/parse.test.js is in more than one input; kept the last one (--force)');
  expect(readReport(path.join(dir, 'twice')).files).toHaveLength(1);

  const forcedOver = await runCli(['merge', a, b, '--output', a, '--force']);
  expect(forcedOver.code).toBe(0);
  expect(readReport(a).files.map((f) => f.path)).toEqual(['test/crash.test.js', 'test/parse.test.js']);
});

test('reporter options: tuple values, USTACK_* variables override them', () => {
  const root = '/project';
  expect(resolveReporterOptions(undefined, root, {})).toEqual({
    outputDir: '/project/ustack-report',
    title: 'jest-ustack report: project',
    maxStacksPerHook: 20,
    formats: ['json', 'markdown', 'folded', 'html'],
    githubSummary: true,
    maxSummaryBytes: 1024 * 1024,
    silent: false,
  });
  const fromTuple = resolveReporterOptions({ outputDir: 'out/r', title: 'T', maxStacksPerHook: 5, formats: ['json'], githubSummary: false }, root, {});
  expect(fromTuple).toMatchObject({ outputDir: '/project/out/r', title: 'T', maxStacksPerHook: 5, formats: ['json'], githubSummary: false });
  const fromEnv = resolveReporterOptions({ outputDir: 'out/r', maxStacksPerHook: 5 }, root, {
    USTACK_REPORT_DIR: '/abs/dir',
    USTACK_REPORT_MAX_STACKS: '7',
    USTACK_REPORT_FORMATS: 'html,folded',
    USTACK_GITHUB_SUMMARY: '0',
    USTACK_REPORT_TITLE: 'CI',
  });
  expect(fromEnv).toMatchObject({ outputDir: '/abs/dir', maxStacksPerHook: 7, formats: ['html', 'folded'], githubSummary: false, title: 'CI' });
  expect(() => resolveReporterOptions({}, root, { USTACK_REPORT_MAX_STACKS: 'lots' })).toThrow(/USTACK_REPORT_MAX_STACKS must be a positive integer/);
  expect(() => resolveReporterOptions({ formats: ['pdf' as never] }, root, {})).toThrow(/unknown format "pdf"/);
});
