import { format } from 'pretty-format';
import serializer from '../../src/jest/serializer';
import { tracedRun } from './runs';

const print = (val: unknown) => format(val, { plugins: [serializer], escapeString: false, printBasicPrototype: false });

describe('snapshot serializer on real runs', () => {
  test('a run prints without addresses, pids or absolute paths', async () => {
    const run = await tracedRun('chain.c', ['2'], ['leaf']);
    const text = print(run);
    expect(text).toBe(
      [
        'UstackRun {',
        '  "callPaths": UstackCallPaths [',
        '    4× main',
        '      > top',
        '      > mid',
        '      > leaf',
        '  ],',
        '  "command": [',
        '    "chain",',
        '    "2",',
        '  ],',
        '  "crash": null,',
        '  "exit": 0,',
        '  "hits": {',
        '    "leaf": 4,',
        '  },',
        '}',
      ].join('\n'),
    );
    expect(text).not.toMatch(/0x|\/tmp|\d{4,}/);
  });

  test('the same program rebuilt differently and run again prints the same (ASLR, build, pids)', async () => {
    const a = await tracedRun('chain.c', ['2'], ['leaf', 'mid']);
    const b = await tracedRun('chain.c', ['2'], ['leaf', 'mid'], { flags: ['-O2', '-g', '-fno-inline'], variant: 'O2' });
    expect(a.hits[0].pid).not.toBe(b.hits[0].pid);
    expect(a.hits[0].frames[0].pc).not.toBe(b.hits[0].frames[0].pc);
    expect(print(a.callPaths())).toBe(print(b.callPaths()));
    expect(print(a.callPaths())).toBe('UstackCallPaths [\n  4× main\n    > top\n    > mid\n  4× main\n    > top\n    > mid\n    > leaf\n]');
  });

  test('crash runs and stack lists print names with file:line', async () => {
    const run = await tracedRun('jest_crash.c', ['crash'], []);
    const text = print(run);
    expect(text).toContain('"exit": "SIGSEGV"');
    expect(text).toMatch(/"signal": "SIGSEGV",\n    "stack": \[\n      "read_value \(jest_crash\.c:\d+\)",\n      "walk \(jest_crash\.c:\d+\)",\n      "main \(jest_crash\.c:\d+\)",/);
    expect(text).not.toMatch(/0x/);
    const stacks = print((await tracedRun('chain.c', ['1'], ['leaf'])).stacks());
    expect(stacks).toMatch(/^\[\n  \{\n    "count": 2,\n    "frames": \[\n      "leaf \(chain\.c:\d+\)",\n      "mid \(chain\.c:\d+\)",\n      "top \(chain\.c:\d+\)",\n      "main \(chain\.c:\d+\)",\n    \],\n    "hook": "leaf",\n  \},\n\]$/);
  });

  test('other values are left to the default printers', () => {
    expect(serializer.test(['a'])).toBe(false);
    expect(serializer.test({ exit: 0 })).toBe(false);
    expect(serializer.test(null)).toBe(false);
  });
});
