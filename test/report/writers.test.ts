/**
 * The report writers on real stacks: cfgtool (example-project) run under gdb, its backtraces
 * turned into Captures, then report.json / summary.md / stacks.folded / index.html checked
 * against what gdb saw.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expandHits } from '../../src/capture/model';
import type { Capture } from '../../src/capture/types';
import { buildReport, type JestFileResultLike } from '../../src/report/build';
import { renderFolded } from '../../src/report/folded';
import { htmlData, renderHtml } from '../../src/report/html';
import type { UstackReport } from '../../src/report/model';
import type { TestFileTraces } from '../../src/report/run-files';
import { renderSummary, truncateMarkdown } from '../../src/report/summary';
import { writeReport } from '../../src/report/write';
import { buildCfgtool, EXAMPLE_ROOT } from './example-build';
import { gdbCapture } from './gdb-capture';
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { buildFixture } from '../helpers/fixtures';

let binary: string;
let parseRun: Capture;
let errorRun: Capture;
let crashRun: Capture;
let report: UstackReport;

/** gdb's view of a capture: caller-first names from main, counted. */
function expectedPaths(c: Capture, hook: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const hit of expandHits(c).filter((h) => h.hook === hook)) {
    const names = hit.frames.map((f) => f.symbol ?? '??');
    const upToMain = names.slice(0, names.indexOf('main') + 1).reverse().join(' > ');
    counts.set(upToMain, (counts.get(upToMain) ?? 0) + 1);
  }
  return counts;
}

beforeAll(() => {
  binary = buildCfgtool();
  parseRun = gdbCapture([binary, 'parse', 'fixtures/service.cfg'], ['arena_alloc', 'parse_string'], EXAMPLE_ROOT);
  errorRun = gdbCapture([binary, 'parse', 'fixtures/broken.cfg'], ['cfg_error'], EXAMPLE_ROOT);
  crashRun = gdbCapture([binary, 'get', 'fixtures/service.cfg', 'proxy.host'], [], EXAMPLE_ROOT);
  const traces: TestFileTraces[] = [
    {
      schema: 1,
      testPath: path.join(EXAMPLE_ROOT, 'test', 'parse.test.js'),
      tests: [{ title: ['parse', 'arena'], fullName: 'parse arena', status: 'passed', captures: [parseRun] }],
    },
    {
      schema: 1,
      testPath: path.join(EXAMPLE_ROOT, 'test', 'crash.test.js'),
      tests: [
        { title: ['syntax error'], fullName: 'syntax error', status: 'passed', captures: [errorRun] },
        { title: ['crash'], fullName: 'crash', status: 'failed', captures: [crashRun] },
      ],
    },
  ];
  const results: JestFileResultLike[] = [
    {
      testFilePath: path.join(EXAMPLE_ROOT, 'test', 'parse.test.js'),
      numFailingTests: 0,
      testResults: [{ ancestorTitles: ['parse'], title: 'arena', fullName: 'parse arena', status: 'passed', duration: 12, failureMessages: [] }],
    },
    {
      testFilePath: path.join(EXAMPLE_ROOT, 'test', 'crash.test.js'),
      numFailingTests: 1,
      testResults: [
        { ancestorTitles: [], title: 'syntax error', fullName: 'syntax error', status: 'passed', duration: 5, failureMessages: [] },
        {
          ancestorTitles: [],
          title: 'crash',
          fullName: 'crash',
          status: 'failed',
          duration: 7,
          failureMessages: ['\u001b[31mexpect(run).toExitWith(0)\u001b[39m\n\nkilled by SIGSEGV'],
        },
        { ancestorTitles: [], title: 'later', fullName: 'later', status: 'todo', duration: null, failureMessages: [] },
      ],
    },
  ];
  report = buildReport({
    title: 'cfgtool report',
    rootDir: EXAMPLE_ROOT,
    traces,
    results,
    run: { shard: null, startedAt: new Date(0).toISOString(), durationMs: 1, jestVersion: '30', nodeVersion: process.version, success: false },
  });
});

test('gdb produced real stacks for the writers', () => {
  expect(parseRun.exit).toEqual({ code: 0, signal: null });
  expect(expandHits(parseRun).filter((h) => h.hook === 'parse_string')).toHaveLength(9);
  expect(expandHits(parseRun).filter((h) => h.hook === 'arena_alloc').length).toBeGreaterThan(20);
  expect(errorRun.exit.code).toBe(1);
  expect(crashRun.crash?.signal).toBe('SIGSEGV');
  expect(crashRun.crash?.frames[0].symbol).toBe('lookup_step');
});

describe('report.json model', () => {
  test('paths inside rootDir become relative, Jest statuses and failures are joined', () => {
    expect(report.files.map((f) => f.path)).toEqual(['test/crash.test.js', 'test/parse.test.js']);
    const crashFile = report.files[0];
    expect(crashFile.status).toBe('failed');
    expect(crashFile.tests.map((t) => [t.fullName, t.status, t.captures.length])).toEqual([
      ['syntax error', 'passed', 1],
      ['crash', 'failed', 1],
      ['later', 'todo', 0],
    ]);
    expect(crashFile.tests[1].failureMessages[0]).toBe('expect(run).toExitWith(0)\n\nkilled by SIGSEGV');
    const frame = report.files[1].tests[0].captures[0].stacks[0].frames[0];
    expect(frame.file).toMatch(/^src\/(arena|parse)\.c$/);
    // the binary lives outside rootDir: kept absolute
    expect(report.files[1].tests[0].captures[0].command[0]).toBe(binary);
    expect(report.totals).toEqual({
      files: 2,
      tests: 4,
      passed: 2,
      failed: 1,
      skipped: 1,
      captures: 3,
      hits: expandHits(parseRun).length + expandHits(errorRun).length,
      crashes: 1,
    });
  });
});

describe('summary.md', () => {
  test('lists every hook with merged call paths counted as gdb saw them', () => {
    const md = renderSummary(report, { maxStacksPerHook: 1000 });
    for (const hook of ['arena_alloc', 'parse_string']) {
      const expected = expectedPaths(parseRun, hook);
      expect(expected.size).toBeGreaterThan(1);
      for (const [p, n] of expected) expect(md).toContain(`${n}× ${p}\n`);
      expect(md).toContain(`**${hook.replace(/_/g, '\\_')}**: ${expandHits(parseRun).filter((h) => h.hook === hook).length} hits`);
    }
    expect(md).toContain('1× main > load > cfg_parse > parse_value > parse_object > parse_value > parse_object > parse_value > parse_array > expect > cfg_error');
  });

  test('shows the crash with file:line, the exit, and the failure message', () => {
    const md = renderSummary(report);
    const top = crashRun.crash!.frames[0];
    expect(md).toContain('## Crashes');
    expect(md).toContain(`SIGSEGV in lookup\\_step`);
    expect(md).toContain(`#0 lookup_step (src/lookup.c:${top.line})`);
    expect(md).toContain(`#1 cfg_lookup (src/lookup.c:`);
    expect(md).toContain('killed by SIGSEGV');
    expect(md).toContain('exit 1');
    expect(md).toContain('expect(run).toExitWith(0)');
    expect(md).not.toContain('\u001b[');
  });

  test('says how many of a hook\'s hits are outside the program\'s run, which tests\' call paths leave out', async () => {
    // note(): from a constructor (before main), main, a thread, and an exit handler (after main)
    const bin = buildFixture('portable_paths.c', { libs: ['-lpthread'] });
    const { capture } = await recordWithPtrace([bin], { hooks: ['note'] });
    shutdownTracer();
    const phased: UstackReport = { ...report, files: [{ ...report.files[0], tests: [{ ...report.files[0].tests[0], captures: [capture] }] }] };
    const md = renderSummary(phased, { maxStacksPerHook: 1000 });
    expect(md).toContain('**note**: 4 hits (2 before main or after exit, which call paths in tests leave out), 4 distinct paths');
  });

  test('maxStacksPerHook cuts the list and says how many are left', () => {
    const distinct = expectedPaths(parseRun, 'arena_alloc').size;
    const md = renderSummary(report, { maxStacksPerHook: 2 });
    expect(md).toContain(`… ${distinct - 2} more (see report.json)`);
  });

  test('truncation keeps valid markdown under the limit', () => {
    const md = renderSummary(report, { maxStacksPerHook: 1000 });
    for (const limit of [600, 1500, 4000]) {
      const cut = truncateMarkdown(md, limit, 'see report.json');
      expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(limit);
      expect(cut).toContain('**Truncated:** see report.json');
      const fences = cut.split('\n').filter((l) => /^\s*```/.test(l)).length;
      expect(fences % 2).toBe(0);
    }
    expect(truncateMarkdown(md, md.length * 4, 'x')).toBe(md);
  });
});

describe('stacks.folded', () => {
  test('one caller-first line per unique stack under file, test and hook; counts add up to the hits', () => {
    const folded = renderFolded(report);
    const lines = folded.trimEnd().split('\n');
    let total = 0;
    for (const line of lines) {
      expect(line).toMatch(/^[^;\n]+(;[^;\n]+)+ \d+$/);
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    expect(total).toBe(expandHits(parseRun).length + expandHits(errorRun).length + 1);
    expect(new Set(lines.map((l) => l.slice(0, l.lastIndexOf(' ')))).size).toBe(lines.length);
    for (const [p, n] of expectedPaths(parseRun, 'parse_string')) {
      expect(lines).toContain(`test/parse.test.js;parse › arena;[hook parse_string];${p.split(' > ').join(';')} ${n}`);
    }
    expect(lines).toContain('test/crash.test.js;crash;[crash SIGSEGV];main;cfg_lookup;lookup_step 1');
  });
});

describe('index.html', () => {
  test('is self-contained and embeds one flame tree per test and hook', () => {
    const html = renderHtml(report);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!db:|cache:)/);
    const data = htmlData(report);
    const parseTest = data.files[1].tests[0];
    expect(parseTest.graphs.map((g) => [g.hook, g.hits])).toEqual([
      ['arena_alloc', expandHits(parseRun).filter((h) => h.hook === 'arena_alloc').length],
      ['parse_string', 9],
    ]);
    const tree = parseTest.graphs[1].tree;
    expect(tree.value).toBe(9);
    expect(tree.children.map((c) => c.name)).toEqual(['main']);
    // children never count more than their parent
    const check = (n: typeof tree): void => {
      expect(n.children.reduce((s, c) => s + c.value, 0)).toBeLessThanOrEqual(n.value);
      n.children.forEach(check);
    };
    check(tree);
    const main = tree.children[0];
    expect(main.locations[0][0]).toMatch(/^src\/main\.c:\d+$/);
    expect(data.files[0].tests[1].crashes[0].lines[0]).toBe(`#0 lookup_step (src/lookup.c:${crashRun.crash!.frames[0].line})`);
    // a "</script>" in the data cannot end the data block
    const hostile = renderHtml({ ...report, title: '</script><b>x' });
    expect(hostile.match(/<\/script>/g)).toHaveLength(2);
  });
});

describe('writeReport', () => {
  test('writes the four files, and appends a bounded summary to $GITHUB_STEP_SUMMARY', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-write-'));
    const step = path.join(dir, 'step-summary.md');
    fs.writeFileSync(step, 'x'.repeat(2000) + '\n');
    const written = writeReport(report, path.join(dir, 'out'), { githubStepSummary: step, maxSummaryBytes: 5000 });
    expect(Object.keys(written.files).sort()).toEqual(['folded', 'html', 'json', 'markdown']);
    expect(JSON.parse(fs.readFileSync(written.files.json!, 'utf8'))).toEqual(report);
    expect(fs.statSync(step).size).toBeLessThanOrEqual(5000);
    expect(fs.readFileSync(step, 'utf8')).toContain('GitHub step summary is limited to 1 MiB');
    expect(written.truncated).toBe(true);
    const only = writeReport(report, path.join(dir, 'only'), { formats: ['folded'] });
    expect(fs.readdirSync(path.join(dir, 'only'))).toEqual(['stacks.folded']);
    expect(only.files.folded).toBeDefined();
  });
});

describe('on our own tracer', () => {
  test('the ptrace backend gives the same merged call paths in summary.md as gdb', async () => {
    const { record } = await import('../../src/record');
    const { capture } = await record([binary, 'parse', 'fixtures/service.cfg'], { hooks: ['arena_alloc', 'parse_string'], cwd: EXAMPLE_ROOT, timeout: 60000 });
    const own = buildReport({
      title: 'ptrace',
      rootDir: EXAMPLE_ROOT,
      traces: [{ schema: 1, testPath: path.join(EXAMPLE_ROOT, 'test', 'parse.test.js'), tests: [{ title: ['t'], fullName: 't', captures: [capture] }] }],
      results: [],
      run: { shard: null, startedAt: new Date(0).toISOString(), durationMs: null, jestVersion: null, nodeVersion: process.version, success: null },
    });
    const md = renderSummary(own, { maxStacksPerHook: 1000 });
    const counted = (text: string) => [...text.matchAll(/^ {2}(\d+× main > .*)$/gm)].map((m) => m[1]).sort();
    const fromGdb = renderSummary({ ...report, files: [report.files[1]] }, { maxStacksPerHook: 1000 });
    expect(counted(md)).toEqual(counted(fromGdb));
    expect(counted(md).length).toBeGreaterThan(5);
    const folded = renderFolded(own).split('\n').map((l) => l.replace(/^[^;]+;[^;]+;/, '')).sort();
    const foldedGdb = renderFolded({ ...report, files: [report.files[1]] }).split('\n').map((l) => l.replace(/^[^;]+;[^;]+;/, '')).sort();
    expect(folded).toEqual(foldedGdb);
  });
});
