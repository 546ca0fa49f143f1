/**
 * Follows a file another process appends to (stap's `-o` output, the program's redirected
 * stderr) and hands each new chunk to a callback, so records are parsed while the run goes on.
 */
import * as fs from 'node:fs';

export class FileTail {
  private fd: number | null = null;
  private position = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly buf = Buffer.allocUnsafe(1 << 16);

  constructor(
    private readonly file: string,
    private readonly onChunk: (chunk: Buffer) => void,
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.drain(), this.intervalMs);
  }

  /** Reads everything written so far. */
  drain(): void {
    if (this.fd === null) {
      try {
        this.fd = fs.openSync(this.file, 'r');
      } catch {
        return; // not created yet
      }
    }
    for (;;) {
      const n = fs.readSync(this.fd, this.buf, 0, this.buf.length, this.position);
      if (n <= 0) return;
      this.position += n;
      this.onChunk(Buffer.from(this.buf.subarray(0, n)));
    }
  }

  /** Final drain, then stops and closes. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.drain();
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
