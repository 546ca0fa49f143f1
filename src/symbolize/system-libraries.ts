/**
 * Which loaded modules are system libraries (README "Normalization"): files in the folders the
 * dynamic linker searches by itself — its built-in defaults, the folders of /etc/ld.so.conf (and
 * its `include`d files), of /etc/ld.so.cache and of musl's /etc/ld-musl-*.path — plus
 * `USTACK_SYSTEM_DIRS` (':'-separated). The
 * program's own code is everything else: the executable and the libraries it brings. Globs hook
 * only the program's own code, and call paths collapse a system library's frames.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** glibc's and musl's built-in search folders on x86-64 (also searched without any configuration). */
const DEFAULT_DIRS = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/usr/local/lib'];

let cached: { key: string; dirs: Set<string> } | null = null;

/** The system library folders, real paths; read once per value of USTACK_SYSTEM_DIRS. */
export function systemLibraryDirs(): string[] {
  return [...dirSet()];
}

function dirSet(): Set<string> {
  const extra = process.env.USTACK_SYSTEM_DIRS ?? '';
  if (cached && cached.key === extra) return cached.dirs;
  const dirs = new Set<string>();
  const add = (d: string) => {
    if (!d.startsWith('/')) return;
    dirs.add(path.normalize(d));
    dirs.add(realpathOr(d));
  };
  for (const d of DEFAULT_DIRS) add(d);
  for (const d of confDirs('/etc/ld.so.conf', new Set())) add(d);
  for (const d of cacheDirs('/etc/ld.so.cache')) add(d);
  for (const d of muslPathDirs('/etc')) add(d);
  for (const d of extra.split(':')) if (d) add(d);
  cached = { key: extra, dirs };
  return dirs;
}

/** True when `modulePath` (as mapped) lies directly in a system library folder, or is the dynamic linker of one. */
export function isSystemLibrary(modulePath: string): boolean {
  if (!modulePath.startsWith('/')) return false; // [vdso] is the kernel's: not the program's and never a caller
  const dirs = dirSet();
  const dir = path.dirname(modulePath);
  if (dirs.has(dir)) return true;
  return dirs.has(path.dirname(realpathOr(modulePath)));
}

/** Folders listed in an ld.so.conf file and the files it includes (globs allowed, as ldconfig reads them). */
function confDirs(file: string, seen: Set<string>): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const inc = /^include\s+(.+)$/.exec(line);
    if (inc) {
      for (const pattern of inc[1].split(/\s+/)) {
        const abs = path.resolve(path.dirname(file), pattern);
        for (const f of expandGlob(abs)) out.push(...confDirs(f, seen));
      }
    } else if (line.startsWith('/')) {
      out.push(line.split(/[\s=]/)[0]); // old syntax: "dir=TYPE"
    }
  }
  return out;
}

/** `dir/*.conf` -> the matching files, sorted (only the last path component may hold a glob). */
function expandGlob(pattern: string): string[] {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (!/[*?[]/.test(base)) return [pattern];
  const re = new RegExp('^' + base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  try {
    return fs.readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** musl's dynamic linker reads its folders from /etc/ld-musl-ARCH.path (lines or ':'-separated). */
function muslPathDirs(etc: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(etc).filter((f) => /^ld-musl-.*\.path$/.test(f));
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const f of names) {
    try {
      out.push(...fs.readFileSync(path.join(etc, f), 'utf8').split(/[:\n]/).map((d) => d.trim()).filter((d) => d.startsWith('/')));
    } catch {
      // unreadable: the defaults stand
    }
  }
  return out;
}

/** Folders of the libraries /etc/ld.so.cache lists: its string table holds their absolute paths. */
function cacheDirs(file: string): string[] {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return [];
  }
  if (!buf.subarray(0, 16).toString('latin1').startsWith('glibc-ld.so.cache') && !buf.subarray(0, 11).toString('latin1').startsWith('ld.so-1.7.0')) return [];
  const out = new Set<string>();
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 0) continue;
    if (buf[start] === 0x2f && i - start > 1) out.add(path.dirname(buf.toString('utf8', start, i)));
    start = i + 1;
  }
  return [...out];
}

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}
