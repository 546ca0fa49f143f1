/**
 * Deep stacks (issue 19): a 500-deep recursion keeps `main` by default, as gdb's `bt` does, and a
 * stack cut at maxFrames says so (the capture's `truncated` mark, stats.truncatedStacks, the text
 * output, call paths starting with `(truncated)`) instead of looking complete from its middle.
 */
import { mergeCallPaths, joinCallPath } from '../../src/callpath/merge';
import { formatCapture, TRUNCATED_LINE } from '../../src/capture/text-format';
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { buildFixture } from '../helpers/fixtures';
import { gdbBacktraces, namesUpToMain } from '../helpers/gdb';

afterAll(() => shutdownTracer());

const deep = buildFixture('deep.c');

test('a 500-deep recursion: by default the whole stack down to main, frame for frame as gdb', async () => {
  const { capture } = await recordWithPtrace([deep, '500'], { hooks: ['bottom'] });
  expect(capture.stats.hits).toBe(1);
  const [stack] = capture.stacks;
  expect(stack.truncated).toBeUndefined();
  expect(capture.stats.truncatedStacks).toBeUndefined();
  const gdb = gdbBacktraces([deep, '500'], { breakpoints: ['bottom'] });
  expect(gdb).toHaveLength(1);
  expect(namesUpToMain(gdb[0])).toHaveLength(503);
  expect(namesUpToMain(stack.frames.map((f) => ({ func: f.symbol ?? '??' })))).toEqual(namesUpToMain(gdb[0]));
  const [path] = mergeCallPaths(capture.stacks);
  expect(path.path[0]).toBe('main');
  expect(path.path).toHaveLength(503);
});

describe('a stack deeper than maxFrames', () => {
  // bottom at depth d: bottom, d + 1 descend frames, main, __libc_start_call_main, __libc_start_main_impl, _start
  const depth = 100;
  const frames = depth + 6;

  test('is cut and marked in the capture, its stats, the text output and its call path', async () => {
    const { capture } = await recordWithPtrace([deep, String(depth)], { hooks: ['bottom', 'descend'], maxFrames: 64 });
    const bottom = capture.stacks.filter((s) => s.hook === 'bottom');
    expect(bottom).toHaveLength(1);
    expect(bottom[0].truncated).toBe(true);
    expect(bottom[0].frames).toHaveLength(64);
    expect(bottom[0].frames.map((f) => f.symbol)).not.toContain('main');
    // descend at levels 0..depth: those deeper than 64 frames are cut; cut stacks never merge with whole ones
    const cut = capture.stacks.filter((s) => s.truncated);
    expect(capture.stats.truncatedStacks).toBe(cut.length);
    expect(cut.reduce((n, s) => n + s.count, 0)).toBe(1 + (depth + 1) - (64 - 5 + 1));
    const text = formatCapture(capture);
    expect(text).toMatch(/^stack \d+: bottom, 1 hit \(first: hit \d+, pid \d+, tid \d+\), truncated at 64 frames$/m);
    expect(text.split('\n').filter((l) => l === TRUNCATED_LINE)).toHaveLength(cut.length);
    expect(text).toMatch(new RegExp(`, ${cut.length} stack\\(s\\) truncated at the frame limit`));
    const paths = mergeCallPaths(capture.stacks, {}, 'bottom');
    expect(paths).toHaveLength(1);
    expect(joinCallPath(paths[0].path)).toBe(['(truncated)', ...Array(63).fill('descend'), 'bottom'].join(' > '));
    // the whole ones still start at main
    for (const p of mergeCallPaths(capture.stacks.filter((s) => !s.truncated))) expect(p.path[0]).toBe('main');
  });

  test('a stack of exactly maxFrames frames is whole, one frame more is cut', async () => {
    const exact = await recordWithPtrace([deep, String(depth)], { hooks: ['bottom'], maxFrames: frames });
    expect(exact.capture.stacks[0].truncated).toBeUndefined();
    expect(exact.capture.stacks[0].frames.at(-1)!.symbol).toBe('_start');
    const short = await recordWithPtrace([deep, String(depth)], { hooks: ['bottom'], maxFrames: frames - 1 });
    expect(short.capture.stacks[0].truncated).toBe(true);
    expect(short.capture.stacks[0].frames.map((f) => f.symbol)).toEqual(exact.capture.stacks[0].frames.slice(0, frames - 1).map((f) => f.symbol));
  });
});
