/** Where the unwinder reads the target's memory (stack slots, signal contexts). */
export interface MemoryReader {
  /** The little-endian 64-bit word at `address`, or NaN when it cannot be read. */
  readU64(address: number): number;
}

/**
 * A MemoryReader over one captured block of memory (e.g. a copy of the stack taken at a hit):
 * reads outside [address, address + data.length) return NaN.
 */
export class BufferMemory implements MemoryReader {
  constructor(public data: Buffer, public address: number) {}

  readU64(address: number): number {
    const off = address - this.address;
    if (!(off >= 0 && off + 8 <= this.data.length)) return NaN;
    return this.data.readUInt32LE(off + 4) * 0x100000000 + this.data.readUInt32LE(off);
  }
}
