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
  const parseStringRoot = frames.find((f) => f.label === 'parse_string — all 9 hits');
  expect(parseStringRoot?.attrs).toContain('data-count="9"');
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

maybe('clicking a frame zooms into it: it and its ancestors span the full width', () => {
  const html = fs.readFileSync(path.join(outDir, 'index.html'), 'utf8');
  const click = `<script>document.querySelector('.flame[data-hook="parse_string"] .frame[data-name="parse_array"]').click();</script>`;
  const zoomed = path.join(outDir, 'zoomed.html');
  fs.writeFileSync(zoomed, html.replace('</body>', `${click}</body>`));
  const dom = dumpDom(bin!, zoomed);
  const box = /<div class="flame" data-hook="parse_string"[^>]*>([\s\S]*?)<\/div><\/div>/.exec(dom)![1];
  const frames = [...box.matchAll(/<div class="frame[^"]*" data-name="([^"]*)" data-count="(\d+)"[^>]*style="([^"]*)"/g)].map((m) => ({
    name: m[1],
    count: Number(m[2]),
    width: Number(/width: ([\d.]+)%/.exec(m[3])![1]),
  }));
  const array = frames.find((f) => f.name === 'parse_array')!;
  expect(array.width).toBe(100);
  // only parse_array's subtree is drawn above it: nothing else reaches parse_string at the top-level object
  const widths = frames.filter((f) => f.name === 'parse_string' && f.count < 9).reduce((sum, f) => sum + f.width, 0);
  expect(widths).toBeCloseTo(100, 5);
  expect(frames.filter((f) => f.name === 'parse_string' && f.count < 9).reduce((n, f) => n + f.count, 0)).toBe(array.count);
});
