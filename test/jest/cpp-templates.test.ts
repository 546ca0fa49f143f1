/**
 * The Jest-facing layer on a real C++ -O2 program (test/fixtures/cpp_templates.cc) traced by the
 * real tracer: template steps and operator frames in matchers, masked snapshots of every raw value
 * a run hands out, frame-per-line call-path snapshots, option type checks, warnings in messages.
 */
import { failure } from '../helpers/matcher-failure';
import { format } from 'pretty-format';
import { tracedRun } from './runs';
import { matchers } from '../../src/jest/matchers';
import serializer, { scrubText } from '../../src/jest/serializer';
import { trace } from '../../src/jest/trace-client';
import type { Run } from '../../src/jest/run';
import { InvalidMatcherArgumentError, InvalidTraceOptionsError } from '../../src/errors';
import '../../src/jest/matchers-types';

expect.extend(matchers);

const FLAGS = ['-O2', '-g', '-std=c++20'];
const ROOT = '/work/nonexistent-root';
const print = (val: unknown) => format(val, { plugins: [serializer], escapeString: false, printBasicPrototype: false });

const HOOKS = ['calc::node_alloc', 'calc::operator>', 'calc::Lexer::operator>>', 'calc::Ptr<calc::Node>::operator->'];
let calc: Run;
let calcAgain: Run;
let crashed: Run;
let crashedAgain: Run;
beforeAll(async () => {
  calc = await tracedRun('cpp_templates.cc', ['1+2*3'], HOOKS, { flags: FLAGS, rootDir: ROOT });
  calcAgain = await tracedRun('cpp_templates.cc', ['1+2*3'], HOOKS, { flags: FLAGS, rootDir: ROOT });
  crashed = await tracedRun('cpp_templates.cc', ['crash'], ['calc::crash_on_thread'], { flags: FLAGS, rootDir: ROOT });
  crashedAgain = await tracedRun('cpp_templates.cc', ['crash'], ['calc::crash_on_thread'], { flags: FLAGS, rootDir: ROOT });
});

describe('template steps and operator frames in matchers', () => {
  test('the pattern of the issue and operator frames match; template arguments are checked against the run', () => {
    expect(calc).toHaveCallPath('main > calc::evaluate > ** > calc::make_node<*> > calc::node_alloc');
    expect(calc).toHaveCallPath('main > calc::evaluate > calc::parse > calc::Lexer::operator>> > calc::make_node<calc::Num, long&> > calc::node_alloc');
    expect(calc).toHaveCallPath('** > calc::parse > calc::make_node<calc::BinOp, char&, *> > calc::node_alloc');
    expect(calc).not.toHaveCallPath('** > calc::parse > calc::make_node<calc::Num, *> > calc::node_alloc');
    expect(calc).toHaveCallPath('main > ** > calc::BinOp::eval > calc::operator>');
    expect(calc).toHaveCallPath('main > calc::evaluate > calc::Ptr<*>::operator->');
    expect(calc).toHaveCallPath('main > calc::evaluate > calc::Ptr::operator->');
    // the printed paths drop the arguments (stable snapshots), the list still matches by name
    expect(calc.callPaths('calc::node_alloc')).toContain('3× main > calc::evaluate > calc::parse > calc::Lexer::operator>> > calc::make_node > calc::node_alloc');
    expect(calc.callPaths()).toHaveCallPath('main > calc::evaluate > ** > calc::make_node<*> > calc::node_alloc');
    expect(calc).toHaveHit('calc::operator>', { times: 2 }); // (1+2)*3: two BinOps
    expect(calc).toHaveHit('calc::Lexer::operator>>', { times: 3 });
    expect(calc).toHaveHit('calc::Lexer::operator>*', { times: 3 });
    expect(crashed).toHaveCrashedIn('calc::Ptr<calc::Node>::operator->');
    expect(crashed).toHaveCrashedIn('calc::Ptr::operator->');
  });

  test('normalize.stripTemplateArgs: false keeps the arguments in printed paths, and patterns still match', async () => {
    const keep = await tracedRun('cpp_templates.cc', ['1+2*3'], ['calc::node_alloc'], { flags: FLAGS, normalize: { stripTemplateArgs: false } });
    expect(keep.callPaths()).toContain('2× main > calc::evaluate > calc::parse > calc::make_node<calc::BinOp, char&, calc::Node*&, calc::Node*> > calc::node_alloc');
    expect(keep).toHaveCallPath('main > calc::evaluate > ** > calc::make_node<*> > calc::node_alloc');
    expect(keep).toHaveCallPath('main > calc::evaluate > calc::parse > calc::make_node > calc::node_alloc');
    expect(keep.callPaths()).not.toHaveCallPath('** > calc::make_node<calc::Num> > calc::node_alloc');
  });

  test('toHaveHit counts hooked instantiations by their template arguments', async () => {
    const run = await tracedRun('cpp_templates.cc', ['1+2'], ['calc::make_node<*>'], { flags: FLAGS });
    expect(run).toHaveHit('calc::make_node<*>', { times: 3 });
    expect(run).toHaveHit('calc::make_node', { times: 3 });
    expect(run).toHaveHit('calc::make_node<calc::Num, *>', { times: 2 });
    expect(run).toHaveHit('calc::make_node<calc::BinOp, char&, calc::Node*&, calc::Node*>', { times: 1 });
    expect(run.callPaths()).toEqual(['2× main > calc::evaluate > calc::parse > calc::Lexer::operator>> > calc::make_node', '1× main > calc::evaluate > calc::parse > calc::make_node']);
  });

  test('a failing template pattern shows the closest path frame by frame', () => {
    const message = failure(() => expect(calc).toHaveCallPath('main > calc::evaluate > calc::make_node<*> > calc::node_alloc'));
    expect(message).toContain('Expected pattern: "main > calc::evaluate > calc::make_node<*> > calc::node_alloc"');
    expect(message).toMatch(/\+ Closest call path \(2×\)\n\n  main\n  calc::evaluate\n\+ calc::parse\n  calc::make_node\n  calc::node_alloc/);
  });
});

describe('snapshots hold no addresses, pids, tids or absolute paths', () => {
  const UNSTABLE = /0x[0-9a-f]|\/tmp\/|\/work\/|"(pid|tid|pc|offset|seq)"|\b\d{4,}\b/;

  test('crash, hits, hooks, capture, single frames and stacks print the same for two runs', () => {
    const values = (run: Run) => [run.crash, run.crash!.frames, run.crash!.frames[0], run.hits, run.hits[0], run.capture.hooks, run.capture.hooks[0], run.capture, run.stacks(), run];
    const first = values(crashed).map(print);
    const second = values(crashedAgain).map(print);
    expect(crashed.crash!.tid).not.toBe(crashedAgain.crash!.tid);
    expect(second).toEqual(first);
    for (const text of first) expect(text).not.toMatch(UNSTABLE);
    expect(calc.command[0]).toMatch(/^\/.*cpp_templates$/);
    expect(print(calc.command)).toBe('UstackCommand [\n  "cpp_templates",\n  "1+2*3",\n]');
    const traced = (run: Run) => [run.command, run.hits, run.hits[0], run.hits[0].frames, run.capture.hooks, run.capture, run.stacks(), run.callPaths(), run].map(print);
    expect(traced(calcAgain)).toEqual(traced(calc));
    for (const text of traced(calc)) expect(text).not.toMatch(UNSTABLE);
  });

  test('a crash prints its signal, a masked fault address and the normalized stack with file:line', () => {
    const text = print(crashed.crash);
    expect(text).toMatch(
      /^UstackCrash \{\n  "faultAddress": "<address>",\n  "signal": "SIGSEGV",\n  "stack": \[\n    "calc::Ptr::operator-> \(cpp_templates\.cc:\d+\)",\n    "calc::crash_on_thread \(cpp_templates\.cc:\d+\)",\n/,
    );
    expect(print(crashed.crash!.frames[0])).toMatch(/^UstackFrame "calc::Ptr::operator-> \(cpp_templates\.cc:\d+\)"$/);
    expect(print(calc.hits[0])).toMatch(/^UstackHit \{\n  "hook": "calc::Lexer::operator>>",\n  "stack": \[\n    "calc::Lexer::operator>> \(cpp_templates\.cc:\d+\)",\n    "calc::parse \(cpp_templates\.cc:\d+\)",/);
    const hooks = print(calc.capture.hooks);
    expect(hooks).toContain('"spec": "calc::node_alloc"');
    expect(hooks).toMatch(/"module": "cpp_templates",\n\s+"symbol": "_ZN4calc10node_allocEm",/);
    expect(hooks).not.toContain('address');
    const capture = print(crashed.capture);
    expect(capture).toMatch(/^UstackCapture \{/);
    expect(capture).not.toContain('durationMs');
    expect(capture).not.toMatch(/"hooks": Ustack|"hits": Ustack/); // nested values print as plain views
    expect(capture).toContain('"module": "cpp_templates"');
    for (const w of crashed.capture.warnings ?? []) expect(capture).toContain(JSON.stringify(scrubText(w)).slice(1, 30));
  });

  test('warnings lose absolute paths, addresses and pid lists', () => {
    expect(scrubText('No debug information for /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30: install it (Debian/Ubuntu: -dbg)', '/work/proj')).toBe(
      'No debug information for libstdc++.so.6.0.30: install it (Debian/Ubuntu: -dbg)',
    );
    expect(scrubText('Cannot read code at 0x7f12 in /work/proj/build/app; hook not planted.', '/work/proj')).toBe('Cannot read code at <address> in build/app; hook not planted.');
    expect(scrubText('2 process(es) outlived the program and were killed: 4242, 4243.')).toBe('2 process(es) outlived the program and were killed: <pids>.');
  });

  test('call-path lists print one frame per line, the count on the first line of each path', () => {
    expect(print(calc.callPaths('calc::operator>'))).toBe(
      ['UstackCallPaths [', '  1× main', '    > calc::BinOp::eval', '    > calc::BinOp::eval', '    > calc::operator>', '  1× main', '    > calc::BinOp::eval', '    > calc::operator>', ']'].join('\n'),
    );
    expect(print(crashed.callPaths('calc::node_alloc'))).toBe('UstackCallPaths []');
    expect(print(calc)).toContain('"callPaths": UstackCallPaths [\n    3× main\n      > calc::evaluate\n      > calc::parse\n      > calc::Lexer::operator>>\n');
  });
});

describe('option checks', () => {
  test('matchers reject wrong argument and option types with a coded error', () => {
    const bad: Array<[() => void, RegExp]> = [
      [() => expect(calc).toHaveHit('calc::node_alloc', { times: 'three' as never }), /toHaveHit: option times must be a non-negative integer, got "three"/],
      [() => expect(calc).toHaveHit('calc::node_alloc', { times: 1.5 }), /option times must be a non-negative integer, got number 1\.5/],
      [() => expect(calc).toHaveHit('calc::node_alloc', { count: 1 } as never), /unknown option "count" \(known: times\)/],
      [() => expect(calc).toHaveHit('calc::node_alloc', 3 as never), /the options must be an object such as \{ times: \.\.\. \}, got number 3/],
      [() => expect(calc).toHaveHit(42 as never), /toHaveHit: the hook must be a non-empty string/],
      [() => expect(calc).toHaveCallPath('main > **', { hook: 7 } as never), /toHaveCallPath: option hook must be a hook spec/],
      [() => expect(calc).toHaveCrashedIn(undefined as never), /toHaveCrashedIn: the function must be a non-empty string/],
      [() => expect(calc).toExitWith(1.5), /toExitWith: an exit code is an integer 0-255, got number 1\.5/],
      [() => expect(calc).toExitWith(null as never), /toExitWith: expects an exit code/],
    ];
    for (const [fn, message] of bad) {
      let error: any;
      try {
        fn();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidMatcherArgumentError);
      expect(error.code).toBe('USTACK_INVALID_MATCHER_ARGUMENT');
      expect(error.message).toMatch(message);
    }
    expect(() => expect(calc).toHaveCallPath(5 as never)).toThrow(/Invalid call-path pattern "5": a pattern is a string, got number/);
  });

  test('trace() rejects wrong option types before it runs anything', async () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ maxHits: '5' }, /maxHits must be a positive integer, got "5"/],
      [{ timeout: -1 }, /timeout must be a positive integer \(milliseconds\), got -1/],
      [{ hooks: 'calc::node_alloc' }, /hooks must be an array of hook specs/],
      [{ backend: 'gdb' }, /backend must be one of/],
      [{ cwd: 3 }, /cwd must be a folder path/],
      [{ env: 'A=1' }, /env must be an object of variables/],
      [{ env: { A: {} } }, /env\.A must be a string/],
      [{ normalize: { stripTemplateArgs: 'no' } }, /normalize\.stripTemplateArgs must be true or false/],
      [{ normalize: { keepTemplates: true } }, /unknown normalize switch "keepTemplates".*stripTemplateArgs/],
    ];
    for (const [options, message] of bad) {
      await expect(trace(['./build/calc'], options as never)).rejects.toThrow(InvalidTraceOptionsError);
      await expect(trace(['./build/calc'], options as never)).rejects.toThrow(message);
    }
  });
});

describe('warnings in failure messages', () => {
  test('0 hits on a hook in a library that never loaded says so', async () => {
    const run = await tracedRun('cpp_templates.cc', ['1+2'], ['malloc@libfoo.so', 'calc::node_alloc'], { flags: FLAGS });
    expect(run.capture.warnings).toEqual(expect.arrayContaining([expect.stringContaining('module libfoo.so was never loaded')]));
    const message = failure(() => expect(run).toHaveHit('malloc@libfoo.so'));
    expect(message).toContain('Received: 0 hits');
    expect(message).toContain('Warnings from the trace:\n  - Hook "malloc@libfoo.so": module libfoo.so was never loaded, so the hook never fired.');
    const paths = failure(() => expect(run).toHaveCallPath('** > malloc', { hook: 'malloc@libfoo.so' }));
    expect(paths).toContain('module libfoo.so was never loaded');
    // a warning about another hook does not clutter an unrelated message
    expect(failure(() => expect(run).toHaveHit('calc::node_alloc', { times: 1 }))).not.toContain('Warnings from the trace');
  });

  test('a missing-debug-info warning comes with a crash stack that has unknown frames, not with clean paths', () => {
    const noDebug = (crashed.capture.warnings ?? []).filter((w) => w.startsWith('No debug information for'));
    const message = failure(() => expect(crashed).toHaveCrashedIn('calc::node_alloc'));
    const stack = print(crashed.crash);
    if (stack.includes('"?? (')) {
      // libstdc++ without symbols for its thread trampoline: the warning says why the frame is ??
      expect(noDebug.length).toBeGreaterThan(0);
      expect(message).toContain(`Warnings from the trace:\n  - ${noDebug[0].slice(0, 60)}`);
    } else {
      expect(message).not.toContain('Warnings from the trace');
    }
    expect(failure(() => expect(calc).toHaveCallPath('main > calc::node_alloc'))).not.toContain('Warnings from the trace');
  });
});
