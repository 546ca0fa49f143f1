/**
 * The rules of collapsed library frames and of the program's phase, on frames as the symbolizer
 * marks them (system, calledAs, exportedAs). The real runs that produce such frames, with and
 * without glibc's debug file, are in portable-paths.test.ts.
 */
import { callPathOf, inProgramPhase } from '../../src/callpath/normalize';
import { mergeCallPaths } from '../../src/callpath/merge';
import type { Frame, Stack } from '../../src/capture/types';
import { callsOf } from '../../src/jest/calls';
import { checkNormalize } from '../../src/jest/options';
import { InvalidTraceOptionsError } from '../../src/errors';

let pc = 0x1000;
function f(symbol: string | null, extra: Partial<Frame> = {}): Frame {
  pc += 0x10;
  return { pc: '0x' + pc.toString(16), module: extra.system ? '/usr/lib/x86_64-linux-gnu/libc.so.6' : '/tmp/prog', offset: null, symbol, symbolOffset: null, symbolSize: null, file: null, line: null, inlined: false, ...extra };
}
const lib = (symbol: string | null, extra: Partial<Frame> = {}) => f(symbol, { system: true, ...extra });
/** Caller-first list to the innermost-first frames a stack stores. */
const stack = (...callerFirst: Frame[]) => callerFirst.reverse();
const START = [f('_start'), lib('__libc_start_call_main', { calledAs: '__libc_start_main' })];

describe('library frames collapse to the function the program called', () => {
  test('a callback after the library stays; the library run is named by the called symbol', () => {
    const frames = stack(...START, f('main'), lib('__GI___qsort_r', { calledAs: 'qsort' }), lib('msort_with_tmp'), lib('msort_with_tmp'), f('compare_keys'));
    expect(callPathOf(frames)).toEqual(['main', 'qsort', 'compare_keys']);
    expect(callPathOf(frames, { libraryFrames: 'all' })).toEqual(['main', '__GI___qsort_r', 'msort_with_tmp', 'msort_with_tmp', 'compare_keys']);
  });

  test('unnamed library frames (no debug file) give the same path', () => {
    const frames = stack(...START, f('main'), lib('qsort_r', { calledAs: 'qsort' }), lib(null), lib(null), f('compare_keys'));
    expect(callPathOf(frames)).toEqual(['main', 'qsort', 'compare_keys']);
  });

  test('a hook inside the library: the called name, then the hooked function\'s exported name', () => {
    const withDebug = stack(...START, f('main'), lib('__GI__IO_puts', { calledAs: 'puts' }), lib('_IO_new_file_xsputn'), lib('__GI___libc_malloc', { exportedAs: 'malloc' }));
    const without = stack(...START, f('main'), lib('_IO_puts', { calledAs: 'puts' }), lib('_IO_file_xsputn'), lib('malloc', { exportedAs: 'malloc' }));
    expect(callPathOf(withDebug)).toEqual(['main', 'puts', 'malloc']);
    expect(callPathOf(without)).toEqual(['main', 'puts', 'malloc']);
  });

  test('a hook on the called function itself is one frame; an IFUNC implementation (not exported) is named as called', () => {
    expect(callPathOf(stack(...START, f('main'), lib('__GI___libc_malloc', { calledAs: 'malloc', exportedAs: 'malloc' })))).toEqual(['main', 'malloc']);
    expect(callPathOf(stack(...START, f('main'), lib('__memmove_avx_unaligned_erms', { calledAs: 'memcpy' })))).toEqual(['main', 'memcpy']);
  });

  test('consecutive frames of several system libraries are one frame', () => {
    const frames = stack(...START, f('main'), lib('operator new(unsigned long)', { calledAs: 'operator new(unsigned long)' }), lib('__GI___libc_malloc', { exportedAs: 'malloc' }));
    expect(callPathOf(frames)).toEqual(['main', 'operator new', 'malloc']);
  });

  test('a thread starts at its start routine also when the C library\'s frames have no names', () => {
    expect(callPathOf(stack(lib(null), lib(null), f('worker'), lib('malloc', { calledAs: 'malloc', exportedAs: 'malloc' })))).toEqual(['worker', 'malloc']);
    expect(callPathOf(stack(lib('clone3'), lib('start_thread'), f('worker'), lib('__GI___libc_malloc', { calledAs: 'malloc', exportedAs: 'malloc' })))).toEqual(['worker', 'malloc']);
  });
});

describe('the program\'s phase', () => {
  test('under main, or in a thread of the program: counted', () => {
    expect(inProgramPhase(stack(...START, f('main'), lib('malloc', { calledAs: 'malloc' })))).toBe(true);
    expect(inProgramPhase(stack(lib(null), lib(null), f('worker'), lib('malloc')))).toBe(true);
  });

  test('all in system libraries (ld.so before main), or around main through __libc_start_main: not counted', () => {
    expect(inProgramPhase(stack(lib('_dl_start'), lib('_dl_sysdep_start'), lib('malloc')))).toBe(false);
    expect(inProgramPhase(stack(f('_start'), lib('__libc_start_main_impl', { calledAs: '__libc_start_main' }), lib('call_init'), f('before_main'), f('note')))).toBe(false);
    expect(inProgramPhase(stack(f('_start'), lib('__libc_start_call_main', { calledAs: '__libc_start_main' }), lib('exit'), lib('__run_exit_handlers'), f('at_exit'), f('note')))).toBe(false);
    expect(inProgramPhase(stack(f('_start'), lib('__libc_start_call_main', { calledAs: '__libc_start_main' }), lib('exit'), lib('free', { exportedAs: 'free' })))).toBe(false);
  });

  test('a stripped program (main unnamed) and stacks without system marks count', () => {
    expect(inProgramPhase(stack(f(null), lib(null, { calledAs: '__libc_start_main' }), f(null), f('leaf')))).toBe(true);
    expect(inProgramPhase(stack(f('_dl_start'), f('malloc')))).toBe(true);
  });

  test('callPaths leave such hits out unless phase is "all"; folded stacks always count', () => {
    const stacks: Stack[] = [
      { hook: 'malloc', count: 3, first: 0, frames: stack(lib('_dl_start'), lib('malloc')) },
      { hook: 'malloc', count: 2, first: 3, frames: stack(...START, f('main'), lib('malloc', { calledAs: 'malloc', exportedAs: 'malloc' })) },
      { hook: 'malloc', count: 4, first: 5, frames: [lib('malloc')], folded: true },
    ];
    expect(mergeCallPaths(stacks).map((m) => [m.path.join(' > '), m.count])).toEqual([['main > malloc', 2], ['(folded) > malloc', 4]]);
    expect(mergeCallPaths(stacks, { phase: 'all' }).map((m) => m.count)).toEqual([3, 2, 4]);
  });

  test('a stack cut at maxFrames counts: its outer frames, which tell the phase, are not there', () => {
    const cut: Stack = { hook: 'malloc', count: 2, first: 0, frames: stack(lib('msort_with_tmp'), lib('msort_with_tmp'), lib('__GI___libc_malloc', { exportedAs: 'malloc' })), truncated: true };
    expect(inProgramPhase(cut.frames)).toBe(false);
    expect(mergeCallPaths([cut]).map((m) => [m.path.join(' > '), m.count])).toEqual([['(truncated) > msort_with_tmp > malloc', 2]]);
  });
});

describe('options', () => {
  test('libraryFrames and phase take their words; anything else is a clear error', () => {
    expect(checkNormalize('the call', { libraryFrames: 'all', phase: 'all' })).toEqual({ libraryFrames: 'all', phase: 'all' });
    expect(() => checkNormalize('the call', { libraryFrames: true })).toThrow(InvalidTraceOptionsError);
    expect(() => checkNormalize('the call', { phase: 'before' })).toThrow('normalize.phase must be one of "main", "all", got "before"');
  });

  test('run.calls() (and toHaveCalled) follow the phase too', () => {
    const hit = (frames: Frame[], seq: number) => ({ hook: 'malloc', pid: 1, tid: 1, seq, frames });
    const hits = [hit(stack(lib('_dl_start'), lib('malloc')), 0), hit(stack(...START, f('main'), lib('malloc', { calledAs: 'malloc', exportedAs: 'malloc' })), 1)];
    expect(callsOf(hits, 'malloc', {}).map((c) => c.path)).toEqual(['main > malloc']);
    expect(callsOf(hits, 'malloc', { phase: 'all' })).toHaveLength(2);
  });
});
