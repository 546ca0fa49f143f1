/**
 * A C++ project at -O2 (test/fixtures/cpp_calc.cc: namespaces, a make_node<T, A...> template,
 * virtual eval(), exceptions with .cold parts, a crashing thread) run by real Jest with ts-jest
 * and the preset: concurrent tests and hooks get their own traced runs in the report, capture
 * warnings reach the console once per file, docblock hooks are defaults.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { UstackReport } from '../../src/report/model';
import { chromiumOrSkipReason, dumpDom } from '../report/chromium';
import { runGdbScript } from '../helpers/gdb';
import { JestProject, ROOT, type JestResult } from './jest-project';

const CALC = { calc: ['cpp_calc.cc', { flags: ['-O2', '-g', '-pthread'], variant: 'O2' }] } as Record<string, [string, { flags: string[]; variant: string }]>;

let project: JestProject;
let result: JestResult;
let report: UstackReport;

beforeAll(() => {
  // what a user has installed next to jest: ts-jest, typescript and the type packages
  project = new JestProject('cpp_calc', CALC, ['ts-jest', 'typescript', '@types', '@jest', 'expect', 'jest-matcher-utils', 'pretty-format', 'jest-environment-node']);
  result = project.run();
  report = JSON.parse(project.read('ustack-report/report.json')) as UstackReport;
});
afterAll(() => project.remove());

function file(name: string) {
  const f = report.files.find((x) => x.path === `__tests__/${name}`);
  if (!f) throw new Error(`${name} is not in report.json: ${report.files.map((x) => x.path).join(', ')}\n${result.output}`);
  return f;
}

test('the whole project passes, and report.json says so', () => {
  expect(result.output).toMatch(/Tests:\s+17 passed, 17 total/);
  expect(result.status).toBe(0);
  expect(report.runs[0].success).toBe(true);
  expect(report.totals).toMatchObject({ failed: 0, passed: 17 });
});

test('each concurrent test, beforeAll hook and describe block keeps its own traced runs', () => {
  const tests = file('concurrent.test.ts').tests.map((t) => ({ title: t.title, status: t.status, commands: t.captures.map((c) => c.command.slice(1).join(' ')) }));
  // in file order: a beforeAll entry comes before the tests of its describe block
  expect(tests).toEqual([
    { title: ['(beforeAll)'], status: 'unknown', commands: ['0+0'] },
    { title: ['arithmetic', '(beforeAll)'], status: 'unknown', commands: ['1*1'] },
    { title: ['arithmetic', 'evaluates 1+2'], status: 'passed', commands: ['1+2'] },
    { title: ['arithmetic', 'evaluates 2*3'], status: 'passed', commands: ['2*3'] },
    { title: ['arithmetic', 'evaluates (4+5)*6'], status: 'passed', commands: ['(4+5)*6'] },
    { title: ['functions', 'calls', 'evaluates sqr(7)'], status: 'passed', commands: ['sqr(7)'] },
    { title: ['functions', 'calls', 'evaluates sqrt(64)'], status: 'passed', commands: ['sqrt(64)'] },
    { title: ['functions', 'calls', 'evaluates 8/2-1'], status: 'passed', commands: ['8/2-1'] },
  ]);
  const md = project.read('ustack-report/summary.md');
  expect(md).not.toContain('no traced runs');
  const folded = project.read('ustack-report/stacks.folded');
  expect(folded).toContain('__tests__/concurrent.test.ts;functions › calls › evaluates sqrt(64);[hook calc::evaluate];main;calc::evaluate 1\n');
});

test('warnings are printed once per test file on the console, and shown in index.html', () => {
  const count = (text: string) => result.output.split(text).length - 1;
  expect(count('jest-ustack warning in __tests__/warnings.test.ts')).toBe(1);
  expect(count('libz-never-loaded.so.1 was never loaded')).toBe(1);
  expect(result.output).toMatch(
    /● jest-ustack warning in __tests__\/warnings\.test\.ts:\n\n\s+Hook "compress@libz-never-loaded\.so\.1": module libz-never-loaded\.so\.1 was never loaded, so the hook never fired\. \(2 traced runs\)/,
  );
  const html = project.read('ustack-report/index.html');
  expect(html).toContain('libz-never-loaded.so.1 was never loaded');
});

const { bin: chromium, reason } = chromiumOrSkipReason();
(chromium ? test : test.skip)(`index.html shows the warning on its test's card in Chromium${chromium ? '' : ` (${reason})`}`, () => {
  const dom = dumpDom(chromium!, project.file('ustack-report/index.html'));
  const warnings = [...dom.matchAll(/<div class="warning">([^<]*)<\/div>/g)].map((m) => m[1]);
  expect(warnings).toContain('\u26A0 Hook "compress@libz-never-loaded.so.1": module libz-never-loaded.so.1 was never loaded, so the hook never fired.');
});

test('without the reporter, the environment prints the warnings once per file', () => {
  const r = project.run(['__tests__/warnings.test.ts', '--reporters=default']);
  expect(r.status).toBe(0);
  expect(r.output.split('libz-never-loaded.so.1 was never loaded').length - 1).toBe(1);
  expect(r.output).toContain('● jest-ustack warning in __tests__/warnings.test.ts:');
});

/** gdb's hit count of each `break SPEC` over one run of the program. */
function gdbHitCounts(argv: string[], specs: string[]): number[] {
  const commands = ['set breakpoint pending off', 'set pagination off'];
  for (const spec of specs) commands.push(`break ${spec}`, 'commands', 'silent', 'continue', 'end');
  commands.push('run', 'info breakpoints');
  const out = runGdbScript(argv, commands, { cwd: project.dir });
  // `info breakpoints`: one row per breakpoint, then "breakpoint already hit N time(s)" when it was hit
  const rows = out.split(/\n(?=\d+\s+breakpoint\s)/).slice(1);
  expect(rows).toHaveLength(specs.length);
  return rows.map((row) => Number(/already hit (\d+) time/.exec(row)?.[1] ?? 0));
}

test('hit counts of functions with .cold parts equal gdb\'s breakpoint hit counts', () => {
  const tests = file('counts.test.ts').tests;
  expect(tests.map((t) => t.status)).toEqual(['passed', 'passed', 'passed', 'passed']);
  for (const t of tests) {
    const [capture] = t.captures;
    const specs = capture.hooks.map((h) => h.spec);
    const ours = specs.map((spec) => capture.stacks.filter((s) => s.hook === spec).reduce((n, s) => n + s.count, 0));
    expect({ input: capture.command[1], counts: ours }).toEqual({ input: capture.command[1], counts: gdbHitCounts(['./build/calc', capture.command[1]], specs) });
  }
});

test('docblock hooks are defaults: a call with its own hooks (or []) replaces them, errors name the pragma', () => {
  const tests = file('pragma.test.ts').tests;
  expect(tests.map((t) => t.status)).toEqual(['passed', 'passed', 'passed', 'passed']);
  expect(tests.map((t) => t.captures.map((c) => c.hooks.map((h) => h.spec)))).toEqual([[['calc::node_alloc']], [['calc::evaluate']], [[]], [[]]]);
});

test('a crash in a worker thread is filed under its test with the thread routine on the stack', () => {
  const [crash] = file('crash.test.ts').tests;
  expect(crash.captures[0].crash?.signal).toBe('SIGSEGV');
  expect(crash.captures[0].crash?.frames.map((f) => f.symbol)).toContain('calc::worker_main'); // named as gdb names it (DWARF, no parameter list)
});

test('the test files type-check with "types": ["jest-ustack"] (global trace, matchers) as the README says', () => {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', project.file('tsconfig.json')], { cwd: project.dir, encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});
