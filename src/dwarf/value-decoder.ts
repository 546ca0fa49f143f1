/**
 * Values decoded by DWARF type from the bytes of a variable (location.ts finds them) into the
 * capture's ArgValue: integers (decimal strings beyond 2^53), bool, floating point (x87 extended
 * too), pointers as hex, `char *` and Rust `&str` as bounded text, structs, unions and arrays
 * (depth and length bounded), bit fields, C++ references as what they refer to, and libstdc++'s
 * strings, vectors, smart pointers and optionals as gdb's pretty printers show them (std-printers.ts).
 */
import type { ArgValue, CStringValue } from '../capture/types';
import { DW_ATE, sizeOf, type DwarfType } from './dwarf-types';
import { UNAVAILABLE, memoryError, type ValueSource } from './location';
import { printStd } from './std-printers';

export const MAX_STRING = 200; // gdb's default `print elements`
const MAX_ELEMENTS = 64;
const MAX_DEPTH = 4;

function hex(v: bigint | number): string {
  return '0x' + v.toString(16);
}

function integer(b: Buffer, signed: boolean): number | string {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (signed && b.length > 0) v = BigInt.asIntN(b.length * 8, v);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
}

function float(x: number): number | string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return x;
}

/** x87 80-bit extended precision to the nearest double. */
function extended(b: Buffer): number {
  const mantissa = b.readBigUInt64LE(0);
  const se = b.readUInt16LE(8);
  const sign = se & 0x8000 ? -1 : 1;
  const exp = se & 0x7fff;
  if (exp === 0 && mantissa === 0n) return sign * 0;
  if (exp === 0x7fff) return (mantissa << 1n) === 0n ? sign * Infinity : NaN;
  return sign * Number(mantissa) * Math.pow(2, exp - 16383 - 63);
}

function isCharType(t: DwarfType): boolean {
  return t.kind === 'base' && t.size === 1 && (t.encoding === DW_ATE.signed_char || t.encoding === DW_ATE.unsigned_char);
}

function decodeText(b: Buffer): string {
  return b.toString('latin1');
}

/** Reads a NUL-terminated string of at most MAX_STRING characters. */
export function readCString(address: number, src: ValueSource): CStringValue | string {
  const ptr = hex(address);
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < MAX_STRING + 1) {
    const want = 64;
    let b = src.read(address + total, want);
    if (!b) {
      // the string may end right before an unmapped page: read byte by byte
      b = src.read(address + total, 1);
      if (!b) {
        if (total === 0) return `<error: Cannot access memory at address ${ptr}>`;
        break;
      }
    }
    const nul = b.indexOf(0);
    if (nul >= 0) {
      chunks.push(b.subarray(0, nul));
      total += nul;
      const s = Buffer.concat(chunks);
      return s.length > MAX_STRING ? { ptr, string: decodeText(s.subarray(0, MAX_STRING)), truncated: true } : { ptr, string: decodeText(s) };
    }
    chunks.push(b);
    total += b.length;
  }
  const s = Buffer.concat(chunks).subarray(0, MAX_STRING);
  return { ptr, string: decodeText(s), truncated: true };
}

/** Decodes a value of type `t` from its bytes. */
export function decodeValue(t: DwarfType, bytes: Buffer | string, src: ValueSource, depth = 0): ArgValue {
  if (typeof bytes === 'string') return bytes;
  switch (t.kind) {
    case 'void':
      return null;
    case 'base': {
      if (t.encoding === DW_ATE.boolean) return bytes.some((x) => x !== 0);
      if (t.encoding === DW_ATE.float) {
        if (t.size === 4) return float(bytes.readFloatLE(0));
        if (t.size === 8) return float(bytes.readDoubleLE(0));
        if (bytes.length >= 10) return float(extended(bytes));
        return '<unsupported float>';
      }
      if (t.encoding === DW_ATE.complex_float) {
        const half = t.size / 2;
        const part = (o: number) => float(half === 4 ? bytes.readFloatLE(o) : bytes.readDoubleLE(o));
        return half === 4 || half === 8 ? { real: part(0), imag: part(half) } : '<unsupported float>';
      }
      const signed = t.encoding === DW_ATE.signed || t.encoding === DW_ATE.signed_char;
      return integer(bytes.subarray(0, t.size), signed);
    }
    case 'enum':
      return integer(bytes.subarray(0, t.size), t.signed);
    case 'function':
      return hex(bytes.readBigUInt64LE(0));
    case 'pointer': {
      const p = bytes.readBigUInt64LE(0);
      if (p !== 0n && isCharType(t.target())) return readCString(Number(p), src);
      return hex(p);
    }
    case 'reference': {
      const p = Number(bytes.readBigUInt64LE(0));
      const target = t.target();
      if (depth >= MAX_DEPTH) return hex(p);
      const size = sizeOf(target);
      if (!(size > 0)) return hex(p);
      return decodeValue(target, src.read(p, size) ?? memoryError(p), src, depth + 1);
    }
    case 'struct': {
      if (depth >= MAX_DEPTH) return '{...}';
      const printed = printStd(t, bytes, src, (et, eb, d) => decodeValue(et, eb, src, d), depth);
      if (printed !== undefined) return printed;
      const members = t.members();
      if (t.name === '&str' || t.name === '&mut str') {
        const dataPtr = members.find((m) => m.name === 'data_ptr');
        const len = members.find((m) => m.name === 'length');
        if (dataPtr && len) {
          const p = Number(bytes.readBigUInt64LE(dataPtr.offset));
          const n = Number(bytes.readBigUInt64LE(len.offset));
          const shown = Math.min(n, MAX_STRING);
          const text = shown === 0 ? Buffer.alloc(0) : src.read(p, shown);
          if (!text) return memoryError(p);
          const v: CStringValue = { ptr: hex(p), string: text.toString('utf8') };
          if (n > shown) v.truncated = true;
          return v;
        }
      }
      const out: Record<string, ArgValue> = {};
      for (const m of members) {
        const size = sizeOf(m.type);
        if (m.bitSize !== null) {
          out[m.name] = bitField(bytes, m.offset, m.bitOffset, m.bitSize, m.type);
          continue;
        }
        if (!(size >= 0) || m.offset + size > bytes.length) {
          out[m.name] = UNAVAILABLE;
          continue;
        }
        out[m.name] = decodeValue(m.type, bytes.subarray(m.offset, m.offset + size), src, depth + 1);
      }
      return out;
    }
    case 'array': {
      const e = t.element();
      const es = sizeOf(e);
      const n = t.count ?? 0;
      if (isCharType(e)) {
        const end = bytes.indexOf(0);
        const s = bytes.subarray(0, end < 0 ? Math.min(n, bytes.length) : end);
        return decodeText(s.subarray(0, MAX_STRING));
      }
      if (depth >= MAX_DEPTH) return '{...}';
      const out: ArgValue[] = [];
      for (let i = 0; i < Math.min(n, MAX_ELEMENTS) && es > 0; i++) out.push(decodeValue(e, bytes.subarray(i * es, (i + 1) * es), src, depth + 1));
      if (n > MAX_ELEMENTS) out.push('...');
      return out;
    }
    case 'unsupported':
      return `<unsupported type ${t.name}>`;
  }
}

function bitField(bytes: Buffer, offset: number, bitOffset: number, bitSize: number, t: DwarfType): ArgValue {
  let v = 0n;
  const first = offset;
  const last = Math.min(bytes.length, offset + Math.ceil((bitOffset + bitSize) / 8));
  for (let i = last - 1; i >= first; i--) v = (v << 8n) | BigInt(bytes[i]);
  v = (v >> BigInt(bitOffset)) & ((1n << BigInt(bitSize)) - 1n);
  const signed = (t.kind === 'base' && (t.encoding === DW_ATE.signed || t.encoding === DW_ATE.signed_char)) || (t.kind === 'enum' && t.signed);
  if (signed) v = BigInt.asIntN(bitSize, v);
  if (t.kind === 'base' && t.encoding === DW_ATE.boolean) return v !== 0n;
  return Number(v);
}

