import { buildFixture } from '../helpers/fixtures';
import { CallPathPattern } from '../../src/callpath/pattern';
import { alignPattern, alignmentDiffLines, rankClosestPaths } from '../../src/callpath/closest';
import { mergeCallPaths } from '../../src/callpath/merge';
import { InvalidCallPathPatternError } from '../../src/errors';
import { gdbHits } from './gdb-frames';

const path = (s: string) => s.split(' > ');

describe('CallPathPattern', () => {
  const chain = path('main > top > mid > leaf');

  test.each([
    ['main > top > mid > leaf', true],
    ['main > ** > leaf', true],
    ['** > leaf', true],
    ['**', true],
    ['main > **', true],
    ['main > top > ** > mid > leaf', true], // ** may be empty
    ['main > * > * > leaf', true],
    ['main > * > leaf', false], // * is exactly one frame
    ['main > ** > * > * > * > leaf', false],
    ['top > mid > leaf', false], // anchored at the start
    ['main > top > mid', false], // anchored at the end
    ['m* > t?p > ** > l*f', true],
    ['main > ** > mid > ** > leaf', true],
    ['main > ** > top > ** > leaf', true],
    ['main > ** > leaf > **', true],
    ['main > ** > leaf > *', false],
  ])('%s → %s', (pattern, expected) => {
    expect(new CallPathPattern(pattern).matches(chain)).toBe(expected);
  });

  test('globs match whole names; regex characters are literal', () => {
    expect(new CallPathPattern('ns::Klass::*').matches(['ns::Klass::method'])).toBe(true);
    expect(new CallPathPattern('parse_*').matches(['parse_value'])).toBe(true);
    expect(new CallPathPattern('parse_*').matches(['do_parse_value'])).toBe(false);
    expect(new CallPathPattern('operator()').matches(['operator()'])).toBe(true);
    expect(new CallPathPattern('a.b').matches(['axb'])).toBe(false);
  });

  test('malformed patterns raise an error with a code and an example', () => {
    for (const bad of ['', 'main > > leaf', 'main >', '> leaf']) {
      expect(() => new CallPathPattern(bad)).toThrow(InvalidCallPathPatternError);
    }
    try {
      new CallPathPattern('main > > leaf');
    } catch (e: any) {
      expect(e.code).toBe('USTACK_INVALID_CALL_PATH_PATTERN');
      expect(e.message).toContain('main > ** > parse_*');
    }
  });

  test('patterns match the paths of a real program', () => {
    const merged = mergeCallPaths(gdbHits([buildFixture('threads.c', { libs: ['-lpthread'] }), '1'], ['leaf']));
    expect(merged).toHaveLength(1);
    expect(new CallPathPattern('work > ** > leaf').matches(merged[0].path)).toBe(true);
    expect(new CallPathPattern('main > ** > leaf').matches(merged[0].path)).toBe(false);
  });
});

describe('closest paths', () => {
  test('alignment cost counts missing, extra and different frames; ** is free', () => {
    expect(alignPattern(new CallPathPattern('main > ** > leaf'), path('main > a > b > leaf')).cost).toBe(0);
    expect(alignPattern(new CallPathPattern('main > top > leaf'), path('main > top > mid > leaf')).cost).toBe(1);
    expect(alignPattern(new CallPathPattern('main > tap > mid > leaf'), path('main > top > mid > leaf')).cost).toBe(1);
    expect(alignPattern(new CallPathPattern('main > x > y > z > leaf'), path('main > leaf')).cost).toBe(3);
  });

  test('diff lines show wildcard-matched frames on both sides and differences on one', () => {
    const a = alignPattern(new CallPathPattern('main > ** > parse_string > arena_alloc'), path('main > cfg_parse > parse_value > parse_array > arena_alloc'));
    expect(a.cost).toBe(1);
    expect(alignmentDiffLines(a)).toEqual({
      expected: ['main', 'cfg_parse', 'parse_value', 'parse_string', 'arena_alloc'],
      received: ['main', 'cfg_parse', 'parse_value', 'parse_array', 'arena_alloc'],
    });
    const b = alignPattern(new CallPathPattern('main > top > leaf'), path('main > top > mid > leaf'));
    expect(alignmentDiffLines(b)).toEqual({ expected: ['main', 'top', 'leaf'], received: ['main', 'top', 'mid', 'leaf'] });
  });

  test('ranking puts the nearest path first and keeps order among equals', () => {
    const candidates = ['main > a > b > c > leaf', 'main > top > mid > leaf', 'main > top > other > leaf', 'x > y'].map(path);
    const ranked = rankClosestPaths(new CallPathPattern('main > top > mid > leef'), candidates, (p) => p);
    expect(ranked.map((r) => r.item.join(' > '))).toEqual(['main > top > mid > leaf', 'main > top > other > leaf', 'main > a > b > c > leaf', 'x > y']);
    expect(ranked.map((r) => r.alignment.cost)).toEqual([1, 2, 4, 4]);
  });
});

test('equally close paths: the one ending in the pattern\'s last function ranks first', () => {
  const ranked = rankClosestPaths(new CallPathPattern('main > ** > top > leaf'), ['main > top > mid', 'main > top > mid > leaf'].map(path), (p) => p);
  expect(ranked.map((r) => [r.item.join(' > '), r.alignment.cost])).toEqual([['main > top > mid > leaf', 1], ['main > top > mid', 1]]);
});
