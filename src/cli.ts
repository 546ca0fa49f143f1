#!/usr/bin/env node
/**
 * `ustack` start-up. The command-line tool (src/cli/main.ts) is bundled into one file,
 * dist/cli-bundle.js (`npm run build:cli`), so starting it reads one file instead of resolving
 * and compiling some sixty modules; V8's compiled code for it is kept in a cache file between runs
 * (about 350 KB in ~/.cache/jest-ustack/).
 * Without the bundle (a build without esbuild) the modules load one by one.
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

const bundle = path.join(__dirname, 'cli-bundle.js');

/**
 * The code cache lives in a folder only this user can write (compiled code from a folder another
 * user controls would run as us): $XDG_CACHE_HOME or ~/.cache, else $TMPDIR/jest-ustack-UID.
 */
function cacheDir(create: boolean): string | null {
  const uid = process.getuid?.() ?? -1;
  const base = process.env.XDG_CACHE_HOME || (os.homedir() ? path.join(os.homedir(), '.cache') : '');
  const dir = base && path.isAbsolute(base) ? path.join(base, 'jest-ustack') : path.join(os.tmpdir(), `jest-ustack-${uid}`);
  try {
    if (create) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o022) !== 0) return null;
    return dir;
  } catch {
    return null;
  }
}

function cacheFile(file: string, create: boolean): string | null {
  try {
    const st = fs.statSync(file);
    const dir = cacheDir(create);
    return dir ? path.join(dir, `cli-${st.size}-${Math.floor(st.mtimeMs)}-${process.version}-${process.arch}.v8cache`) : null;
  } catch {
    return null;
  }
}

function runBundle(file: string): void {
  const source = fs.readFileSync(file, 'utf8').replace(/^#!.*/, '');
  const cachePath = cacheFile(file, false);
  let cachedData: Buffer | undefined;
  try {
    if (cachePath) cachedData = fs.readFileSync(cachePath);
  } catch {
    /* first run */
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  if (!cachedData || script.cachedDataRejected) {
    // written at exit: the functions the run compiled are in the cache too
    process.once('exit', () => {
      try {
        const cachePath = cacheFile(file, true);
        if (!cachePath) return;
        const tmp = `${cachePath}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, cachePath);
      } catch {
        /* no cache: the next start compiles again */
      }
    });
  }
  const wrapper = script.runInThisContext() as (exports: unknown, req: NodeRequire, m: Module, filename: string, dirname: string) => void;
  wrapper.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
}

if (fs.existsSync(bundle)) runBundle(bundle);
else require('./cli/main');
