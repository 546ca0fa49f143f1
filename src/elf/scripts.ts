/**
 * Programs that run other programs' code: scripts (`#!` files, which are not ELF) and the shells
 * and interpreters that run them. A hook on a function of the program a script starts has to
 * name that program's module (`compare@sorter`): it is not in the shell.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The `#!` line of a file's first bytes, without `#!` (`/bin/sh`, `/usr/bin/env python3`), or null. */
export function shebangOf(head: Buffer): string | null {
  if (head.length < 2 || head[0] !== 0x23 || head[1] !== 0x21) return null;
  const end = head.indexOf(0x0a);
  return head.subarray(2, end < 0 ? head.length : end).toString('utf8').trim() || null;
}

function readHead(file: string): Buffer | null {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(256);
    return buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0));
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** The shells /etc/shells lists, by real path. */
function shells(): Set<string> {
  try {
    return new Set(fs.readFileSync('/etc/shells', 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.startsWith('/')).map(realpathOr));
  } catch {
    return new Set();
  }
}

/**
 * Why `program` (its path) runs code of other programs, or null: "a shell" (/etc/shells lists it)
 * or "an interpreter", with the script among `args` it runs (`running ./wrap.sh`).
 */
export function runnerOfOtherPrograms(program: string, args: readonly string[], cwd: string): string | null {
  const script = args.find((a) => !a.startsWith('-') && shebangOf(readHead(path.resolve(cwd, a)) ?? Buffer.alloc(0)) !== null);
  const shell = shells().has(realpathOr(program));
  if (!shell && script === undefined) return null;
  return `${shell ? 'a shell' : 'an interpreter'}${script !== undefined ? ` running ${script}` : ''}`;
}

/** What to do instead of tracing a script, for the not-ELF error. */
export function scriptAdvice(file: string, shebang: string): string {
  return (
    `Trace its interpreter with the script as argument (\`${shebang} ${file}\`), and name the native program the script starts in each hook: ` +
    'FUNCTION@PROGRAM, PROGRAM being its file name (`parse@app` for a function parse of ./build/app); that hook is planted when the program is exec\'ed'
  );
}
