/** Where the unwinder reads the target's memory (stack slots, signal contexts). */
export interface MemoryReader {
  /** The little-endian 64-bit word at `address`, or NaN when it cannot be read. */
  readU64(address: number): number;
}

/**
 * A MemoryReader over one captured block of memory (e.g. a copy of the stack taken at a hit),
 * read through a 32-bit view so aligned stack slots cost two array loads. Reads outside
 * [address, address + data.length) go to `fallback` (e.g. /proc/PID/mem), else give NaN.
 */
export class BufferMemory implements MemoryReader {
  private words: Uint32Array;
  private data: Buffer;
  private address = 0;
  private length = 0;

  constructor(data: Buffer, address: number, private readonly fallback: MemoryReader | null = null) {
    this.data = data;
    this.words = new Uint32Array(0);
    this.reset(data, address);
  }

  /** Points the reader at a new snapshot (reuses the reader between hits). */
  reset(data: Buffer, address: number): void {
    this.data = data;
    this.address = address;
    this.length = data.length;
    this.words =
      data.byteOffset % 4 === 0
        ? new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2)
        : new Uint32Array(0);
  }

  readU64(address: number): number {
    const off = address - this.address;
    if (off >= 0 && off + 8 <= this.length) {
      if ((off & 3) === 0 && this.words.length) {
        const i = off >>> 2;
        return this.words[i + 1] * 0x100000000 + this.words[i];
      }
      return this.data.readUInt32LE(off + 4) * 0x100000000 + this.data.readUInt32LE(off);
    }
    return this.fallback ? this.fallback.readU64(address) : NaN;
  }
}
