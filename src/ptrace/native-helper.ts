/**
 * Finds or builds the optional native stop loop (native/stop_loop.c): prebuilt in
 * dist/native/ by `npm run build`, else compiled once with the system C compiler into a cache
 * folder. Returns null when neither works (no compiler): the tracer then uses pure ffi-rs.
 * USTACK_NATIVE=0 turns it off (the benchmark measures both paths).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { userCacheDir } from '../cache-dir';

const LIB_NAME = 'libustack_stop.so';

function packageRoot(): string {
  // src/ptrace, dist/ptrace or the bundled CLI in dist/: the nearest folder with our package.json
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..', '..');
  }
}

function sourcePath(): string | null {
  const p = path.join(packageRoot(), 'native', 'stop_loop.c');
  return fs.existsSync(p) ? p : null;
}

/** Compiles the helper into `out`; throws when no compiler is present. */
export function compileNativeHelper(out: string, source = sourcePath()): void {
  if (!source) throw new Error('native/stop_loop.c is missing');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const cc = process.env.CC || 'cc';
  // child_process and crypto load only when the helper must be compiled (start-up of `ustack record`)
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
  execFileSync(cc, ['-O2', '-shared', '-fPIC', '-o', tmp, source], { stdio: ['ignore', 'ignore', 'pipe'] });
  fs.renameSync(tmp, out);
}

/** Path of a loadable helper library, or null when the pure ffi-rs path must be used. */
export function nativeHelperPath(): string | null {
  if (process.env.USTACK_NATIVE === '0') return null;
  const prebuilt = path.join(packageRoot(), 'dist', 'native', LIB_NAME);
  const source = sourcePath();
  if (fs.existsSync(prebuilt) && (!source || fs.statSync(prebuilt).mtimeMs >= fs.statSync(source).mtimeMs)) return prebuilt;
  if (!source) return null;
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  const key = createHash('sha1').update(fs.readFileSync(source)).digest('hex').slice(0, 12);
  const dir = userCacheDir(true);
  if (!dir) return null; // a library loaded from a folder others can write would run as us
  const cached = path.join(dir, key, LIB_NAME);
  if (fs.existsSync(cached)) return cached;
  try {
    compileNativeHelper(cached, source);
    return cached;
  } catch {
    return null;
  }
}
