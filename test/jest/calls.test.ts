/**
 * run.calls(), toHaveCalled and the serializer's masking of call lists (issue 13), on real runs of
 * the params fixture with arguments and returns recorded by the real tracer.
 */
import { failure } from '../helpers/matcher-failure';
import { format } from 'pretty-format';
import { buildFixture } from '../helpers/fixtures';
import { record } from '../../src/record';
import { DEFAULT_NORMALIZE } from '../../src/callpath/normalize';
import { createRun, type Run } from '../../src/jest/run';
import { matchers } from '../../src/jest/matchers';
import serializer from '../../src/jest/serializer';
import '../../src/jest/matchers-types';

expect.extend(matchers);


async function run(hooks: string[], opts: { args?: boolean; returns?: boolean }): Promise<Run> {
  const bin = buildFixture('params.c', { libs: ['-lpthread'] });
  const result = await record([bin], { hooks, timeout: 30000, ...opts });
  const capture = JSON.parse(JSON.stringify(result.capture));
  return createRun(capture, result.stdout, result.stderr, { normalize: { ...DEFAULT_NORMALIZE }, rootDir: '/nonexistent' });
}

let full: Run;
let argsOnly: Run;
let stacksOnly: Run;
beforeAll(async () => {
  full = await run(['xalloc', 'move', 'fact', 'jumper', 'label'], { args: true, returns: true });
  argsOnly = await run(['xalloc'], { args: true });
  stacksOnly = await run(['xalloc'], {});
});

describe('run.calls()', () => {
  test('each call with plain arguments, return value, duration and call path', () => {
    const calls = full.calls('xalloc');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual({
      hook: 'xalloc',
      args: { n: 32, tag: 'lex', flags: 1 },
      return: expect.stringMatching(/^0x[0-9a-f]+$/),
      returned: true,
      durationNs: expect.any(Number),
      path: 'main > xalloc',
    });
    expect(calls[0].durationNs).toBeGreaterThan(0);
    // the second allocation starts where the first one ended (32 bytes + the flag)
    expect(parseInt(calls[1].return as string, 16) - parseInt(calls[0].return as string, 16)).toBe(33);
    expect(full.calls('fact').map((c) => [c.args.n, c.return, c.path])).toEqual([
      [4, 24, 'main > fact'],
      [3, 6, 'main > fact > fact'],
      [2, 2, 'main > fact > fact > fact'],
      [1, 1, 'main > fact > fact > fact > fact'],
    ]);
    expect(full.calls('jumper').map((c) => [c.returned, c.noReturn, c.durationNs])).toEqual([
      [false, 'longjmp', null],
      [false, 'longjmp', null],
      [false, 'longjmp', null],
    ]);
    // a returned `const char *` is its text
    expect(full.calls('label')[0].return).toBe('positive');
  });

  test('without returns: args only, no return; without args: empty args', () => {
    expect(argsOnly.calls('xalloc')[1]).toMatchObject({ args: { n: 8, tag: 'parse', flags: 1 }, returned: false, return: undefined, durationNs: null });
    expect(stacksOnly.calls('xalloc')[0].args).toEqual({});
  });
});

describe('toHaveCalled', () => {
  test('passes on argument subsets, asymmetric matchers, returns and paths', () => {
    expect(full).toHaveCalled('xalloc', { with: { n: 32 }, returned: expect.stringMatching(/^0x/), path: 'main > xalloc' });
    expect(full).toHaveCalled('xalloc', { with: { n: expect.any(Number), tag: 'parse' } });
    expect(full).toHaveCalled('xalloc', { with: expect.objectContaining({ flags: 1 }), times: 2 });
    expect(full).toHaveCalled('move', { with: { p: { x: 4, y: -9 } }, returned: expect.not.objectContaining({ x: 4 }) });
    expect(full).toHaveCalled('move', { returned: { x: 6, y: -11 } });
    expect(full).toHaveCalled('fact', { with: { n: 1 }, returned: 1, path: 'main > fact > fact > fact > fact' });
    expect(full).toHaveCalled('fact', { path: 'main > ** > fact', times: 4 });
    expect(full).not.toHaveCalled('xalloc', { with: { n: 33 } });
    expect(full).not.toHaveCalled('jumper', { returned: expect.anything() });
  });

  test('a failure lists the closest calls and what differs in each', () => {
    const message = failure(() => expect(full).toHaveCalled('xalloc', { with: { n: 8, tag: 'lex' }, path: 'main > parse > xalloc' }));
    expect(message).toContain('expect(run).toHaveCalled(hook, expected)');
    expect(message).toContain('Expected: call of "xalloc" with {"n": 8, "tag": "lex"}, on "main > parse > xalloc"');
    expect(message).toContain('Received: none of 2 calls matches.');
    expect(message).toContain('Closest calls:');
    expect(message).toMatch(/main > xalloc \(n=32, tag="lex", flags=1\) => "0x[0-9a-f]+"\n {6}n: expected 8, received 32\n {6}path: expected "main > parse > xalloc", received "main > xalloc"/);
    expect(message).toMatch(/main > xalloc \(n=8, tag="parse", flags=1\) => "0x[0-9a-f]+"\n {6}tag: expected "lex", received "parse"/);
  });

  test('calls that never returned say why; unrecorded data says how to record it', () => {
    const message = failure(() => expect(full).toHaveCalled('jumper', { with: { depth: 0 }, returned: 0 }));
    expect(message).toContain('return: expected 0, received no return (longjmp)');
    expect(failure(() => expect(stacksOnly).toHaveCalled('xalloc', { with: { n: 32 } }))).toContain('Arguments were not recorded: pass { args: true } to trace().');
    expect(failure(() => expect(argsOnly).toHaveCalled('xalloc', { returned: '0x0' }))).toContain('Returns were not recorded: pass { returns: true } to trace().');
    expect(failure(() => expect(full).toHaveCalled('nothing_here', { with: {} }))).toContain('Received: no call of "nothing_here" was recorded');
  });

  test('.not lists the calls that matched', () => {
    const message = failure(() => expect(full).not.toHaveCalled('fact', { with: { n: 2 } }));
    expect(message).toContain('Expected: no call of "fact" with {"n": 2}');
    expect(message).toContain('Received: 1 matching call:\n  main > fact > fact > fact (n=2) => 2');
  });
});

describe('serializer', () => {
  const print = (val: unknown) => format(val, { plugins: [serializer], escapeString: false, printBasicPrototype: false });
  /** The first object of a printed list, as it prints alone. */
  const firstItem = (list: string) => {
    const lines = list.split('\n');
    return lines.slice(1, lines.indexOf('  },') + 1).map((l) => l.slice(2)).join('\n').replace(/,$/, '');
  };

  test('call lists print with pointers and durations masked; raw lists print everything', () => {
    const text = print(full.calls('xalloc'));
    expect(text).toBe(
      [
        '[',
        '  {',
        '    "args": {',
        '      "flags": 1,',
        '      "n": 32,',
        '      "tag": "lex",',
        '    },',
        '    "durationNs": "<duration>",',
        '    "hook": "xalloc",',
        '    "path": "main > xalloc",',
        '    "return": "<pointer>",',
        '    "returned": true,',
        '  },',
        '  {',
        '    "args": {',
        '      "flags": 1,',
        '      "n": 8,',
        '      "tag": "parse",',
        '    },',
        '    "durationNs": "<duration>",',
        '    "hook": "xalloc",',
        '    "path": "main > xalloc",',
        '    "return": "<pointer>",',
        '    "returned": true,',
        '  },',
        ']',
      ].join('\n'),
    );
    expect(print(full.calls('jumper'))).toContain('"noReturn": "longjmp"');
    expect(print(full.calls('xalloc', { raw: true }))).toMatch(/"return": "0x[0-9a-f]+"/);
  });

  test('a call taken out of the list, a slice or a mapped copy of it prints as in the list', () => {
    const calls = full.calls('xalloc');
    const listed = print(calls);
    const first = print(calls[0]);
    expect(first).not.toMatch(/0x[0-9a-f]|"durationNs": \d/);
    expect(first).toContain('"durationNs": "<duration>"');
    expect(first).toBe(firstItem(listed));
    expect(print(calls.slice(0, 1))).toBe(`[\n${first.replace(/^/gm, '  ')},\n]`);
    expect(print(calls.map((c) => c))).toBe(listed);
    expect(print(calls.slice())).toBe(listed);
    const noReturn = full.calls('jumper');
    expect(print(noReturn[0])).toBe(firstItem(print(noReturn)));
    expect(print(noReturn[0])).toContain('"returned": false');
    // raw calls stay raw, taken out or not
    expect(print(full.calls('xalloc', { raw: true })[0])).toMatch(/"durationNs": \d+,\n {2}"hook"[^]*"return": "0x[0-9a-f]+"/);
  });
});

describe('run.calls() on C++ standard library values (issue 19)', () => {
  test('std::string is its text, library classes are { summary, children } with plain children; toHaveCalled asserts on them', async () => {
    const bin = buildFixture('params_std.cc');
    const result = await record([bin], { hooks: ['by_value', 'by_ref', 'sum', 'maybe'], timeout: 30000, args: true });
    const r = createRun(JSON.parse(JSON.stringify(result.capture)), result.stdout, result.stderr, { normalize: { ...DEFAULT_NORMALIZE }, rootDir: '/nonexistent' });
    expect(r.calls('by_value')[0].args).toEqual({ s: ' uftrace ', n: 5 });
    expect(r.calls('by_ref')[0].args).toEqual({ s: 'y'.repeat(200) + '…', v: 'view', n: 7 });
    expect(r.calls('sum')[0].args).toEqual({
      v: { summary: 'std::vector of length 3, capacity 4', children: [1, 2, 3] },
      names: { summary: 'std::vector of length 2, capacity 2', children: ['a', 'bb'] },
      tail: 9,
    });
    expect(r.calls('maybe')[1].args.b).toEqual({ summary: 'std::optional<std::string>', children: { '[contained value]': 'opt' } });
    expect(r).toHaveCalled('sum', { with: { v: expect.objectContaining({ children: [7, ...Array(63).fill(7), '...'] }), tail: 1 } });
  });
});
