/**
 * The C ptrace floor of `npm run bench` (bench/floor.c) must count every call of the hooked
 * function and leave the program's behaviour untouched, or the floor it reports means nothing.
 * The true call count comes from gdb (`ignore` on the breakpoint, then `info breakpoints`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { buildFixture } from '../helpers/fixtures';

const BENCH = '../../bench';

function floorBinary(): string {
  return buildFixture(`${BENCH}/floor.c`, { flags: ['-O2', '-Wall'], variant: 'floor' });
}

function gdbCallCount(bin: string, func: string, args: string[]): number {
  const out = execFileSync(
    'gdb',
    ['-batch', '-nx', '-ex', `break ${func}`, '-ex', 'ignore 1 100000000', '-ex', 'run', '-ex', 'info breakpoints', '--args', bin, ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 },
  );
  const m = /breakpoint already hit (\d+) times?/.exec(out);
  if (!m) throw new Error(`gdb did not report a hit count:\n${out}`);
  return Number(m[1]);
}

function runFloor(func: string, bin: string, args: string[], pin = true) {
  const r = spawnSync(floorBinary(), [...(pin ? [] : ['--no-pin']), func, bin, ...args], { encoding: 'utf8', timeout: 120000 });
  const m = /floor: hits=(\d+) elapsed_us=(\d+) exit=(-?\d+)/.exec(r.stderr);
  if (!m) throw new Error(`floor printed no summary (status ${r.status}):\n${r.stderr}`);
  return { hits: Number(m[1]), exit: Number(m[3]), status: r.status, stdout: r.stdout };
}

function untraced(bin: string, args: string[]): string {
  return execFileSync(bin, args, { encoding: 'utf8' });
}

const chainBuilds: Array<[string, string[]]> = [
  ['O0', ['-O0', '-g']],
  ['O2', ['-O2', '-fomit-frame-pointer', '-g']],
  ['cet', ['-O0', '-g', '-fcf-protection=full']],
];

describe('bench/floor.c', () => {
  test.each(chainBuilds)('counts every call of leaf in the chain built %s, and the program computes the same result', (variant, flags) => {
    const bin = buildFixture(`chain.c`, { flags, variant: `bench-${variant}` });
    const args = ['1000'];
    const expected = gdbCallCount(bin, 'leaf', args);
    expect(expected).toBeGreaterThan(0);
    const r = runFloor('leaf', bin, args);
    expect(r.hits).toBe(expected);
    expect(r.exit).toBe(0);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(untraced(bin, args));
  });

  test('an entry instruction it does not emulate (mov %rdi,%rcx at -O2) goes through the in-place step', () => {
    const bin = buildFixture(`chain.c`, { flags: ['-O2', '-fomit-frame-pointer', '-g'], variant: 'bench-O2' });
    const args = ['500'];
    const expected = gdbCallCount(bin, 'top', args);
    const r = runFloor('top', bin, args, false);
    expect(r.hits).toBe(expected);
    expect(r.stdout).toBe(untraced(bin, args));
  });

  test('counts every call of leaf across four threads', () => {
    const bin = buildFixture(`threads.c`, { flags: ['-O0', '-g', '-pthread'], variant: 'bench-threads' });
    const args = ['500'];
    const expected = gdbCallCount(bin, 'leaf', args);
    expect(expected).toBeGreaterThan(0);
    for (const pin of [true, false]) {
      const r = runFloor('leaf', bin, args, pin);
      expect(r.hits).toBe(expected);
      expect(r.exit).toBe(0);
      expect(r.stdout).toMatch(/^sink=-?\d+\n$/);
    }
  });

  test('names a function that does not exist', () => {
    const bin = buildFixture(`chain.c`, { flags: ['-O0', '-g'], variant: 'bench-O0' });
    const r = spawnSync(floorBinary(), ['no_such_function', bin, '1'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no function no_such_function');
  });
});
