const wordViews = new WeakMap<ArrayBufferLike, Uint32Array>();

/**
 * A Uint32Array over all of `bytes`' memory (one per ArrayBuffer, kept): with it, a little-endian
 * word at a 4-aligned byte index `i` of that memory is `words[i >>> 2]`, without Buffer's per-byte
 * assembly. `bytes.byteOffset` tells where `bytes` starts in it.
 */
export function hostWords(bytes: Buffer): Uint32Array {
  let v = wordViews.get(bytes.buffer);
  if (!v) {
    v = new Uint32Array(bytes.buffer, 0, bytes.buffer.byteLength >>> 2);
    wordViews.set(bytes.buffer, v);
  }
  return v;
}

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
  private words: Uint32Array | null = null;
  private base = 0;
  private data: Buffer;
  private address = 0;
  private length = 0;

  constructor(data: Buffer, address: number, private readonly fallback: MemoryReader | null = null) {
    this.data = data;
    this.reset(data, address);
  }

  /** Points the reader at a new snapshot (reuses the reader between hits). */
  reset(data: Buffer, address: number): void {
    this.data = data;
    this.address = address;
    this.length = data.length;
    this.words = data.byteOffset % 4 === 0 ? hostWords(data) : null;
    this.base = data.byteOffset >>> 2;
  }

  readU64(address: number): number {
    const off = address - this.address;
    if (off >= 0 && off + 8 <= this.length) {
      if ((off & 3) === 0 && this.words) {
        const i = this.base + (off >>> 2);
        return this.words[i + 1] * 0x100000000 + this.words[i];
      }
      return this.data.readUInt32LE(off + 4) * 0x100000000 + this.data.readUInt32LE(off);
    }
    return this.fallback ? this.fallback.readU64(address) : NaN;
  }
}
