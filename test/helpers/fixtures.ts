/**
 * Builds native fixtures from test/fixtures with the real compilers, into a cache folder
 * keyed by source, flags and compiler, so every test file shares one build per variant.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const FIXTURES = path.resolve(__dirname, '..', 'fixtures');
const CACHE = path.join(os.tmpdir(), 'jest-ustack-fixtures');

export interface BuildOptions {
  /** Compiler flags, e.g. ['-O2', '-fomit-frame-pointer']. Default ['-O0', '-g']. */
  flags?: string[];
  /** Extra arguments placed after the source (libraries: ['-lpthread', '-ldl']). */
  libs?: string[];
  /** Output name suffix to tell variants apart in paths printed by tests. */
  variant?: string;
  /** Build a shared library instead of an executable. */
  shared?: boolean;
  /** Compiler: 'gcc' (default for .c), 'g++' (default for .cc/.cpp), 'rustc' (default for .rs). */
  compiler?: string;
}

function compilerFor(source: string): string {
  if (source.endsWith('.rs')) return 'rustc';
  if (source.endsWith('.cc') || source.endsWith('.cpp')) return 'g++';
  return 'gcc';
}

/** Compiles test/fixtures/<source> and returns the absolute path of the binary. */
export function buildFixture(source: string, options: BuildOptions = {}): string {
  const src = path.join(FIXTURES, source);
  const compiler = options.compiler ?? compilerFor(source);
  const flags = options.flags ?? (compiler === 'rustc' ? ['-g', '-C', 'opt-level=0'] : ['-O0', '-g']);
  const libs = options.libs ?? [];
  const key = createHash('sha256')
    .update(fs.readFileSync(src))
    // the source path is in the DWARF: another checkout gets its own build
    .update(JSON.stringify([src, compiler, flags, libs, options.shared ?? false]))
    .digest('hex')
    .slice(0, 16);
  const base = path.basename(source).replace(/\.[^.]+$/, '');
  const name = `${options.shared ? 'lib' : ''}${base}${options.variant ? '-' + options.variant : ''}${options.shared ? '.so' : ''}`;
  const dir = path.join(CACHE, key);
  const out = path.join(dir, name);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${out}.tmp${process.pid}`;
  const args =
    compiler === 'rustc'
      ? [...flags, ...(options.shared ? ['--crate-type', 'cdylib'] : []), '-o', tmp, src, ...libs]
      : [...flags, ...(options.shared ? ['-shared', '-fPIC'] : []), '-o', tmp, src, ...libs];
  execFileSync(compiler, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  fs.renameSync(tmp, out);
  return out;
}

/** Builds test/fixtures/<library> as a shared library and <main> linked with it (an rpath to its folder), both with `options.flags`. */
export function buildWithLibrary(main: string, library: string, options: BuildOptions = {}): { binary: string; library: string } {
  const base = path.basename(library).replace(/\.[^.]+$/, '');
  const lib = buildFixture(library, { ...options, shared: true, libs: [`-Wl,-soname,lib${base}${options.variant ? '-' + options.variant : ''}.so`] });
  const binary = buildFixture(main, { ...options, libs: [lib, `-Wl,-rpath,${path.dirname(lib)}`, ...(options.libs ?? [])] });
  return { binary, library: lib };
}
