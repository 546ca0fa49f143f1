import { failure } from '../helpers/matcher-failure';
import { tracedRun } from './runs';
import { matchers } from '../../src/jest/matchers';
import type { Run } from '../../src/jest/run';
import '../../src/jest/matchers-types';

expect.extend(matchers);


let chain: Run;
let crash: Run;
let exit3: Run;
let crashNoHits: Run;
beforeAll(async () => {
  crashNoHits = await tracedRun('jest_crash.c', ['crash'], ['tick']);
  chain = await tracedRun('chain.c', ['2'], ['leaf', 'mid']);
  crash = await tracedRun('jest_crash.c', ['crash'], ['walk']);
  exit3 = await tracedRun('jest_crash.c', ['ok', '3'], ['read_value']);
});

describe('toHaveCallPath', () => {
  test('passes on exact paths, wildcards and globs; works on callPaths() lists too', () => {
    expect(chain).toHaveCallPath('main > top > mid > leaf');
    expect(chain).toHaveCallPath('main > ** > leaf');
    expect(chain).toHaveCallPath('main > * > mid');
    expect(chain).toHaveCallPath('m* > ** > l??f');
    expect(chain).not.toHaveCallPath('main > leaf');
    expect(chain).toHaveCallPath('main > top > mid', { hook: 'mid' });
    expect(chain).not.toHaveCallPath('main > top > mid', { hook: 'leaf' });
    expect(chain.callPaths('leaf')).toHaveCallPath('** > mid > leaf');
    expect(chain.callPaths('leaf')).not.toHaveCallPath('** > top > leaf');
  });

  test('a wrong path fails with a diff against the closest captured path', () => {
    const message = failure(() => expect(chain).toHaveCallPath('main > ** > top > leaf'));
    expect(message).toContain('expect(run).toHaveCallPath(pattern)');
    expect(message).toContain('Expected pattern: "main > ** > top > leaf"');
    expect(message).toContain('Received: none of 2 call paths matches.');
    expect(message).toContain('- Pattern');
    expect(message).toContain('+ Closest call path (4×)');
    // mid is the one frame the pattern lacks
    expect(message).toMatch(/  main\n  top\n\+ mid\n  leaf/);
    expect(message).toContain('Captured call paths:\n  4× main > top > mid\n  4× main > top > mid > leaf');
  });

  test('.not lists the paths that matched', () => {
    const message = failure(() => expect(chain).not.toHaveCallPath('** > leaf'));
    expect(message).toContain('expect(run).not.toHaveCallPath(pattern)');
    expect(message).toContain('Matching call path:\n  4× main > top > mid > leaf');
  });

  test('no hits at all says which hooks were set and shows a crash', () => {
    const message = failure(() => expect(crashNoHits).toHaveCallPath('main > walk'));
    expect(message).toContain('Received: no call paths were captured: tick (1 function, 0 hits).');
    expect(message).toMatch(/Crash stack \(SIGSEGV at address 0x[0-9a-f]+\):\n  read_value \(jest_crash\.c:\d+\)/);
  });

  test('a malformed pattern throws an error with a code', () => {
    expect(() => expect(chain).toHaveCallPath('main > > leaf')).toThrow(/Invalid call-path pattern/);
  });

  test('a value that is not a run is reported as such', () => {
    const message = failure(() => expect({ exit: 0 }).toHaveCallPath('main'));
    expect(message).toContain('value must be a run from trace() or a list from run.callPaths()');
  });
});

describe('toHaveHit', () => {
  test('counts hits by hook spec or by hooked function glob', () => {
    expect(chain).toHaveHit('leaf');
    expect(chain).toHaveHit('leaf', { times: 4 });
    expect(chain).toHaveHit('mi*', { times: 4 });
    expect(chain).not.toHaveHit('leaf', { times: 3 });
    expect(chain).not.toHaveHit('top');
  });

  test('failure message shows expected and received counts and the hooks', () => {
    const message = failure(() => expect(chain).toHaveHit('leaf', { times: 5 }));
    expect(message).toContain('Expected: "leaf" hit 5 times');
    expect(message).toContain('Received: 4 hits');
    expect(message).toContain('Hooks: leaf (1 function, 4 hits), mid (1 function, 4 hits)');
  });
});

describe('toExitWith', () => {
  test('exit codes and signal names', () => {
    expect(chain).toExitWith(0);
    expect(exit3).toExitWith(3);
    expect(exit3).not.toExitWith(0);
    expect(crash).toExitWith('SIGSEGV');
    expect(crash).toExitWith('SEGV');
    expect(crash).not.toExitWith(0);
    expect(chain).not.toExitWith('SIGSEGV');
  });

  test('a crash where an exit code was expected shows the crash stack with file:line and stderr', () => {
    const message = failure(() => expect(crash).toExitWith(0));
    expect(message).toContain('Expected: exit code 0');
    expect(message).toContain('Received: killed by SIGSEGV');
    expect(message).toMatch(/Crash stack \(SIGSEGV at address 0x[0-9a-f]+\):\n  read_value \(jest_crash\.c:\d+\)\n  walk \(jest_crash\.c:\d+\)\n  main \(jest_crash\.c:\d+\)/);
    const wrongCode = failure(() => expect(exit3).toExitWith(0));
    expect(wrongCode).toContain('Received: exit code 3');
    expect(wrongCode).toContain('stderr:\n  value=7');
  });
});

describe('toHaveCrashedIn', () => {
  test('passes when the crash stack contains the function', () => {
    expect(crash).toHaveCrashedIn('read_value');
    expect(crash).toHaveCrashedIn('walk');
    expect(crash).toHaveCrashedIn('read_*');
    expect(crash).not.toHaveCrashedIn('tick');
    expect(chain).not.toHaveCrashedIn('leaf');
  });

  test('messages show the crash stack, or that there was no crash', () => {
    const wrong = failure(() => expect(crash).toHaveCrashedIn('tick'));
    expect(wrong).toContain('Received: SIGSEGV, not in tick');
    expect(wrong).toMatch(/read_value \(jest_crash\.c:\d+\)/);
    const none = failure(() => expect(chain).toHaveCrashedIn('leaf'));
    expect(none).toContain('Received: no crash (exit code 0)');
    const not = failure(() => expect(crash).not.toHaveCrashedIn('walk'));
    expect(not).toContain('Expected: no crash in "walk"');
  });
});
