/**
 * Starts the program stopped, ready to be seized: posix_spawn of
 * `/bin/sh -c 'kill -STOP $$; exec "$0" "$@"' PROGRAM ARGS...`. The shell stops
 * itself before exec, so the tracer attaches before the program's first instruction.
 */
import * as fs from 'node:fs';
import { BinaryNotFoundError, UstackError } from '../errors';
import { Libc, OFF_STRINGS } from './libc';
import { O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY, POSIX_SPAWN_SETPGROUP, POSIX_SPAWN_SETSIGDEF, POSIX_SPAWN_SETSIGMASK } from './constants';

export interface SpawnRequest {
  /** Absolute path of the program (already resolved) followed by its arguments; argv[0] is passed as given. */
  file: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** A file to open as stdin, or 'inherit'. */
  stdin: string | 'inherit';
  stdout: string | 'inherit';
  stderr: string | 'inherit';
  /** Put the program in a process group of its own (so the whole tree can be signalled). */
  newProcessGroup: boolean;
}

const STOP_THEN_EXEC = 'kill -STOP $$; exec -a "$0" "$1" "${@:2}"';
const STOP_THEN_EXEC_POSIX = 'kill -STOP $$; exec "$0" "$@"';

/** Writes NUL-terminated strings and a NULL-terminated pointer array into a malloc'ed block. */
class NativeStrings {
  readonly block: number;
  private readonly buf: Buffer;
  private used = 0;

  constructor(private readonly libc: Libc, private readonly size: number) {
    this.block = size <= 65536 - OFF_STRINGS ? libc.arenaAddress + OFF_STRINGS : libc.malloc(size);
    this.buf = this.block === libc.arenaAddress + OFF_STRINGS ? libc.arena.subarray(OFF_STRINGS) : Buffer.alloc(0);
    if (this.buf.length === 0) {
      // large environments: copy through a temporary buffer with memcpy-free trick: write via /proc/self/mem
      this.external = fs.openSync('/proc/self/mem', 'r+');
    }
  }

  private external = -1;

  private write(bytes: Buffer): number {
    const at = this.used;
    if (at + bytes.length > this.size) throw new Error('native string block overflow');
    if (this.external >= 0) fs.writeSync(this.external, bytes, 0, bytes.length, this.block + at);
    else bytes.copy(this.buf, at);
    this.used += bytes.length;
    return this.block + at;
  }

  cstring(s: string): number {
    return this.write(Buffer.from(s + '\0', 'utf8'));
  }

  pointerArray(pointers: number[]): number {
    this.used = (this.used + 7) & ~7;
    const b = Buffer.alloc((pointers.length + 1) * 8);
    pointers.forEach((p, i) => b.writeBigUInt64LE(BigInt(p), i * 8));
    return this.write(b);
  }

  dispose(): void {
    if (this.external >= 0) {
      fs.closeSync(this.external);
      this.libc.free(this.block);
    }
  }
}

function stringsSize(strings: string[]): number {
  let n = 0;
  for (const s of strings) n += Buffer.byteLength(s) + 1 + 8;
  return n + 4096;
}

function spawnError(shell: string, errno: number): UstackError {
  if (errno === 7) {
    return new UstackError(
      'USTACK_SPAWN',
      'Cannot start the program: its arguments and environment are too large (E2BIG: one string may hold at most 128 KiB, all of them together at most the system ARG_MAX). Pass big data through a file or stdin instead.',
    );
  }
  if (errno === 2 || errno === 13) return new BinaryNotFoundError(shell, `posix_spawn failed with errno ${errno}`);
  return new UstackError('USTACK_SPAWN', `Cannot start the program: posix_spawn failed with errno ${errno}.`);
}

/** Spawns the stopped shell; returns its pid. */
export function spawnStopped(libc: Libc, req: SpawnRequest): number {
  const bash = fs.existsSync('/bin/bash');
  const shArgv = bash
    ? ['/bin/bash', '-c', STOP_THEN_EXEC, req.argv[0] ?? req.file, req.file, ...req.argv.slice(1)]
    : ['/bin/sh', '-c', STOP_THEN_EXEC_POSIX, req.file, ...req.argv.slice(1)];
  const envList = Object.entries(req.env).map(([k, v]) => `${k}=${v}`);
  const paths = [req.cwd, req.stdin, req.stdout, req.stderr];
  const strings = new NativeStrings(libc, stringsSize([...shArgv, ...envList, ...paths]));
  try {
    const argvPtr = strings.pointerArray(shArgv.map((s) => strings.cstring(s)));
    const envPtr = strings.pointerArray(envList.map((s) => strings.cstring(s)));
    const fa = libc.fileActionsInit();
    const attr = libc.spawnAttrInit();
    try {
      const redirect = (fd: number, target: string | 'inherit', flags: number) => {
        // Node marks 0-2 close-on-exec: dup2(fd, fd) clears the flag in the child.
        if (target === 'inherit') libc.fileActionsDup2(fa, fd, fd);
        else libc.fileActionsOpen(fa, fd, strings.cstring(target), flags, 0o600);
      };
      redirect(0, req.stdin, O_RDONLY);
      redirect(1, req.stdout, O_WRONLY | O_CREAT | O_TRUNC);
      redirect(2, req.stderr, O_WRONLY | O_CREAT | O_TRUNC);
      libc.fileActionsChdir(fa, strings.cstring(req.cwd));
      libc.spawnAttrResetSignals(attr);
      let flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
      if (req.newProcessGroup) {
        flags |= POSIX_SPAWN_SETPGROUP;
        libc.spawnAttrSetPgroup(attr, 0);
      }
      libc.spawnAttrSetFlags(attr, flags);
      const err = libc.spawn(strings.cstring(shArgv[0]), fa, attr, argvPtr, envPtr);
      if (err !== 0) throw spawnError(shArgv[0], err);
      return libc.spawnedPid;
    } finally {
      libc.fileActionsDestroy(fa);
      libc.spawnAttrDestroy(attr);
    }
  } finally {
    strings.dispose();
  }
}
