#!/usr/bin/env node
/**
 * `ustack` start-up. The command-line tool (src/cli/main.ts) is bundled into one file,
 * dist/cli-bundle.js (`npm run build:cli`), so starting it reads one file instead of resolving
 * and compiling some sixty modules; V8's compiled code for it is kept in a cache file between runs
 * (0.2 to 0.5 MB in ~/.cache/jest-ustack/, one per build of the bundle: the newest few are kept).
 * Without the bundle (a build without esbuild) the modules load one by one.
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { keepNewest, userCacheDir, writeAtomically } from './cache-dir';

/** Compiled-code files kept: each rebuild or Node.js upgrade makes a new one (older ones are never read again). */
const KEEP_CODE_CACHES = 3;

const bundle = path.join(__dirname, 'cli-bundle.js');

function cacheFile(file: string, create: boolean): string | null {
  try {
    const st = fs.statSync(file);
    const dir = userCacheDir(create);
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
        writeAtomically(cachePath, script.createCachedData());
        keepNewest(path.dirname(cachePath), (f) => /^cli-.*\.v8cache$/.test(f), KEEP_CODE_CACHES);
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
