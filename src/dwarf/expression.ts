/**
 * DWARF expression evaluator for call frame information (DW_CFA_def_cfa_expression,
 * DW_CFA_expression, DW_CFA_val_expression). Values are JS numbers treated as 64-bit
 * two's-complement integers; exact for the user-space addresses and small constants CFI uses.
 * Evaluation allocates nothing: one shared value stack.
 */
import type { MemoryReader } from './memory';
import { REGISTER_COUNT, type RegisterFile } from './registers';

const TWO32 = 0x100000000;
const TWO64 = 18446744073709551616;
const stack = new Float64Array(256);

function hi32(v: number): number {
  return Math.floor(v / TWO32) | 0;
}
function lo32(v: number): number {
  return (v - Math.floor(v / TWO32) * TWO32) >>> 0;
}
function join(hi: number, lo: number): number {
  return hi * TWO32 + (lo >>> 0);
}
/** Reinterprets v as an unsigned 64-bit value (negative numbers wrap around 2^64). */
function unsigned(v: number): number {
  return v < 0 ? v + TWO64 : v;
}

/** ULEB128 as a 64-bit two's-complement number (values >= 2^63 come out negative, e.g. masks). */
function readUleb(buf: Buffer, pos: number, out: Float64Array): number {
  let lo = 0;
  let hi = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = buf[pos++];
    const bits = byte & 0x7f;
    if (shift < 32) {
      lo |= bits << shift;
      if (shift > 25) hi |= bits >>> (32 - shift);
    } else if (shift < 64) {
      hi |= bits << (shift - 32);
    }
    shift += 7;
  } while (byte & 0x80);
  out[0] = (hi | 0) * TWO32 + (lo >>> 0);
  return pos;
}
function readSleb(buf: Buffer, pos: number, out: Float64Array): number {
  let result = 0;
  let scale = 1;
  let byte: number;
  do {
    byte = buf[pos++];
    result += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte & 0x80);
  if (byte & 0x40) result -= scale;
  out[0] = result;
  return pos;
}
function readI64(buf: Buffer, pos: number): number {
  return buf.readInt32LE(pos + 4) * TWO32 + buf.readUInt32LE(pos);
}

const leb = new Float64Array(1);

/**
 * Evaluates the expression in buf[start, end) and returns the value on top of the stack,
 * or NaN when it cannot be evaluated (unknown register, unreadable memory, unsupported
 * operator, stack underflow). `push` (when not NaN) is pushed first, as CFI does with the CFA.
 */
export function evaluateExpression(
  buf: Buffer,
  start: number,
  end: number,
  regs: RegisterFile,
  mem: MemoryReader,
  push: number,
): number {
  let sp = 0;
  if (push === push) stack[sp++] = push;
  let pc = start;
  while (pc < end) {
    const op = buf[pc++];
    if (op >= 0x30 && op <= 0x4f) {
      // DW_OP_lit0..lit31
      stack[sp++] = op - 0x30;
      continue;
    }
    if (op >= 0x70 && op <= 0x8f) {
      // DW_OP_breg0..breg31
      pc = readSleb(buf, pc, leb);
      const r = op - 0x70;
      if (r >= REGISTER_COUNT) return NaN;
      const v = regs[r] + leb[0];
      if (v !== v) return NaN;
      stack[sp++] = v;
      continue;
    }
    switch (op) {
      case 0x03: // addr
        stack[sp++] = readI64(buf, pc);
        pc += 8;
        break;
      case 0x06: { // deref
        if (sp < 1) return NaN;
        const v = mem.readU64(stack[sp - 1]);
        if (v !== v) return NaN;
        stack[sp - 1] = v;
        break;
      }
      case 0x08: stack[sp++] = buf[pc]; pc += 1; break; // const1u
      case 0x09: stack[sp++] = buf.readInt8(pc); pc += 1; break; // const1s
      case 0x0a: stack[sp++] = buf.readUInt16LE(pc); pc += 2; break; // const2u
      case 0x0b: stack[sp++] = buf.readInt16LE(pc); pc += 2; break; // const2s
      case 0x0c: stack[sp++] = buf.readUInt32LE(pc); pc += 4; break; // const4u
      case 0x0d: stack[sp++] = buf.readInt32LE(pc); pc += 4; break; // const4s
      case 0x0e: stack[sp++] = readI64(buf, pc); pc += 8; break; // const8u (two's complement, like every value here)
      case 0x0f: stack[sp++] = readI64(buf, pc); pc += 8; break; // const8s
      case 0x10: pc = readUleb(buf, pc, leb); stack[sp++] = leb[0]; break; // constu
      case 0x11: pc = readSleb(buf, pc, leb); stack[sp++] = leb[0]; break; // consts
      case 0x12: if (sp < 1) return NaN; stack[sp] = stack[sp - 1]; sp++; break; // dup
      case 0x13: if (sp < 1) return NaN; sp--; break; // drop
      case 0x14: if (sp < 2) return NaN; stack[sp] = stack[sp - 2]; sp++; break; // over
      case 0x15: { // pick
        const i = buf[pc++];
        if (i >= sp) return NaN;
        stack[sp] = stack[sp - 1 - i];
        sp++;
        break;
      }
      case 0x16: { // swap
        if (sp < 2) return NaN;
        const t = stack[sp - 1];
        stack[sp - 1] = stack[sp - 2];
        stack[sp - 2] = t;
        break;
      }
      case 0x17: { // rot
        if (sp < 3) return NaN;
        const t = stack[sp - 1];
        stack[sp - 1] = stack[sp - 2];
        stack[sp - 2] = stack[sp - 3];
        stack[sp - 3] = t;
        break;
      }
      case 0x19: if (sp < 1) return NaN; stack[sp - 1] = Math.abs(stack[sp - 1]); break; // abs
      case 0x1f: if (sp < 1) return NaN; stack[sp - 1] = -stack[sp - 1]; break; // neg
      case 0x20: if (sp < 1) return NaN; stack[sp - 1] = -stack[sp - 1] - 1; break; // not
      case 0x23: pc = readUleb(buf, pc, leb); if (sp < 1) return NaN; stack[sp - 1] += leb[0]; break; // plus_uconst
      case 0x94: { // deref_size
        const size = buf[pc++];
        if (sp < 1) return NaN;
        const v = mem.readU64(stack[sp - 1]);
        if (v !== v || size < 1 || size > 8) return NaN;
        stack[sp - 1] = size === 8 ? v : v % Math.pow(2, size * 8);
        break;
      }
      case 0x96: break; // nop
      case 0x2f: { // skip
        const d = buf.readInt16LE(pc);
        pc += 2 + d;
        break;
      }
      case 0x28: { // bra
        const d = buf.readInt16LE(pc);
        pc += 2;
        if (sp < 1) return NaN;
        if (stack[--sp] !== 0) pc += d;
        break;
      }
      case 0x92: { // bregx
        pc = readUleb(buf, pc, leb);
        const r = leb[0];
        pc = readSleb(buf, pc, leb);
        if (r >= REGISTER_COUNT) return NaN;
        const v = regs[r] + leb[0];
        if (v !== v) return NaN;
        stack[sp++] = v;
        break;
      }
      default: {
        // binary operators
        if (sp < 2) return NaN;
        const b = stack[sp - 1];
        const a = stack[sp - 2];
        let r: number;
        switch (op) {
          case 0x1a: r = join(hi32(a) & hi32(b), lo32(a) & lo32(b)); break; // and
          case 0x1b: if (b === 0) return NaN; r = Math.trunc(a / b); break; // div (signed)
          case 0x1c: r = a - b; break; // minus
          case 0x1d: if (b === 0) return NaN; r = unsigned(a) % unsigned(b); break; // mod
          case 0x1e: r = a * b; break; // mul
          case 0x21: r = join(hi32(a) | hi32(b), lo32(a) | lo32(b)); break; // or
          case 0x22: r = a + b; break; // plus
          case 0x24: r = b >= 64 ? 0 : a * Math.pow(2, b); break; // shl
          case 0x25: r = b >= 64 ? 0 : Math.floor(unsigned(a) / Math.pow(2, b)); break; // shr
          case 0x26: r = b >= 64 ? (a < 0 ? -1 : 0) : Math.floor(a / Math.pow(2, b)); break; // shra
          case 0x27: r = join(hi32(a) ^ hi32(b), lo32(a) ^ lo32(b)); break; // xor
          case 0x29: r = a === b ? 1 : 0; break; // eq
          case 0x2a: r = a >= b ? 1 : 0; break; // ge
          case 0x2b: r = a > b ? 1 : 0; break; // gt
          case 0x2c: r = a <= b ? 1 : 0; break; // le
          case 0x2d: r = a < b ? 1 : 0; break; // lt
          case 0x2e: r = a !== b ? 1 : 0; break; // ne
          default: return NaN; // register locations, calls, TLS, typed ops: not meaningful in CFI
        }
        sp--;
        stack[sp - 1] = r;
      }
    }
  }
  return sp > 0 ? stack[sp - 1] : NaN;
}
