/**
 * index.html in a real browser: headless Chromium loads the file offline, runs its script, and
 * the DOM must hold the flame-graph frames with their labels, counts and source locations.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildReport } from '../../src/report/build';
import { writeReport } from '../../src/report/write';
import { chromiumOrSkipReason, dumpDom, screenshot } from './chromium';
import { buildCfgtool, EXAMPLE_ROOT } from './example-build';
import { gdbCapture } from './gdb-capture';

const { bin, reason } = chromiumOrSkipReason();
const maybe = bin ? test : test.skip;
if (!bin) console.warn(reason);

let outDir: string;

beforeAll(() => {
  if (!bin) return;
  const binary = buildCfgtool();
  const parse = gdbCapture([binary, 'parse', 'fixtures/service.cfg'], ['arena_alloc', 'parse_string'], EXAMPLE_ROOT);
  const crash = gdbCapture([binary, 'get', 'fixtures/service.cfg', 'proxy.host'], [], EXAMPLE_ROOT);
  const testPath = path.join(EXAMPLE_ROOT, 'test', 'parse.test.js');
  const report = buildReport({
    title: 'cfgtool in Chromium',
    rootDir: EXAMPLE_ROOT,
    traces: [
      {
        schema: 1,
        testPath,
        tests: [
          { title: ['parses the service config'], fullName: 'parses the service config', captures: [parse] },
          { title: ['crashes below null'], fullName: 'crashes below null', captures: [crash] },
        ],
      },
    ],
    results: [],
    run: { shard: null, startedAt: new Date().toISOString(), durationMs: null, jestVersion: null, nodeVersion: process.version, success: null },
  });
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-html-'));
  writeReport(report, outDir, { formats: ['html'] });
});

maybe('the flame graphs are drawn with labels, counts and file:line', () => {
  const dom = dumpDom(bin!, path.join(outDir, 'index.html'));
  // the script ran and drew both graphs of the first test (the crash-only test has none)
  expect(dom).toMatch(/<body[^>]*data-rendered="2"/);
  const frames = [...dom.matchAll(/<div class="frame[^"]*"([^>]*)>([^<]*)<\/div>/g)].map((m) => ({ attrs: m[1], label: m[2] }));
  const labels = new Set(frames.map((f) => f.label));
  for (const name of ['arena_alloc', 'parse_string', 'main', 'load', 'cfg_parse', 'parse_value', 'parse_object', 'parse_array']) {
    expect(labels).toContain(name);
  }
  const parseStringRoot = frames.find((f) => f.label === 'parse_string' && /class="frame root"|data-count="9"/.test(f.attrs));
  expect(parseStringRoot).toBeDefined();
  expect(frames.some((f) => /data-location="src\/parse\.c:\d+"/.test(f.attrs))).toBe(true);
  // the crash list and stack
  expect(dom).toContain('SIGSEGV in lookup_step');
  expect(dom).toMatch(/#0 lookup_step \(src\/lookup\.c:\d+\)/);
});

maybe('a screenshot shows the graphs', () => {
  const png = path.join(outDir, 'report.png');
  screenshot(bin!, path.join(outDir, 'index.html'), png);
  const bytes = fs.readFileSync(png);
  expect(bytes.subarray(1, 4).toString()).toBe('PNG');
  expect(bytes.length).toBeGreaterThan(10000);
  if (process.env.USTACK_KEEP_SCREENSHOT) fs.copyFileSync(png, process.env.USTACK_KEEP_SCREENSHOT);
});
