/**
 * Word reads from a stop window: 4-aligned windows are read as 32-bit words, others byte by byte;
 * both must give the same numbers, count reads the window cannot serve, and track how far up the
 * window an unwind read (what the hit batch's stack top is learned from).
 */
import { registersFromUserRegs, REGISTER_COUNT, USER_REGS_WORD } from '../../src/dwarf/registers';
import { TraceeMemory } from '../../src/ptrace/tracee-memory';

const words = [0n, 1n, 0xffffffffn, 0x100000000n, 0x7fffffffffffn, 0x123456789abcn, 0xdeadbeefn, 0x7ffc0000fff8n];

function image(shift: number): Buffer {
  const b = Buffer.alloc(256 + shift);
  words.forEach((w, i) => b.writeBigUInt64LE(w, shift + i * 8));
  return b;
}

test('a window at any byte offset reads the same 64-bit words (aligned: as 32-bit words)', () => {
  const mem = new TraceeMemory(process.pid); // this process's own /proc/PID/mem: opened, not read
  try {
    for (const shift of [0, 1, 2, 3, 4, 8, 13]) {
      const b = image(shift);
      mem.useWindowAt(b, shift, 0x7000, 64);
      expect(words.map((_, i) => mem.readU64(0x7000 + i * 8))).toEqual(words.map(Number));
      // an unaligned address inside the window
      expect(mem.readU64(0x7000 + 4)).toBe(Number(BigInt(b.readUInt32LE(shift + 4)) + (BigInt(b.readUInt32LE(shift + 8)) << 32n)));
      expect(mem.readsOutsideWindow).toBe(0);
      expect(mem.windowHighWater).toBe(0x7000 + 64);
    }
    mem.useWindowAt(image(0), 0, 0x7000, 16);
    mem.readU64(0x7000 + 8);
    expect(mem.windowHighWater).toBe(0x7000 + 16);
    expect(Number.isNaN(mem.readU64(0x10))).toBe(true); // not mapped here, and outside the window
    expect(mem.readsOutsideWindow).toBe(1);
  } finally {
    mem.close();
  }
});

test('registers from a user_regs_struct image at any byte offset', () => {
  for (const shift of [0, 1, 4, 6]) {
    const b = Buffer.alloc(216 + shift);
    for (let r = 0; r < REGISTER_COUNT; r++) b.writeBigUInt64LE(BigInt(r) * 0x100000001n + 7n, shift + USER_REGS_WORD[r] * 8);
    const regs = registersFromUserRegs(b, shift, new Float64Array(REGISTER_COUNT));
    expect(Array.from(regs)).toEqual(Array.from({ length: REGISTER_COUNT }, (_, r) => r * 0x100000001 + 7));
  }
});
