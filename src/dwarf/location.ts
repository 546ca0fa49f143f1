/**
 * Where a stopped thread's variable is: DWARF location descriptions evaluated against its
 * registers and memory (registers, DW_OP_fbreg, entry values, pieces, implicit and stack values,
 * DWARF 5 typed operations), and the bytes found there or at an ABI location. value-decoder.ts
 * turns those bytes into values.
 */
import type { AbiLocation } from './sysv-abi';
import { ST0 } from './sysv-abi';

/** What a stopped thread offers: registers by DWARF number and memory. */
export interface ValueSource {
  /** General-purpose register 0-16 as unsigned 64-bit, or null. */
  gpr(reg: number): bigint | null;
  /** xmm0-15 (DWARF 17-32, 16 bytes) or st0-7 (33-40, 10 bytes), or null when unavailable. */
  vector(reg: number): Buffer | null;
  read(address: number, length: number): Buffer | null;
}

export interface FrameContext {
  /** Canonical frame address (rsp + 8 at a function's first instruction), or null when unknown. */
  cfa: number | null;
  /** DW_AT_frame_base expression of the function, or null. */
  frameBase: Buffer | null;
  /** Stopped at the function's first instruction: DW_OP_entry_value is the register's current value. */
  atEntry: boolean;
}

export type Location =
  | { kind: 'reg'; reg: number }
  | { kind: 'mem'; address: number }
  | { kind: 'value'; value: bigint }
  | { kind: 'bytes'; data: Buffer }
  | { kind: 'pieces'; pieces: { loc: Location | null; size: number }[] }
  | { kind: 'optimized' }
  | { kind: 'unavailable' }
  | { kind: 'synthetic' };

export const OPTIMIZED_OUT = '<optimized out>';
export const UNAVAILABLE = '<unavailable>';
const M64 = (1n << 64n) - 1n;

class Cursor {
  constructor(
    readonly buf: Buffer,
    public pos: number,
  ) {}
  uleb(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (!(b & 0x80)) return result;
    }
  }
  sleb(): bigint {
    let result = 0n;
    let shift = 0n;
    let b: number;
    do {
      b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b & 0x80);
    if (b & 0x40) result -= 1n << shift;
    return result;
  }
}

function wrap(v: bigint): bigint {
  return v & M64;
}
function signed64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

/** Evaluates a location description (DWARF 5 section 2.6). */
export function evaluateLocation(expr: Buffer | null, src: ValueSource, frame: FrameContext, depth = 0): Location {
  if (!expr || expr.length === 0) return { kind: 'optimized' };
  const pieces: { loc: Location | null; size: number }[] = [];
  const stack: bigint[] = [];
  let current: Location | null = null; // register / implicit location of the current piece
  // DWARF 5 typed stack entries (regval_type, deref_type, ...) are kept as raw bits: exact when
  // passed through, but arithmetic on them would need the type, so that poisons the piece
  let typed = false;
  let poisoned = false;
  const c = new Cursor(expr, 0);
  const pop = (): bigint => {
    const v = stack.pop();
    if (v === undefined) throw new Error('stack underflow');
    return v;
  };
  try {
    while (c.pos < expr.length) {
      const op = expr[c.pos++];
      if (op >= 0x30 && op <= 0x4f) {
        stack.push(BigInt(op - 0x30));
        continue;
      }
      if (op >= 0x50 && op <= 0x6f) {
        current = { kind: 'reg', reg: op - 0x50 };
        continue;
      }
      if (op >= 0x70 && op <= 0x8f) {
        const off = c.sleb();
        const r = src.gpr(op - 0x70);
        if (r === null) return { kind: 'unavailable' };
        stack.push(wrap(r + off));
        continue;
      }
      switch (op) {
        case 0x03: // addr
          stack.push(expr.readBigUInt64LE(c.pos));
          c.pos += 8;
          break;
        case 0x06: { // deref
          const b = src.read(Number(pop()), 8);
          if (!b) return { kind: 'unavailable' };
          stack.push(b.readBigUInt64LE(0));
          break;
        }
        case 0x08: stack.push(BigInt(expr[c.pos])); c.pos += 1; break;
        case 0x09: stack.push(wrap(BigInt(expr.readInt8(c.pos)))); c.pos += 1; break;
        case 0x0a: stack.push(BigInt(expr.readUInt16LE(c.pos))); c.pos += 2; break;
        case 0x0b: stack.push(wrap(BigInt(expr.readInt16LE(c.pos)))); c.pos += 2; break;
        case 0x0c: stack.push(BigInt(expr.readUInt32LE(c.pos))); c.pos += 4; break;
        case 0x0d: stack.push(wrap(BigInt(expr.readInt32LE(c.pos)))); c.pos += 4; break;
        case 0x0e: stack.push(expr.readBigUInt64LE(c.pos)); c.pos += 8; break;
        case 0x0f: stack.push(wrap(expr.readBigInt64LE(c.pos))); c.pos += 8; break;
        case 0x10: stack.push(wrap(c.uleb())); break; // constu
        case 0x11: stack.push(wrap(c.sleb())); break; // consts
        case 0x12: { const v = pop(); stack.push(v, v); break; } // dup
        case 0x13: pop(); break; // drop
        case 0x14: stack.push(stack[stack.length - 2]); break; // over
        case 0x15: stack.push(stack[stack.length - 1 - expr[c.pos++]]); break; // pick
        case 0x16: { const a = pop(); const b = pop(); stack.push(a, b); break; } // swap
        case 0x17: { const a = pop(); const b = pop(); const d = pop(); stack.push(a, d, b); break; } // rot
        case 0x19: { const v = signed64(pop()); stack.push(wrap(v < 0n ? -v : v)); break; } // abs
        case 0x1f: stack.push(wrap(-pop())); break; // neg
        case 0x20: stack.push(wrap(~pop())); break; // not
        case 0x23: stack.push(wrap(pop() + c.uleb())); break; // plus_uconst
        case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e: case 0x21: case 0x22:
        case 0x24: case 0x25: case 0x26: case 0x27: case 0x29: case 0x2a: case 0x2b: case 0x2c: case 0x2d: case 0x2e: {
          const b = pop();
          const a = pop();
          if (typed) poisoned = true;
          stack.push(binary(op, a, b));
          break;
        }
        case 0xa4: { // const_type: type, size, bytes
          c.uleb();
          const n = expr[c.pos++];
          let v = 0n;
          for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(expr[c.pos + i]);
          c.pos += n;
          stack.push(v & M64);
          typed = true;
          break;
        }
        case 0xa5: // regval_type: register, type
        case 0xf5: {
          const reg = Number(c.uleb());
          c.uleb();
          const v = registerBits(reg, src);
          if (v === null) return { kind: 'unavailable' };
          stack.push(v);
          typed = true;
          break;
        }
        case 0xa6: // deref_type: size, type
        case 0xf6: {
          const size = expr[c.pos++];
          c.uleb();
          const b = src.read(Number(pop()), size);
          if (!b) return { kind: 'unavailable' };
          let v = 0n;
          for (let i = Math.min(size, 8) - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
          stack.push(v);
          typed = true;
          break;
        }
        case 0xa8: // convert: changes the value's representation
        case 0xf7:
          c.uleb();
          typed = true;
          poisoned = true;
          break;
        case 0xa9: // reinterpret: same bits
        case 0xf9:
          c.uleb();
          typed = true;
          break;
        case 0x2f: { const d = expr.readInt16LE(c.pos); c.pos += 2 + d; break; } // skip
        case 0x28: { const d = expr.readInt16LE(c.pos); c.pos += 2; if (pop() !== 0n) c.pos += d; break; } // bra
        case 0x90: current = { kind: 'reg', reg: Number(c.uleb()) }; break; // regx
        case 0x91: { // fbreg
          const off = c.sleb();
          const base = frameBaseValue(src, frame, depth);
          if (base === null) return { kind: 'unavailable' };
          stack.push(wrap(base + off));
          break;
        }
        case 0x92: { // bregx
          const reg = Number(c.uleb());
          const off = c.sleb();
          const r = src.gpr(reg);
          if (r === null) return { kind: 'unavailable' };
          stack.push(wrap(r + off));
          break;
        }
        case 0x93: { // piece
          const size = Number(c.uleb());
          const loc: Location | null = poisoned ? { kind: 'unavailable' } : current ?? (stack.length ? { kind: 'mem', address: Number(pop()) } : null);
          pieces.push({ loc, size });
          current = null;
          stack.length = 0;
          typed = poisoned = false;
          break;
        }
        case 0x94: { // deref_size
          const size = expr[c.pos++];
          const b = src.read(Number(pop()), size);
          if (!b) return { kind: 'unavailable' };
          let v = 0n;
          for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
          stack.push(v);
          break;
        }
        case 0x96: break; // nop
        case 0x9c: // call_frame_cfa
          if (frame.cfa === null) return { kind: 'unavailable' };
          stack.push(BigInt(frame.cfa));
          break;
        case 0x9e: { // implicit_value
          const n = Number(c.uleb());
          current = { kind: 'bytes', data: expr.subarray(c.pos, c.pos + n) };
          c.pos += n;
          break;
        }
        case 0x9f: // stack_value
          current = { kind: 'value', value: pop() };
          break;
        case 0xa0: // implicit_pointer
        case 0xf2: // GNU_implicit_pointer
          return { kind: 'synthetic' };
        case 0xa3: // entry_value
        case 0xf3: { // GNU_entry_value
          const n = Number(c.uleb());
          const inner = expr.subarray(c.pos, c.pos + n);
          c.pos += n;
          if (!frame.atEntry) return { kind: 'unavailable' };
          // at the first instruction, a register's entry value is its current value
          const first = inner[0];
          if ((first >= 0x50 && first <= 0x6f) || first === 0x90 || first === 0xa5 || first === 0xf5) {
            const ic = new Cursor(inner, 1);
            const reg = first === 0x90 || first === 0xa5 || first === 0xf5 ? Number(ic.uleb()) : first - 0x50;
            const v = registerBits(reg, src);
            if (v === null) return { kind: 'unavailable' };
            stack.push(v);
            if (first === 0xa5 || first === 0xf5) typed = true;
            break;
          }
          const loc = evaluateLocation(inner, src, frame, depth + 1);
          if (loc.kind === 'mem') stack.push(BigInt(loc.address));
          else if (loc.kind === 'value') stack.push(loc.value);
          else return { kind: 'unavailable' };
          break;
        }
        case 0xfa: // GNU_parameter_ref: the value comes from the caller's call site
          return { kind: 'unavailable' };
        default:
          return { kind: 'unavailable' };
      }
    }
  } catch {
    return { kind: 'unavailable' };
  }
  if (pieces.length) return { kind: 'pieces', pieces };
  if (poisoned) return { kind: 'unavailable' };
  if (current) return current;
  if (stack.length) return { kind: 'mem', address: Number(stack[stack.length - 1]) };
  return { kind: 'optimized' };
}

function binary(op: number, a: bigint, b: bigint): bigint {
  switch (op) {
    case 0x1a: return a & b;
    case 0x1b: return b === 0n ? 0n : wrap(signed64(a) / signed64(b));
    case 0x1c: return wrap(a - b);
    case 0x1d: return b === 0n ? 0n : a % b;
    case 0x1e: return wrap(a * b);
    case 0x21: return a | b;
    case 0x22: return wrap(a + b);
    case 0x24: return b >= 64n ? 0n : wrap(a << b);
    case 0x25: return b >= 64n ? 0n : a >> b;
    case 0x26: return b >= 64n ? (signed64(a) < 0n ? M64 : 0n) : wrap(signed64(a) >> b);
    case 0x27: return a ^ b;
    case 0x29: return a === b ? 1n : 0n;
    case 0x2a: return signed64(a) >= signed64(b) ? 1n : 0n;
    case 0x2b: return signed64(a) > signed64(b) ? 1n : 0n;
    case 0x2c: return signed64(a) <= signed64(b) ? 1n : 0n;
    case 0x2d: return signed64(a) < signed64(b) ? 1n : 0n;
    default: return signed64(a) !== signed64(b) ? 1n : 0n;
  }
}

/** A register's raw bits: a general-purpose register, or the low 8 bytes of a vector register. */
function registerBits(reg: number, src: ValueSource): bigint | null {
  if (reg <= 16) return src.gpr(reg);
  const b = src.vector(reg);
  return b ? b.readBigUInt64LE(0) : null;
}

function frameBaseValue(src: ValueSource, frame: FrameContext, depth: number): bigint | null {
  if (!frame.frameBase || depth > 2) return null;
  const loc = evaluateLocation(frame.frameBase, src, { ...frame, frameBase: null }, depth + 1);
  if (loc.kind === 'mem') return BigInt(loc.address);
  if (loc.kind === 'reg') return src.gpr(loc.reg);
  if (loc.kind === 'value') return loc.value;
  return null;
}

/** The bytes of a `size`-byte object at a location; a string when they cannot be had. */
export function fetchBytes(loc: Location, size: number, src: ValueSource): Buffer | string {
  switch (loc.kind) {
    case 'optimized':
      return OPTIMIZED_OUT;
    case 'unavailable':
      return UNAVAILABLE;
    case 'synthetic':
      return '<synthetic pointer>';
    case 'mem': {
      const b = src.read(loc.address, size);
      return b ?? memoryError(loc.address);
    }
    case 'value': {
      const out = Buffer.alloc(Math.max(size, 8));
      out.writeBigUInt64LE(wrap(loc.value), 0);
      return out.subarray(0, size);
    }
    case 'bytes':
      return loc.data.length >= size ? loc.data.subarray(0, size) : Buffer.concat([loc.data, Buffer.alloc(size - loc.data.length)]);
    case 'reg': {
      const b = registerBytes(loc.reg, src);
      if (!b) return UNAVAILABLE;
      return b.length >= size ? b.subarray(0, size) : Buffer.concat([b, Buffer.alloc(size - b.length)]);
    }
    case 'pieces': {
      // like gdb's value.is_optimized_out: a value with any piece missing counts as optimized out
      if (loc.pieces.some((p) => !p.loc)) return OPTIMIZED_OUT;
      const parts: Buffer[] = [];
      for (const p of loc.pieces) {
        const b = fetchBytes(p.loc!, p.size, src);
        if (typeof b === 'string') return b;
        parts.push(b);
      }
      const all = Buffer.concat(parts);
      return all.length >= size ? all.subarray(0, size) : Buffer.concat([all, Buffer.alloc(size - all.length)]);
    }
  }
}

function registerBytes(reg: number, src: ValueSource): Buffer | null {
  if (reg <= 16) {
    const v = src.gpr(reg);
    if (v === null) return null;
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return b;
  }
  return src.vector(reg);
}

/** The bytes of a value at an ABI location (parameters at entry, return values after `ret`), given the entry/current rsp. */
export function fetchAbi(loc: AbiLocation, size: number, src: ValueSource, rsp: number): Buffer | string {
  switch (loc.kind) {
    case 'none':
      return OPTIMIZED_OUT;
    case 'stack':
      return src.read(rsp + loc.offset, size) ?? memoryError(rsp + loc.offset);
    case 'indirect': {
      const p = src.gpr(loc.reg);
      if (p === null) return UNAVAILABLE;
      return src.read(Number(p), size) ?? memoryError(Number(p));
    }
    case 'x87': {
      const b = src.vector(ST0);
      return b ? b.subarray(0, 10) : UNAVAILABLE;
    }
    case 'registers': {
      const parts: Buffer[] = [];
      for (const r of loc.regs) {
        const b = registerBytes(r, src);
        if (!b) return UNAVAILABLE;
        parts.push(b.subarray(0, 8));
      }
      const all = Buffer.concat(parts);
      return all.length >= size ? all.subarray(0, size) : Buffer.concat([all, Buffer.alloc(size - all.length)]);
    }
  }
}

export function memoryError(address: number): string {
  return `<error: Cannot access memory at address 0x${address.toString(16)}>`;
}
