/**
 * Parameters and returns end to end (issue 13): a real Jest run (against dist/) of a project that
 * asks trace() for `args` and `returns`, asserts with toHaveCalled and keeps run.calls() in a
 * snapshot that a --ci run verifies (pointers and durations masked).
 */
import { JestProject } from './jest-project';

describe('a project asserting on arguments and return values', () => {
  let project: JestProject;
  beforeAll(() => {
    project = new JestProject('jest_calls', { params: ['params.c', { libs: ['-lpthread'] }] });
  });
  afterAll(() => project.remove());

  test('toHaveCalled passes and fails readably; run.calls() snapshots are masked and stable under --ci', () => {
    const first = project.run();
    expect(first.output).toMatch(/Tests:\s+1 failed, 2 passed, 3 total/);
    expect(first.output).toMatch(/Snapshots:\s+4 written, 4 total/);
    expect(first.output).toContain('Expected: call of "fact" with {"n": 5}, returning 120');
    expect(first.output).toContain('Received: none of 4 calls matches.');
    expect(first.output).toMatch(/Closest calls:\n\s+main > fact \(n=4\) => 24\n\s+n: expected 5, received 4\n\s+return: expected 120, received 24/);
    const snap = project.read('__tests__/__snapshots__/calls.test.js.snap');
    expect(snap).toContain('"return": "<pointer>"');
    expect(snap).toContain('"durationNs": "<duration>"');
    expect(snap).toContain('"tag": "lex"');
    expect(snap).not.toMatch(/0x[0-9a-f]|"durationNs": \d/);
    // calls[0], .slice(0, 1) and .map(c => c) print as the items of run.calls(), "returned" included
    const saved: Record<string, string> = {};
    new Function('exports', snap)(saved);
    const entry = (name: string) => saved[`arguments, returns and call paths through the environment${name}`];
    const list = entry(' 1');
    const firstOfList = list.slice(list.indexOf('\n  {'), list.indexOf('\n  },') + 4);
    expect(entry(': first call 1')).toBe(firstOfList.replace(/\n {2}/g, '\n') + '\n');
    expect(entry(': first call 1')).toContain('"returned": true');
    expect(entry(': a slice 1')).toBe(`\n[${firstOfList},\n]\n`);
    expect(entry(': a mapped copy 1')).toBe(list);
    const again = project.run(['--ci', '-t', 'through the environment|the docblock switches']);
    expect(again.output).toMatch(/Snapshots:\s+4 passed, 4 total/);
    expect(again.status).toBe(0);
  });
});
