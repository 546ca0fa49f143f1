const { trace } = require('jest-ustack');

describe('chain', () => {
  test('call paths, hits, exit code and a snapshot', async () => {
    const run = await trace(['./build/chain', '2'], { hooks: ['leaf', 'mid'] });
    expect(run).toExitWith(0);
    expect(run.stdout).toMatch(/^total=\d+\n$/);
    expect(run).toHaveCallPath('main > top > mid > leaf');
    expect(run).toHaveCallPath('main > ** > leaf');
    expect(run).not.toHaveCallPath('main > leaf');
    expect(run).toHaveHit('leaf', { times: 4 });
    expect(run).not.toHaveHit('top');
    expect(run).not.toHaveCrashedIn('leaf');
    expect(run.callPaths('leaf')).toEqual(['4× main > top > mid > leaf']);
    expect(run.callPaths()).toMatchSnapshot();
    expect(run).toMatchSnapshot();
  });

  test('the global trace is the same function, values are made in the test realm', async () => {
    const run = await global.trace(['build/chain', '1'], { hooks: ['leaf'] });
    expect(run.callPaths('leaf')).toStrictEqual(['2× main > top > mid > leaf']);
    expect(Array.isArray(run.hits)).toBe(true);
    expect(run.hits[0].frames[0]).toEqual(expect.objectContaining({ symbol: 'leaf', inlined: false }));
    expect(run.exit).toStrictEqual({ code: 0, signal: null });
  });

  test('stdin, env and cwd reach the program', async () => {
    const run = await trace(['./chain', '1'], { hooks: [], cwd: 'build', env: { UNUSED: 'x' }, stdin: 'ignored\n' });
    expect(run).toExitWith(0);
    expect(run.callPaths()).toEqual([]);
  });
});

describe('crash', () => {
  test('a NULL dereference is caught with its stack', async () => {
    const run = await trace(['./build/crash', 'crash'], { hooks: ['walk'] });
    expect(run).toExitWith('SIGSEGV');
    expect(run).toHaveCrashedIn('read_value');
    expect(run.stdout).toBe('walking\n');
    expect(run.crash.frames[0].line).toBeGreaterThan(0);
    expect(run).toMatchSnapshot();
  });

  test('a missing program is a clear error', async () => {
    await expect(trace(['./build/nope'], { hooks: ['x'] })).rejects.toThrow(/nope/);
  });
});
