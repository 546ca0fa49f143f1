/**
 * The Jest side end to end: real Jest runs (against dist/) of small projects that use only the
 * public entry points (preset, `jest-ustack`, globals) on real native programs.
 */
import { JestProject } from './jest-project';

const CHAIN = { chain: ['chain.c'], crash: ['jest_crash.c'] } as Record<string, [string]>;

describe('a passing project: trace, every matcher, snapshots written then verified with --ci', () => {
  let project: JestProject;
  beforeAll(() => {
    project = new JestProject('jest_pass', CHAIN);
  });
  afterAll(() => project.remove());

  test('first run passes and writes stable snapshots', () => {
    const first = project.run();
    expect(first.output).toMatch(/Tests:\s+6 passed, 6 total/);
    expect(first.status).toBe(0);
    expect(first.output).toMatch(/Snapshots:\s+4 written, 4 total/);
    const snap = project.read('__tests__/__snapshots__/chain.test.js.snap');
    expect(snap).toContain('UstackCallPaths [\n  4× main\n    > top\n    > mid\n  4× main\n    > top\n    > mid\n    > leaf\n]');
    expect(snap).toContain('UstackRun {');
    expect(snap).toMatch(/"read_value \(jest_crash\.c:\d+\)",\n\s+"walk \(jest_crash\.c:\d+\)",\n\s+"main \(jest_crash\.c:\d+\)"/);
    expect(snap).not.toMatch(/0x[0-9a-f]|\/tmp\/|"pid"/);
    const stacks = project.read('__tests__/__snapshots__/globals.test.js.snap');
    expect(stacks).toMatch(/"mid \(chain\.c:\d+\)",\n\s+"top \(chain\.c:\d+\)",\n\s+"main \(chain\.c:\d+\)"/);
  });

  test('a --ci run verifies them (new pids and addresses)', () => {
    const again = project.run(['--ci']);
    expect(again.output).toMatch(/Snapshots:\s+4 passed, 4 total/);
    expect(again.status).toBe(0);
  });

  test('a changed call path fails --ci with a readable diff', () => {
    const file = '__tests__/__snapshots__/chain.test.js.snap';
    project.write(file, project.read(file).replace('  4× main\n    > top\n    > mid\n    > leaf\n]', '  4× main\n    > top\n    > middle\n    > leaf\n]'));
    const changed = project.run(['--ci']);
    expect(changed.status).toBe(1);
    expect(changed.output).toContain('› 1 snapshot failed');
    // one frame per line: only the changed frame shows in the diff
    expect(changed.output).toMatch(/- Snapshot\s+- 1\n\s*\+ Received\s+\+ 1/);
    expect(changed.output).toMatch(/-\s+> middle\n\s*\+\s+> mid\n/);
  });
});

describe('failure messages', () => {
  test('a deliberately wrong call path fails with a diff against the closest path; a crash shows its stack', () => {
    const project = new JestProject('jest_wrong', CHAIN);
    try {
      const r = project.run();
      expect(r.status).toBe(1);
      expect(r.output).toMatch(/Tests:\s+2 failed, 2 total/);
      expect(r.output).toContain('expect(run).toHaveCallPath(pattern)');
      expect(r.output).toContain('Expected pattern: "main > ** > top > leaf"');
      expect(r.output).toMatch(/- Pattern\n\s*\+ Closest call path \(2×\)\n\n\s*main\n\s*top\n\s*\+ mid\n\s*leaf/);
      expect(r.output).toContain('Captured call paths:');
      expect(r.output).toContain('Received: killed by SIGSEGV');
      expect(r.output).toMatch(/Crash stack \(SIGSEGV at address 0x0*8?\):\n\s*read_value \(jest_crash\.c:\d+\)\n\s*walk \(jest_crash\.c:\d+\)\n\s*main \(jest_crash\.c:\d+\)/);
    } finally {
      project.remove();
    }
  });
});

describe('time limits', () => {
  test('a hanging program fails its test clearly, an explicit timeout returns the run, Jest timeouts kill the program', () => {
    const project = new JestProject('jest_timeout', CHAIN);
    try {
      const started = Date.now();
      const r = project.run();
      expect(Date.now() - started).toBeLessThan(60000);
      expect(r.output).toMatch(/Tests:\s+2 failed, 2 passed, 4 total/);
      expect(r.output).toMatch(/jest-ustack: "\.\/build\/crash hang" was still running after \d+ ms \(the time left in this test minus a safety margin\) and was killed\./);
      expect(r.output).toMatch(/Call paths captured before the kill \(hooks: spin_forever\):\n\s+1× main > spin_forever\n/);
      expect(r.output).not.toMatch(/a hanging program fails[^\n]*\n[^\n]*Exceeded timeout/);
      expect(r.output).toMatch(/Jest timing out first still kills the traced program[\s\S]*Exceeded timeout of 1500 ms/);
      expect(project.processes()).toEqual([]);
    } finally {
      project.remove();
    }
  });
});

describe('options', () => {
  test('testEnvironmentOptions.ustack and docblock pragmas; an invalid pragma fails its file', () => {
    const project = new JestProject('jest_options', CHAIN);
    try {
      const r = project.run();
      expect(r.output).toMatch(/Tests:\s+2 passed, 2 total/);
      expect(r.output).toMatch(/FAIL __tests__\/bad-pragma\.test\.js/);
      expect(r.output).toContain('Invalid jest-ustack option in the @ustack-backend docblock pragma: backend must be one of "ptrace", "stap", "auto", got "gdb".');
      expect(r.status).toBe(1);
    } finally {
      project.remove();
    }
  });
});
