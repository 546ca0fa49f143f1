/**
 * Finds the separate debug file of a stripped binary the way gdb does, in gdb's order:
 * 1. by build-id under each debug directory (<dir>/.build-id/xx/yyyy.debug);
 * 2. by .gnu_debuglink (CRC-checked) next to the binary, in its .debug/ folder, and under
 *    <dir>/<binary's folder>/ for each debug directory;
 * 3. in the debuginfod cache (<cache>/<build-id>/debuginfo) when DEBUGINFOD_URLS is set
 *    (downloads happen before the run and before symbolizing: debug-prepare.ts);
 * and, for symbols only, 4. the binary's MiniDebugInfo (.gnu_debugdata, minidebuginfo.ts).
 * A candidate whose build-id differs from the binary's is refused with a warning.
 * The debug directories and debuginfod settings come from debug-search.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cachedDebuginfod } from './debuginfod-client';
import { debugConfigGeneration, debugGeneration, debugSearch } from './debug-search';
import { ElfFile, openElfCached } from './elf-file';
import { openMiniDebugInfo } from './minidebuginfo';

export interface DebugFileOptions {
  /** Debug directories; default: debugSearch().dirs (option debugDirs, USTACK_DEBUG_DIRS, /usr/lib/debug). */
  debugRoots?: string[];
  /** Also look in the debuginfod cache (default: when DEBUGINFOD_URLS is set). */
  debuginfodCache?: boolean;
}

/**
 * The debug directories searched for separate debug files (gdb's debug-file-directory): the
 * options', else `USTACK_DEBUG_DIRS` (':'-separated), else /usr/lib/debug (debug-search.ts).
 */
export function debugDirs(): string[] {
  return debugSearch().dirs;
}

/** Refused candidates (another build-id), reported once per file and thread: see takeDebugFileWarnings(). */
let refusals: string[] = [];
const refused = new Set<string>();

export function findSeparateDebugFile(elf: ElfFile, opts: DebugFileOptions = {}): string | null {
  const search = debugSearch();
  const roots = opts.debugRoots ?? search.dirs;
  const self = realpathOrNull(elf.path);

  for (const candidate of buildIdCandidates(elf, roots)) {
    if (isOtherFile(candidate, self) && buildIdMatches(candidate, elf)) return candidate;
  }

  const link = elf.debugLink;
  if (link) {
    for (const candidate of debugLinkCandidates(elf, roots)) {
      if (isOtherFile(candidate, self) && crcMatches(candidate, link.crc) && buildIdMatches(candidate, elf)) return candidate;
    }
  }

  const useCache = opts.debuginfodCache ?? search.debuginfod !== null;
  if (useCache && search.debuginfod && elf.buildId) {
    const hit = cachedDebuginfod(search.debuginfod, elf.buildId, 'debuginfo');
    if (hit && hit !== 'negative' && buildIdMatches(hit, elf)) return hit;
  }
  return null;
}

/** Where the build-id names the debug file, per debug directory, in search order. */
export function buildIdCandidates(elf: ElfFile, roots: readonly string[] = debugSearch().dirs): string[] {
  if (!elf.buildId || elf.buildId.length <= 2) return [];
  return roots.map((root) => path.join(root, '.build-id', elf.buildId!.slice(0, 2), `${elf.buildId!.slice(2)}.debug`));
}

/** Where the .gnu_debuglink name is looked for, in gdb's order: the program's folder, its .debug/, each debug directory + the folder. */
export function debugLinkCandidates(elf: ElfFile, roots: readonly string[] = debugSearch().dirs): string[] {
  const link = elf.debugLink;
  if (!link) return [];
  const dirs = new Set<string>([path.dirname(path.resolve(elf.path))]);
  const self = realpathOrNull(elf.path);
  if (self) dirs.add(path.dirname(self));
  const candidates: string[] = [];
  for (const dir of dirs) {
    candidates.push(path.join(dir, link.file), path.join(dir, '.debug', link.file));
    for (const root of roots) candidates.push(path.join(root, dir, link.file));
  }
  return candidates;
}

/** The CRC32 .gnu_debuglink stores (the zlib polynomial over the whole file). */
export function debugLinkCrc(file: string): number {
  return (require('node:zlib') as typeof import('node:zlib')).crc32(fs.readFileSync(file)) >>> 0;
}

/** Warnings about debug files refused since the last call (a capture's warnings). */
export function takeDebugFileWarnings(): string[] {
  const out = refusals;
  refusals = [];
  return out;
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

/** A candidate of another build-id than `elf`'s is refused (with a warning); one without a build-id is taken when `elf` has none either. */
function buildIdMatches(candidate: string, elf: ElfFile): boolean {
  let id: string | null;
  try {
    id = openElfCached(candidate).buildId;
  } catch {
    return false;
  }
  if (id === elf.buildId) return true;
  const key = `${candidate}\0${elf.path}`;
  if (!refused.has(key)) {
    refused.add(key);
    refusals.push(`Debug file ${candidate} refused for ${elf.path}: its build-id is ${id ?? 'missing'}, the module's is ${elf.buildId ?? 'missing'} (it belongs to another build; install the debug file of this build).`);
  }
  return false;
}

function crcMatches(candidate: string, crc: number): boolean {
  try {
    return debugLinkCrc(candidate) === crc >>> 0;
  } catch {
    return false;
  }
}

const separateCache = new WeakMap<ElfFile, { generation: number; config: number; debug: ElfFile | null }>();

/** The separate debug file of `elf` opened (cached), or null when there is none or it is unreadable. */
export function openSeparateDebugFile(elf: ElfFile): ElfFile | null {
  const known = separateCache.get(elf);
  // a found file stays while the settings do; "none" is asked again once new files may have appeared
  if (known && known.config === debugConfigGeneration() && (known.debug || known.generation === debugGeneration())) return known.debug;
  let debug: ElfFile | null = null;
  const file = findSeparateDebugFile(elf);
  if (file) {
    try {
      debug = openElfCached(file);
    } catch {
      debug = null;
    }
  }
  separateCache.set(elf, { generation: debugGeneration(), config: debugConfigGeneration(), debug });
  return debug;
}

/**
 * Where a module's full symbol table lives: the module itself, its debug file when the module
 * was stripped, or its MiniDebugInfo (static functions, with the module's .dynsym).
 */
export function symbolSource(elf: ElfFile): ElfFile {
  if (elf.hasSection('.symtab')) return elf;
  const debug = openSeparateDebugFile(elf);
  if (debug && debug.hasSection('.symtab')) return debug;
  return openMiniDebugInfo(elf) ?? elf;
}

/** Whether the module has DWARF: in itself or in a separate debug file found for it. */
export function hasDwarf(elf: ElfFile): boolean {
  return elf.hasDebugInfo || openSeparateDebugFile(elf)?.hasDebugInfo === true;
}

/** What a module has to name its functions and lines, for messages and `ustack doctor`. */
export interface DebugInfoStatus {
  path: string;
  buildId: string | null;
  /** The module's own .symtab. */
  symtab: boolean;
  /** The module's own DWARF. */
  dwarf: boolean;
  /** The separate debug file found, or null. */
  separate: string | null;
  /** Its MiniDebugInfo was decoded. */
  miniDebugInfo: boolean;
  /** It names its static functions somewhere (.symtab here, in the debug file, or MiniDebugInfo). */
  fullSymbols: boolean;
}

export function debugInfoStatus(elf: ElfFile): DebugInfoStatus {
  const separate = openSeparateDebugFile(elf);
  const mini = !elf.hasSection('.symtab') && !separate?.hasSection('.symtab') ? openMiniDebugInfo(elf) : null;
  const symtab = elf.hasSection('.symtab');
  return {
    path: elf.path,
    buildId: elf.buildId,
    symtab,
    dwarf: elf.hasDebugInfo,
    separate: separate ? separate.path : null,
    miniDebugInfo: mini !== null,
    fullSymbols: symtab || separate?.hasSection('.symtab') === true || mini !== null,
  };
}
