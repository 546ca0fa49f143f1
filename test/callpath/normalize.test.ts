import { buildFixture } from '../helpers/fixtures';
import { callPathOf, normalizeFrames } from '../../src/callpath/normalize';
import { mergeCallPaths, formatMergedCallPath, parseCallPathLine } from '../../src/callpath/merge';
import { gdbHits } from './gdb-frames';

describe('normalization of real stacks (gdb backtraces past main)', () => {
  test('a C call chain starts at main and loses the libc start frames', () => {
    const hits = gdbHits([buildFixture('chain.c'), '2'], ['leaf']);
    expect(hits).toHaveLength(4);
    const raw = hits[0].frames.map((f) => f.symbol);
    expect(raw).toEqual(expect.arrayContaining(['__libc_start_call_main', 'main']));
    for (const hit of hits) expect(callPathOf(hit.frames)).toEqual(['main', 'top', 'mid', 'leaf']);
    const untouched = callPathOf(hits[0].frames, { startAtMain: false, dropRuntimeFrames: false });
    expect(untouched).toEqual(raw.slice().reverse().map((s) => s ?? '??'));
    expect(callPathOf(hits[0].frames, { startAtMain: false })).toEqual(['main', 'top', 'mid', 'leaf']);
  });

  test('the same chain at -O2 without frame pointers gives the same path', () => {
    const bin = buildFixture('chain.c', { flags: ['-O2', '-g', '-fomit-frame-pointer'], variant: 'O2' });
    const hits = gdbHits([bin, '1'], ['leaf']);
    expect(hits.map((h) => callPathOf(h.frames))).toEqual([['main', 'top', 'mid', 'leaf'], ['main', 'top', 'mid', 'leaf']]);
  });

  test('a thread starts at its start routine (the frame above start_thread/clone3)', () => {
    const hits = gdbHits([buildFixture('threads.c', { libs: ['-lpthread'] }), '1'], ['leaf']);
    expect(hits).toHaveLength(4);
    for (const hit of hits) {
      expect(hit.frames.map((f) => f.symbol)).toEqual(expect.arrayContaining(['start_thread', 'clone3']));
      expect(callPathOf(hit.frames)).toEqual(['work', 'step', 'leaf']);
    }
    const kept = callPathOf(hits[0].frames, { startAtMain: false, dropRuntimeFrames: false });
    expect(kept.slice(0, 2)).toEqual(['clone3', 'start_thread']);
  });

  test('Rust starts at the program main / thread closure, after __rust_begin_short_backtrace', () => {
    const hits = gdbHits([buildFixture('jest_rust.rs'), '1'], ['jest_rust::config::alloc_node']);
    expect(hits).toHaveLength(2);
    const [fromMain, fromThread] = hits.map((h) => callPathOf(h.frames));
    expect(fromMain.slice(0, 2)).toEqual(['jest_rust::main', 'jest_rust::config::parse_all']);
    expect(fromMain.slice(-3)).toEqual(['jest_rust::config::parse_all::{closure#0}', 'jest_rust::config::parse_value', 'jest_rust::config::alloc_node']);
    expect(fromThread).toEqual(['jest_rust::main::{closure#2}', 'jest_rust::config::parse_value', 'jest_rust::config::alloc_node']);
  });

  test('inline frames are kept by default and dropped on request', () => {
    const hits = gdbHits([buildFixture('chain.c'), '1'], ['leaf']);
    const frames = hits[0].frames.map((f, i) => (i === 1 ? { ...f, inlined: true } : f));
    expect(normalizeFrames(frames).map((f) => f.name)).toEqual(['main', 'top', 'mid', 'leaf']);
    expect(callPathOf(frames, { inlineFrames: false })).toEqual(['main', 'top', 'leaf']);
  });
});

describe('merging', () => {
  test('identical paths per hook merge with counts, in order of first appearance', () => {
    const bin = buildFixture('threads.c', { libs: ['-lpthread'] });
    const hits = gdbHits([bin, '2'], ['step', 'leaf']);
    expect(hits).toHaveLength(16);
    const merged = mergeCallPaths(hits);
    const firstHooks = [...new Set(hits.map((h) => h.hook))];
    const expected = { step: 'work > step', leaf: 'work > step > leaf' } as Record<string, string>;
    expect(merged.map((m) => [m.hook, m.count, m.path.join(' > ')])).toEqual(firstHooks.map((h) => [h, 8, expected[h]]));
    expect(mergeCallPaths(hits, {}, 'leaf').map(formatMergedCallPath)).toEqual(['8× work > step > leaf']);
    expect(parseCallPathLine('8× work > step > leaf')).toEqual({ count: 8, path: ['work', 'step', 'leaf'] });
    expect(parseCallPathLine('work > step')).toEqual({ count: 1, path: ['work', 'step'] });
  });
});
