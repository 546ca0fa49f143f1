/**
 * Calls per path in the report (issue 13): summary.md and index.html show, per hook and call
 * path, the call count, how many returned (and why not), duration percentiles and the first
 * call's arguments and return, from a real run with arguments and returns recorded.
 */
import { expandHits } from '../../src/capture/model';
import * as path from 'node:path';
import type { Capture } from '../../src/capture/types';
import { formatDuration } from '../../src/capture/value-format';
import { record } from '../../src/record';
import { buildReport } from '../../src/report/build';
import { callStatsByPath, percentile } from '../../src/report/call-stats';
import { htmlData, renderHtml } from '../../src/report/html';
import type { UstackReport } from '../../src/report/model';
import { renderSummary } from '../../src/report/summary';
import { buildFixture } from '../helpers/fixtures';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { writeReport } from '../../src/report/write';
import { chromiumOrSkipReason, dumpDom } from './chromium';

const chromium = chromiumOrSkipReason();
const inBrowser = chromium.bin ? test : test.skip;
if (!chromium.bin) console.warn(chromium.reason);

let capture: Capture;
let report: UstackReport;

beforeAll(async () => {
  const bin = buildFixture('params.c', { libs: ['-lpthread'] });
  capture = (await record([bin], { hooks: ['xalloc', 'fact', 'jumper'], args: true, returns: true, timeout: 30000 })).capture;
  const root = path.dirname(bin);
  report = buildReport({
    title: 'calls',
    rootDir: root,
    traces: [{ schema: 1, testPath: path.join(root, 'calls.test.js'), tests: [{ title: ['calls'], fullName: 'calls', status: 'passed', captures: [capture] }] }],
    results: [{ testFilePath: path.join(root, 'calls.test.js'), numFailingTests: 0, testResults: [{ ancestorTitles: [], title: 'calls', fullName: 'calls', status: 'passed', failureMessages: [] }] }],
    run: { shard: null, startedAt: new Date().toISOString(), durationMs: 1, jestVersion: null, nodeVersion: process.version, success: true },
  });
});

test('nearest-rank percentiles', () => {
  const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  expect([50, 90, 99, 100].map((p) => percentile(sorted, p))).toEqual([5, 9, 10, 10]);
  expect(percentile([7], 50)).toBe(7);
});

test('per path: calls, returns with reasons, duration percentiles and the first call', () => {
  const xalloc = callStatsByPath(expandHits(capture).filter((h) => h.hook === 'xalloc'));
  const durations = expandHits(capture).filter((h) => h.hook === 'xalloc').map((h) => h.return!.durationNs).sort((a, b) => a - b);
  expect(xalloc).toEqual([
    {
      path: 'main > xalloc',
      calls: 2,
      returned: 2,
      noReturn: {},
      durations: { p50: durations[0], p90: durations[1], p99: durations[1], max: durations[1] },
      example: { call: expect.stringMatching(/^xalloc \(n=32, tag=0x[0-9a-f]+ "lex", flags=1\)$/), return: expect.stringMatching(/^=> 0x[0-9a-f]+$/) },
    },
  ]);
  const jumper = callStatsByPath(expandHits(capture).filter((h) => h.hook === 'jumper'));
  expect(jumper.map((s) => [s.path, s.calls, s.returned, s.noReturn, s.durations])).toEqual([
    ['main > jumper', 1, 0, { longjmp: 1 }, null],
    ['main > jumper > jumper', 1, 0, { longjmp: 1 }, null],
    ['main > jumper > jumper > jumper', 1, 0, { longjmp: 1 }, null],
  ]);
});

test('summary.md has a table of calls per path under each hook', () => {
  const md = renderSummary(report);
  expect(md).toContain('  | calls | returned | p50 | p90 | p99 | max | call path | first call |');
  expect(md).toContain('| 1 | 1 | ');
  expect(md).toMatch(/\| 1 \| 1 \| [^|]+ \| [^|]+ \| [^|]+ \| [^|]+ \| `main > fact > fact` \| `fact \(n=3\) => 6` \|/);
  expect(md).toContain('| 1 | 0 (1 longjmp) | – | – | – | – | `main > jumper` | `jumper (depth=2) => no return (longjmp)` |');
  const fastest = formatDuration(Math.min(...expandHits(capture).filter((h) => h.hook === 'xalloc').map((h) => h.return!.durationNs)));
  expect(md).toContain(`| 2 | 2 | ${fastest} |`);
});

test('index.html carries the same rows and draws them as a table', () => {
  const test0 = htmlData(report).files[0].tests[0];
  expect(test0.calls?.map((c) => [c.hook, c.rows.length])).toEqual([
    ['xalloc', 1],
    ['fact', 4],
    ['jumper', 3],
  ]);
  expect(test0.calls![1].rows[3]).toEqual(['1', '1', expect.any(String), expect.any(String), expect.any(String), expect.any(String), 'main > fact > fact > fact > fact', 'fact (n=1) => 1']);
  expect(renderHtml(report)).toContain('calls-table');
});

inBrowser('in Chromium, the page draws the calls table with its rows', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-calls-html-'));
  writeReport(report, out, { formats: ['html'] });
  const dom = dumpDom(chromium.bin!, path.join(out, 'index.html'));
  const tables = [...dom.matchAll(/<table class="calls-table">([\s\S]*?)<\/table>/g)].map((m) => m[1]);
  expect(tables).toHaveLength(3);
  expect(tables[1]).toContain('<th>p90</th>');
  expect(tables[1]).toContain('<td class="mono">main &gt; fact &gt; fact</td>');
  expect(tables[1]).toContain('<td class="mono">fact (n=3) =&gt; 6</td>');
  expect(tables[2]).toContain('<td class="num">0 (1 longjmp)</td>');
});
