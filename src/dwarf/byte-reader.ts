/**
 * A little-endian cursor over a Buffer with the primitive encodings DWARF uses
 * (fixed-size integers, LEB128, NUL-terminated strings). Values are JS numbers:
 * 64-bit fields above 2^53 lose low bits, which never matters for user-space addresses.
 */
export class ByteReader {
  offset: number;

  constructor(readonly buf: Buffer, offset = 0) {
    this.offset = offset;
  }

  get done(): boolean {
    return this.offset >= this.buf.length;
  }

  u8(): number {
    return this.buf[this.offset++];
  }

  i8(): number {
    const v = this.buf.readInt8(this.offset);
    this.offset += 1;
    return v;
  }

  u16(): number {
    const v = this.buf.readUInt16LE(this.offset);
    this.offset += 2;
    return v;
  }

  i16(): number {
    const v = this.buf.readInt16LE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    const v = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  i32(): number {
    const v = this.buf.readInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  u64(): number {
    const lo = this.buf.readUInt32LE(this.offset);
    const hi = this.buf.readUInt32LE(this.offset + 4);
    this.offset += 8;
    return hi * 0x100000000 + lo;
  }

  i64(): number {
    const lo = this.buf.readUInt32LE(this.offset);
    const hi = this.buf.readInt32LE(this.offset + 4);
    this.offset += 8;
    return hi * 0x100000000 + lo;
  }

  /** Unsigned integer of `size` bytes (1, 2, 4 or 8). */
  uint(size: number): number {
    switch (size) {
      case 1: return this.u8();
      case 2: return this.u16();
      case 4: return this.u32();
      case 8: return this.u64();
      default: throw new RangeError(`unsupported integer size ${size}`);
    }
  }

  uleb128(): number {
    let result = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = this.buf[this.offset++];
      result += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    return result;
  }

  sleb128(): number {
    let result = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = this.buf[this.offset++];
      result += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    if (byte & 0x40) result -= scale;
    return result;
  }

  /** NUL-terminated string (UTF-8). */
  cstring(): string {
    const end = this.buf.indexOf(0, this.offset);
    const stop = end < 0 ? this.buf.length : end;
    const s = this.buf.toString('utf8', this.offset, stop);
    this.offset = stop + 1;
    return s;
  }

  skip(n: number): void {
    this.offset += n;
  }
}

/** Reads a NUL-terminated string at `offset` of a string section. */
export function stringAt(buf: Buffer, offset: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString('utf8', offset, end < 0 ? buf.length : end);
}

/** Helpers the DWARF debug-info and line-table readers need (appended; see above for the primitives). */
export interface ByteReader {
  /** Unsigned 24-bit integer (DW_FORM_strx3 / addrx3). */
  u24(): number;
  /** A section offset: 4 bytes in 32-bit DWARF, 8 in 64-bit DWARF. */
  offsetOf(size: number): number;
  /**
   * An initial length field: returns the unit length and sets `lastOffsetSize` to 4 or 8
   * (0xffffffff announces 64-bit DWARF).
   */
  initialLength(): number;
  lastOffsetSize: number;
}

ByteReader.prototype.u24 = function u24(this: ByteReader): number {
  const v = this.buf[this.offset] | (this.buf[this.offset + 1] << 8) | (this.buf[this.offset + 2] << 16);
  this.offset += 3;
  return v;
};

ByteReader.prototype.offsetOf = function offsetOf(this: ByteReader, size: number): number {
  return size === 8 ? this.u64() : this.u32();
};

ByteReader.prototype.initialLength = function initialLength(this: ByteReader): number {
  const len = this.u32();
  if (len === 0xffffffff) {
    this.lastOffsetSize = 8;
    return this.u64();
  }
  this.lastOffsetSize = 4;
  return len;
};
ByteReader.prototype.lastOffsetSize = 4;
