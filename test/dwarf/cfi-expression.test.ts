/**
 * The DWARF expression evaluator on the operator sequences CFI uses (PLT CFA, glibc signal
 * frames) and on the stack/arithmetic/branch operators, with values given by the DWARF spec.
 */
import { evaluateExpression } from '../../src/dwarf/expression';
import { BufferMemory } from '../../src/dwarf/memory';
import { newRegisterFile, REG_RIP, REG_RSP } from '../../src/dwarf/registers';

const lit = (n: number) => 0x30 + n;
const breg = (r: number, sleb: number[]) => [0x70 + r, ...sleb];
const none = new BufferMemory(Buffer.alloc(0), 0);

function run(bytes: number[], regs = newRegisterFile(), mem = none, push = NaN): number {
  const buf = Buffer.from(bytes);
  return evaluateExpression(buf, 0, buf.length, regs, mem, push);
}

describe('DWARF expressions for CFI', () => {
  // DW_OP_breg7 +8; DW_OP_breg16 +0; DW_OP_lit15; DW_OP_and; DW_OP_lit11; DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus
  const plt = [...breg(7, [8]), ...breg(16, [0]), lit(15), 0x1a, lit(11), 0x2a, lit(3), 0x24, 0x22];
  test.each([
    [0x555555555030, 8], // jmp *GOT (offset 0 of the stub): CFA = rsp + 8
    [0x555555555036, 8], // push $n (offset 6)
    [0x55555555503b, 16], // jmp .plt0 after the push (offset 11)
    [0x55555555503f, 16],
  ])('PLT CFA at rip %s is rsp + %d', (rip, extra) => {
    const regs = newRegisterFile();
    regs[REG_RSP] = 0x7ffffffde000;
    regs[REG_RIP] = rip;
    expect(run(plt, regs)).toBe(0x7ffffffde000 + extra);
  });

  test('glibc __restore_rt CFA: DW_OP_breg7 160; DW_OP_deref reads the saved rsp', () => {
    const stack = Buffer.alloc(512);
    const base = 0x7ffffffd0000;
    stack.writeUInt32LE(0xfffdf000, 160);
    stack.writeUInt32LE(0x7fff, 164);
    const regs = newRegisterFile();
    regs[REG_RSP] = base;
    expect(run([...breg(7, [0xa0, 0x01]), 0x06], regs, new BufferMemory(stack, base))).toBe(0x7ffffffdf000);
  });

  test('unreadable memory, unknown registers and underflow give NaN', () => {
    const regs = newRegisterFile();
    regs[REG_RSP] = 0x1000;
    expect(run([...breg(7, [0]), 0x06], regs)).toBeNaN(); // deref outside memory
    expect(run(breg(3, [0]), regs)).toBeNaN(); // rbx unknown
    expect(run([0x22])).toBeNaN(); // plus on an empty stack
    expect(run([0xe0])).toBeNaN(); // DW_OP_lo_user: not a CFI operator
  });

  test('constants, stack operators and arithmetic', () => {
    expect(run([0x08, 200])).toBe(200); // const1u
    expect(run([0x09, 0xfe])).toBe(-2); // const1s
    expect(run([0x10, 0xe5, 0x8e, 0x26])).toBe(624485); // constu (ULEB128 example from the spec)
    expect(run([0x11, 0x7f])).toBe(-1); // consts
    expect(run([lit(5), lit(3), 0x1c])).toBe(2); // minus
    expect(run([lit(5), lit(3), 0x16, 0x1c])).toBe(-2); // swap, minus
    expect(run([lit(7), 0x12, 0x1e])).toBe(49); // dup, mul
    expect(run([lit(1), lit(2), lit(3), 0x17, 0x13, 0x1c])).toBe(2); // rot (1 2 3 -> 3 1 2), drop -> 3 1, minus
    expect(run([lit(9), lit(4), 0x14, 0x22, 0x22])).toBe(22); // over: 9 4 9 -> 9+4+9
    expect(run([lit(1), lit(2), 0x15, 1, 0x22, 0x22])).toBe(4); // pick 1
    expect(run([lit(10), 0x23, 0x90, 0x01])).toBe(154); // plus_uconst 144
    expect(run([0x11, 0x7d, 0x19])).toBe(3); // abs(-3)
    expect(run([lit(17), lit(5), 0x1d])).toBe(2); // mod
    expect(run([lit(17), lit(5), 0x1b])).toBe(3); // div
    expect(run([lit(12), lit(10), 0x21])).toBe(14); // or
    expect(run([lit(12), lit(10), 0x27])).toBe(6); // xor
    expect(run([lit(1), 0x08, 40, 0x24])).toBe(2 ** 40); // shl beyond 32 bits
    expect(run([0x0e, 0, 0, 0, 0, 0, 0x80, 0, 0, lit(4), 0x25])).toBe(2 ** 43); // const8u 2^47, shr 4
    expect(run([lit(0), 0x20])).toBe(-1); // not
  });

  test('64-bit and keeps high address bits', () => {
    const regs = newRegisterFile();
    regs[REG_RIP] = 0x7ffff7e1304b;
    expect(run([...breg(16, [0]), 0x10, 0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x1a], regs)).toBe(0x7ffff7e13040);
    expect(run([...breg(16, [0]), 0x11, 0x70, 0x1a], regs)).toBe(0x7ffff7e13040); // and with consts -16
  });

  test('comparisons and branches', () => {
    expect(run([lit(3), lit(3), 0x29])).toBe(1); // eq
    expect(run([lit(3), lit(4), 0x2d])).toBe(1); // lt
    expect(run([lit(3), lit(4), 0x2b])).toBe(0); // gt
    expect(run([0x11, 0x7f, lit(0), 0x2c])).toBe(1); // le is signed: -1 <= 0
    // bra over "lit5; skip +1" (4 bytes) when the top is non-zero; otherwise lit5 and skip over lit7
    expect(run([lit(1), 0x28, 4, 0, lit(5), 0x2f, 1, 0, lit(7)])).toBe(7);
    expect(run([lit(0), 0x28, 4, 0, lit(5), 0x2f, 1, 0, lit(7)])).toBe(5);
  });

  test('the CFA is pushed first for register rules', () => {
    expect(run([0x23, 16], newRegisterFile(), none, 0x7fff0000)).toBe(0x7fff0010);
  });
});
