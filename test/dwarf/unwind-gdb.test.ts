/**
 * The unwinder against gdb on real processes: gdb stops a fixture, prints its frames and writes
 * a core; we unwind that core with CfiTable + Unwinder and must find the same physical frames
 * (same pcs, same functions, signal frames in the same places). gdb's inline frames share their
 * physical frame's pc and its tail-call frames (synthesized from DW_TAG_call_site) are not on the
 * stack, so both are left out of the comparison.
 */
import { buildFixture } from '../helpers/fixtures';
import { FRAME_EXACT_PC, FRAME_SIGNAL_TRAMPOLINE } from '../../src/dwarf/unwinder';
import { GDB_SIGTRAMP, describe as list, stopUnderGdb, unwindStop, type CfiChoice, type GdbStop, type OurFrame } from './unwind-scenario';

const O2 = ['-O2', '-fomit-frame-pointer', '-g'];

function expectSameStack(stop: GdbStop, choice: CfiChoice = {}, compareNames = true): OurFrame[] {
  const ours = unwindStop(stop, choice);
  const context = `gdb:\n${stop.btText}\nours:\n${list(ours)}`;
  const expected = stop.physical.map((f) => ({ pc: f.pc.toString(16), func: !compareNames ? '' : f.type === GDB_SIGTRAMP ? '<signal handler called>' : f.func }));
  const actual = ours.map((f) => ({ pc: f.pc.toString(16), func: compareNames ? f.func : '' }));
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`stacks differ\n${context}`);
  // flags: trampolines marked, and the frame a signal interrupted has an exact pc
  stop.physical.forEach((f, i) => {
    expect(!!(ours[i].flags & FRAME_SIGNAL_TRAMPOLINE)).toBe(f.type === GDB_SIGTRAMP);
    expect(!!(ours[i].flags & FRAME_EXACT_PC)).toBe(i > 0 && stop.physical[i - 1].type === GDB_SIGTRAMP);
  });
  return ours;
}

function names(stop: GdbStop): string[] {
  return stop.physical.map((f) => f.func);
}

describe('unwinding real stacks, compared with gdb', () => {
  test.each([
    ['-O0', ['-O0', '-g']],
    ['-O2 -fomit-frame-pointer', O2],
  ])('chain.c %s stopped in leaf', (_label, flags) => {
    const stop = stopUnderGdb([buildFixture('chain.c', { flags })], 'leaf');
    expect(names(stop).slice(0, 4)).toEqual(['leaf', 'mid', 'top', 'main']);
    expect(names(stop).at(-1)).toBe('_start');
    expectSameStack(stop);
  });

  test.each([
    ['-O0', ['-O0', '-g']],
    ['-O2 -fomit-frame-pointer', O2],
  ])('chain.c %s stopped at the first instruction of leaf keeps the direct caller', (_label, flags) => {
    const stop = stopUnderGdb([buildFixture('chain.c', { flags })], '*leaf');
    expect(names(stop).slice(0, 4)).toEqual(['leaf', 'mid', 'top', 'main']);
    expectSameStack(stop);
  });

  test('chain.c -O0 without CFI for the program falls back to the frame-pointer chain', () => {
    const stop = stopUnderGdb([buildFixture('chain.c')], 'leaf');
    // only libraries keep their CFI: the program's frames are walked through rbp
    const ours = unwindStop(stop, { ehFrame: false, debugFrame: false, onlyFor: (p) => !p.includes('chain') });
    expect(ours.slice(0, 4).map((f) => f.func)).toEqual(['leaf', 'mid', 'top', 'main']);
    expect(ours.slice(0, 4).map((f) => f.pc)).toEqual(stop.physical.slice(0, 4).map((f) => f.pc));
  });

  test('chain.c built with .debug_frame only (-fno-asynchronous-unwind-tables) at -O2', () => {
    const stop = stopUnderGdb(
      [buildFixture('chain.c', { flags: [...O2, '-fno-asynchronous-unwind-tables', '-fno-unwind-tables'], variant: 'debugframe' })],
      'leaf',
    );
    expectSameStack(stop);
  });

  test('without .eh_frame_hdr (own FDE index) the stacks are the same', () => {
    const stop = stopUnderGdb([buildFixture('libc_calls.c', { flags: O2 })], 'by_value');
    expectSameStack(stop, { ehFrameHdr: false });
  });

  test.each([
    ['-O0', ['-O0', '-g']],
    ['-O2 -fomit-frame-pointer', O2],
  ])('libc_calls.c %s: comparator called from inside glibc qsort', (_label, flags) => {
    const stop = stopUnderGdb([buildFixture('libc_calls.c', { flags })], 'by_value');
    expect(names(stop)).toContain('msort_with_tmp');
    expect(names(stop)).toContain('main');
    expectSameStack(stop);
  });

  // the .plt FDE computes the CFA with a DWARF expression (rsp + 8, or + 16 after the lazy-binding push)
  test.each([
    ['entry (jmp *GOT)', 0],
    ['lazy path before the push', 6],
    ['lazy path after the push', 11],
  ])('libc_calls.c -O0 stopped in qsort@plt, %s', (_label, offset) => {
    const stop = stopUnderGdb([buildFixture('libc_calls.c')], `*('qsort@plt'+${offset})`);
    expect(names(stop).slice(0, 3)).toEqual(['qsort@plt', 'sort_items', 'main']);
    expectSameStack(stop);
  });

  test.each([
    ['-O0', ['-O0', '-g']],
    ['-O2 -fomit-frame-pointer', O2],
  ])('libc_calls.c %s: stopped in glibc malloc called from make_items', (_label, flags) => {
    const stop = stopUnderGdb([buildFixture('libc_calls.c', { flags })], ['break make_items', 'run', 'break malloc', 'continue']);
    expect(names(stop).slice(1, 3)).toEqual(['make_items', 'main']);
    expectSameStack(stop);
  });

  test.each([
    ['-O0', ['-O0', '-g']],
    ['-O2 -fomit-frame-pointer -fno-optimize-sibling-calls', [...O2, '-fno-optimize-sibling-calls']],
  ])('threads.c %s: a thread stack up to clone3', (_label, flags) => {
    const stop = stopUnderGdb([buildFixture('threads.c', { flags, libs: ['-lpthread'] })], 'leaf');
    expect(names(stop)).toEqual(['leaf', 'step', 'work', 'start_thread', 'clone3']);
    expectSameStack(stop);
  });

  test.each([
    ['raise', '-O0', ['-O0', '-g']],
    ['raise', '-O2', O2],
    ['alarm', '-O0', ['-O0', '-g']],
    ['alarm', '-O2', O2],
    ['altstack', '-O2', O2],
  ])('unwind_signal.c %s %s: through the signal frame into the interrupted code', (mode, _label, flags) => {
    const stop = stopUnderGdb([buildFixture('unwind_signal.c', { flags }), mode], 'in_handler');
    const n = names(stop);
    const sig = stop.physical.findIndex((f) => f.type === GDB_SIGTRAMP);
    expect(n.slice(0, 2)).toEqual(['in_handler', 'handler']);
    expect(sig).toBe(2);
    expect(n[sig + 1]).toBe(mode === 'raise' ? '__pthread_kill_implementation' : 'busy_loop');
    expectSameStack(stop);
  });

  // gdb names Rust frames in its own style (generics, {closure#0}); pcs are compared exactly and
  // names through addr2line's demangling without the hash
  test('unwind_rust.rs -O2: Rust frames through std::rt into main', () => {
    const stop = stopUnderGdb([buildFixture('unwind_rust.rs', { flags: ['-g', '-C', 'opt-level=2'] })], 'inner');
    expect(names(stop).slice(0, 4)).toEqual(['unwind_rust::inner', 'unwind_rust::middle<unwind_rust::outer::{closure_env#0}>', 'unwind_rust::outer', 'unwind_rust::main']);
    const ours = expectSameStack(stop, {}, false);
    expect(ours.slice(0, 4).map((f) => f.func.replace(/::h[0-9a-f]{16}$/, ''))).toEqual(['inner', 'unwind_rust::middle', 'unwind_rust::outer', 'unwind_rust::main']);
    expect(ours.at(-1)!.func).toBe('_start');
  });
});
