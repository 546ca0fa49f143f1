/**
 * The folder jest-ustack keeps what it computed once per machine: V8's compiled CLI, the native
 * helper when built on the fly, indexes of libraries' inlined functions. Only a folder this user
 * owns and nobody else can write is used (what is read back from it steers the tracer or runs as
 * us): $XDG_CACHE_HOME/jest-ustack or ~/.cache/jest-ustack, else $TMPDIR/jest-ustack-UID.
 * Kept free of other imports: the CLI's start-up shim loads it before anything else.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The cache folder (created when `create`), or null when there is none this user can trust. */
export function userCacheDir(create: boolean): string | null {
  const uid = process.getuid?.() ?? -1;
  const base = process.env.XDG_CACHE_HOME || (os.homedir() ? path.join(os.homedir(), '.cache') : '');
  const dir = base && path.isAbsolute(base) ? path.join(base, 'jest-ustack') : path.join(os.tmpdir(), `jest-ustack-${uid}`);
  return trustedDir(dir, create);
}

/** `dir` when it is a folder owned by this user and writable by no one else (created when `create`). */
export function trustedDir(dir: string, create: boolean): string | null {
  const uid = process.getuid?.() ?? -1;
  try {
    if (create) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o022) !== 0) return null;
    return dir;
  } catch {
    return null;
  }
}

/** Deletes all but the `keep` most recently written files of `dir` whose names `matches` accepts. */
export function keepNewest(dir: string, matches: (name: string) => boolean, keep: number): void {
  const files = fs.readdirSync(dir).filter(matches);
  if (files.length <= keep) return;
  const dated = files
    .map((f) => {
      try {
        return { f, t: fs.statSync(path.join(dir, f)).mtimeMs };
      } catch {
        return { f, t: -Infinity }; // gone already
      }
    })
    .sort((a, b) => b.t - a.t);
  for (const { f } of dated.slice(keep)) fs.rmSync(path.join(dir, f), { force: true });
}

/** Writes `data` to `file` through a temporary file and a rename, so a reader sees all of it or nothing. */
export function writeAtomically(file: string, data: string | Uint8Array): void {
  // unique per writer: Jest workers can be threads of one process
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* never written */
    }
    throw e;
  }
}
