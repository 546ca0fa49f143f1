/**
 * When the walk must stop: a looping or descending frame-pointer chain, pc 0, unknown
 * registers, unreadable memory and maxFrames. Memory is a real snapshot taken from a gdb core of
 * chain.c -O0 (frame pointers), altered where a test needs a corrupt stack.
 */
import { BufferMemory } from '../../src/dwarf/memory';
import { REG_RBP, REG_RIP, REG_RSP } from '../../src/dwarf/registers';
import { FRAME_UNWOUND_BY_FP, Unwinder } from '../../src/dwarf/unwinder';
import { buildFixture } from '../helpers/fixtures';
import { stopUnderGdb } from './unwind-scenario';

describe('unwinder stop conditions (frame-pointer walk, no CFI)', () => {
  const stop = stopUnderGdb([buildFixture('chain.c')], 'leaf');
  const thread = stop.core.threads.find((t) => t.regs[REG_RIP] === stop.pc)!;
  const rsp = thread.regs[REG_RSP];
  const snapshot = Buffer.alloc(8192);
  stop.core.copy(rsp, snapshot);
  // no module knows any CFI: every step uses the rbp chain
  const unwinder = new Unwinder(() => null);
  const pcs = new Float64Array(32);
  const flags = new Uint8Array(32);
  const walk = (mem: BufferMemory, max = 32) => unwinder.unwind(thread.regs.slice(), mem, pcs, flags, max);

  test('the intact rbp chain of the -O0 program reaches main like gdb', () => {
    const n = walk(new BufferMemory(snapshot, rsp));
    expect(Array.from(pcs.subarray(0, 4))).toEqual(stop.physical.slice(0, 4).map((f) => f.pc));
    expect(flags[0] & FRAME_UNWOUND_BY_FP).toBe(FRAME_UNWOUND_BY_FP);
    expect(n).toBeGreaterThanOrEqual(4);
  });

  test('maxFrames bounds the walk', () => {
    expect(walk(new BufferMemory(snapshot, rsp), 2)).toBe(2);
    expect(pcs[1]).toBe(stop.physical[1].pc);
  });

  test('a saved rbp pointing back at itself stops instead of looping', () => {
    const bad = Buffer.from(snapshot);
    const rbp = thread.regs[REG_RBP];
    // leaf's frame: [rbp] = caller's rbp; make mid's saved rbp point at leaf's frame again
    const midRbp = new BufferMemory(snapshot, rsp).readU64(rbp);
    bad.writeUInt32LE(rbp % 2 ** 32, midRbp - rsp);
    bad.writeUInt32LE(Math.floor(rbp / 2 ** 32), midRbp - rsp + 4);
    const n = walk(new BufferMemory(bad, rsp));
    expect(n).toBe(3); // leaf, mid, top: the step back down to leaf's frame is refused
  });

  test('unreadable memory and a zero return address end the stack', () => {
    // a snapshot too small to hold leaf's saved rbp/return address
    const tiny = snapshot.subarray(0, thread.regs[REG_RBP] - rsp);
    expect(walk(new BufferMemory(Buffer.from(tiny), rsp))).toBe(1);
    const zeroRa = Buffer.from(snapshot);
    zeroRa.fill(0, thread.regs[REG_RBP] + 8 - rsp, thread.regs[REG_RBP] + 16 - rsp);
    expect(walk(new BufferMemory(zeroRa, rsp))).toBe(1);
  });

  test('unknown pc or frame pointer gives at most the frames known', () => {
    const regs = thread.regs.slice();
    regs[REG_RIP] = NaN;
    expect(unwinder.unwind(regs, new BufferMemory(snapshot, rsp), pcs, flags, 32)).toBe(0);
    const noRbp = thread.regs.slice();
    noRbp[REG_RBP] = NaN;
    expect(unwinder.unwind(noRbp, new BufferMemory(snapshot, rsp), pcs, flags, 32)).toBe(1);
  });
});
