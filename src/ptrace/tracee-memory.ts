/**
 * Reads and writes a traced process's memory through /proc/PID/mem with plain fs calls
 * (about 1.9 µs per 16 KiB with fs.readSync, faster than process_vm_readv over ffi-rs). At each hit the top of the
 * stack is read in one go and word reads are served from that window.
 */
import * as fs from 'node:fs';
import { hostWords, type MemoryReader } from '../dwarf/memory';

const WINDOW = 16 * 1024;


export class TraceeMemory implements MemoryReader {
  private fd: number;
  private readonly ownWindow = Buffer.allocUnsafe(WINDOW);
  private window: Buffer = this.ownWindow;
  private windowStart = 0;
  private windowLength = 0;
  private readonly word = Buffer.allocUnsafe(16);
  private windowOffset = 0;
  /** The window as 32-bit words when it starts 4-aligned in memory (word index of its first byte), else null. */
  private windowWords: Uint32Array | null = null;
  private windowWordBase = 0;
  /** Word reads since the window was set that it could not serve (read live instead). */
  readsOutsideWindow = 0;
  private highWater = 0;

  constructor(readonly pid: number) {
    this.fd = fs.openSync(`/proc/${pid}/mem`, 'r+');
  }

  /** Re-opens after exec: the old file refers to the replaced address space. */
  reopen(): void {
    this.close();
    this.fd = fs.openSync(`/proc/${this.pid}/mem`, 'r+');
    this.invalidate();
  }

  close(): void {
    if (this.fd >= 0) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* already gone */
      }
      this.fd = -1;
    }
  }

  /** Loads the stack window starting at `sp` (call once per stop before unwinding). */
  loadWindow(sp: number): void {
    this.useWindowAt(this.ownWindow, 0, sp, 0);
    this.windowLength = this.pread(this.window, WINDOW, sp);
  }

  /** Uses stack bytes someone else already read (the native stop loop) as the window. */
  useWindow(bytes: Buffer, sp: number, length: number): void {
    this.useWindowAt(bytes, 0, sp, length);
  }

  /** The same, with the bytes at `offset` of `bytes` (a saved hit in the native loop's ring). */
  useWindowAt(bytes: Buffer, offset: number, sp: number, length: number): void {
    this.window = bytes;
    this.windowOffset = offset;
    this.windowStart = sp;
    this.windowLength = length;
    const first = bytes.byteOffset + offset;
    this.windowWords = (first & 3) === 0 ? hostWords(bytes) : null;
    this.windowWordBase = first >>> 2;
    this.readsOutsideWindow = 0;
    this.highWater = 0;
  }

  /** End address of the highest word read from the window since it was set. */
  get windowHighWater(): number {
    return this.windowStart + this.highWater;
  }

  invalidate(): void {
    this.windowLength = 0;
  }

  readU64(address: number): number {
    const rel = address - this.windowStart;
    if (rel >= 0 && rel + 8 <= this.windowLength) {
      if (rel + 8 > this.highWater) this.highWater = rel + 8;
      const words = this.windowWords;
      if (words !== null && (rel & 3) === 0) {
        const w = this.windowWordBase + (rel >>> 2);
        return words[w + 1] * 0x100000000 + words[w]; // little-endian, as the host
      }
      const at = rel + this.windowOffset;
      return this.window.readUInt32LE(at + 4) * 0x100000000 + this.window.readUInt32LE(at);
    }
    this.readsOutsideWindow++;
    if (this.pread(this.word, 8, address) !== 8) return NaN;
    return this.word.readUInt32LE(4) * 0x100000000 + this.word.readUInt32LE(0);
  }

  readBytes(address: number, length: number): Buffer | null {
    const buf = Buffer.allocUnsafe(length);
    return this.pread(buf, length, address) === length ? buf : null;
  }

  readInt32(address: number): number | null {
    return this.pread(this.word, 4, address) === 4 ? this.word.readInt32LE(0) : null;
  }

  writeBytes(address: number, bytes: Buffer): boolean {
    try {
      const n = fs.writeSync(this.fd, bytes, 0, bytes.length, address);
      if (address < this.windowStart + this.windowLength && address + bytes.length > this.windowStart) this.invalidate();
      return n === bytes.length;
    } catch {
      return false;
    }
  }

  writeU64(address: number, value: bigint): boolean {
    this.word.writeBigUInt64LE(value & 0xffffffffffffffffn, 8);
    return this.writeBytes(address, this.word.subarray(8, 16));
  }

  private pread(buf: Buffer, length: number, address: number): number {
    if (!(address >= 0) || address > 0x7fffffffffff) return 0;
    try {
      return fs.readSync(this.fd, buf, 0, length, address);
    } catch {
      // the window may cross the end of the mapping: fall back to page-sized reads
      if (length <= 4096) return 0;
      let done = 0;
      while (done < length) {
        const chunk = Math.min(4096 - ((address + done) % 4096), length - done);
        try {
          const n = fs.readSync(this.fd, buf, done, chunk, address + done);
          if (n <= 0) break;
          done += n;
        } catch {
          break;
        }
      }
      return done;
    }
  }
}
