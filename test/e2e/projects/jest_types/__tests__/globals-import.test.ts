// @jest/globals style: matchers typed through `declare module 'expect'`.
import { expect, test } from '@jest/globals';
import { trace, type Run, type TraceOptions } from 'jest-ustack';

test('types of trace, Run and the matchers', async () => {
  const options: TraceOptions = { hooks: ['leaf'], timeout: 1000, stdin: Buffer.from('x'), env: { A: undefined } };
  const run: Run = await trace(['./build/chain', '1'], options);
  expect(run).toHaveCallPath('main > ** > leaf');
  expect(run).toHaveCallPath('main > ** > leaf', { hook: 'leaf' });
  expect(run).not.toHaveHit('leaf', { times: 3 });
  expect(run).toExitWith(0);
  expect(run).toExitWith('SIGSEGV');
  expect(run).toHaveCrashedIn('leaf');
  const paths: string[] = run.callPaths('leaf');
  const firstFrame: string = run.stacks()[0].frames[0];
  const line: number | null = run.hits[0].frames[0].line;
  const signal: string | null = run.exit.signal;
  void [paths, firstFrame, line, signal];
  // @ts-expect-error a pattern is a string
  expect(run).toHaveCallPath(42);
  // @ts-expect-error times is a number
  expect(run).toHaveHit('leaf', { times: 'twice' });
  // @ts-expect-error unknown option
  await trace(['x'], { hook: ['leaf'] });
  // @ts-expect-error argv is an array
  await trace('./build/chain');
});
