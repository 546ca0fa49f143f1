/**
 * Finds the separate debug file of a stripped binary the way gdb and SystemTap do:
 * by build-id under the debug roots, then by .gnu_debuglink (CRC-checked) next to the
 * binary, in its .debug/ folder, and under <root>/<binary's folder>/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ElfFile, openElfCached } from './elf-file';

export interface DebugFileOptions {
  /** Global debug folders, default debugDirs(). */
  debugRoots?: string[];
}

/**
 * The global debug folders searched for separate debug files (gdb's debug-file-directory):
 * `USTACK_DEBUG_DIRS` (':'-separated) when set, else /usr/lib/debug.
 */
export function debugDirs(): string[] {
  const env = process.env.USTACK_DEBUG_DIRS;
  return env !== undefined ? env.split(':').filter((d) => d !== '') : ['/usr/lib/debug'];
}

export function findSeparateDebugFile(elf: ElfFile, opts: DebugFileOptions = {}): string | null {
  const roots = opts.debugRoots ?? debugDirs();
  const self = realpathOrNull(elf.path);

  if (elf.buildId && elf.buildId.length > 2) {
    for (const root of roots) {
      const candidate = path.join(root, '.build-id', elf.buildId.slice(0, 2), `${elf.buildId.slice(2)}.debug`);
      if (isOtherFile(candidate, self) && buildIdMatches(candidate, elf.buildId)) return candidate;
    }
  }

  const link = elf.debugLink;
  if (link) {
    const dirs = new Set<string>([path.dirname(path.resolve(elf.path))]);
    if (self) dirs.add(path.dirname(self));
    const candidates: string[] = [];
    for (const dir of dirs) {
      candidates.push(path.join(dir, link.file), path.join(dir, '.debug', link.file));
      for (const root of roots) candidates.push(path.join(root, dir, link.file));
    }
    for (const candidate of candidates) {
      if (isOtherFile(candidate, self) && crcMatches(candidate, link.crc)) return candidate;
    }
  }
  return null;
}

/** The CRC32 .gnu_debuglink stores (the zlib polynomial over the whole file). */
export function debugLinkCrc(file: string): number {
  return (require('node:zlib') as typeof import('node:zlib')).crc32(fs.readFileSync(file)) >>> 0;
}

function realpathOrNull(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

function isOtherFile(candidate: string, self: string | null): boolean {
  const real = realpathOrNull(candidate);
  if (!real) return false;
  try {
    if (!fs.statSync(real).isFile()) return false;
  } catch {
    return false;
  }
  return real !== self;
}

function buildIdMatches(candidate: string, buildId: string): boolean {
  try {
    return openElfCached(candidate).buildId === buildId;
  } catch {
    return false;
  }
}

function crcMatches(candidate: string, crc: number): boolean {
  try {
    return debugLinkCrc(candidate) === crc >>> 0;
  } catch {
    return false;
  }
}

const separateCache = new WeakMap<ElfFile, ElfFile | null>();

/** The separate debug file of `elf` opened (cached), or null when there is none or it is unreadable. */
export function openSeparateDebugFile(elf: ElfFile): ElfFile | null {
  let d = separateCache.get(elf);
  if (d !== undefined) return d;
  d = null;
  const file = findSeparateDebugFile(elf);
  if (file) {
    try {
      d = openElfCached(file);
    } catch {
      d = null;
    }
  }
  separateCache.set(elf, d);
  return d;
}

/** Where a module's full symbol table lives: the module itself, or its debug file when the module was stripped. */
export function symbolSource(elf: ElfFile): ElfFile {
  if (elf.hasSection('.symtab')) return elf;
  const debug = openSeparateDebugFile(elf);
  return debug && debug.hasSection('.symtab') ? debug : elf;
}

/** Whether the module has DWARF: in itself or in a separate debug file found for it. */
export function hasDwarf(elf: ElfFile): boolean {
  return elf.hasDebugInfo || openSeparateDebugFile(elf)?.hasDebugInfo === true;
}
