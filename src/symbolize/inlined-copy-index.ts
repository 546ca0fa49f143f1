/**
 * The inlined copies of a library's functions, kept on disk per build-id. Finding them walks
 * every DIE of the library's DWARF: for glibc's separate debug file (libc6-dbg) about 0.6 s and
 * 100 MiB, where the result is some 4,000 copies. gdb pays that walk once per session (or keeps
 * an index cache); a hook resolution pays it once per library build, and later runs read a file
 * (about 110 KB for glibc) from the cache folder (cache-dir.ts, `inlined/<build-id>.json`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { keepNewest, trustedDir, userCacheDir, writeAtomically } from '../cache-dir';
import { DebugInfo, type InlinedInstance } from '../dwarf/debug-info';
import { hasDwarf } from '../elf/debuginfo';
import type { ElfFile } from '../elf/elf-file';
import { moduleDwarf } from './module-debug';

/** What hook resolution reads of a module's inlined copies: the same from parsed DWARF or from the index. */
export interface InlinedCopies {
  inlinedInstances(): readonly InlinedInstance[];
}

/** Index files kept; the least recently written go first (libraries being rebuilt leave one per build). */
const KEEP = 200;
const FORMAT = 'jest-ustack inlined copies';
const VERSION = 1;

interface IndexFile {
  format: string;
  version: number;
  buildId: string;
  /** One row per function: qualified name, name, linkage name, then [entry, entryPc] pairs (entryPc -1: none). */
  functions: [string, string, string | null, number[]][];
}

const loaded = new WeakMap<ElfFile, Map<string, InlinedCopies | null>>();

/**
 * The inlined copies of `elf`'s functions from its DWARF (its own or its separate debug file),
 * read from the index in `cacheDir` when one for its build-id is there, else found and written
 * there for the next run. Null when the module has no DWARF. A module without a build-id, or no
 * usable cache folder, is walked on every call that needs it.
 */
export function inlinedCopies(elf: ElfFile, cacheDir: string | null = defaultCacheDir()): InlinedCopies | null {
  let byDir = loaded.get(elf);
  if (!byDir) loaded.set(elf, (byDir = new Map()));
  const known = byDir.get(cacheDir ?? '');
  if (known !== undefined) return known;
  if (!hasDwarf(elf)) {
    byDir.set(cacheDir ?? '', null);
    return null;
  }
  const buildId = elf.buildId;
  const file = cacheDir && buildId ? path.join(cacheDir, `${buildId}.json`) : null;
  let copies: InlinedCopies | null = null;
  const fromFile = file ? readIndex(file, buildId!) : null;
  if (fromFile) copies = { inlinedInstances: () => fromFile };
  else {
    const dwarf = moduleDwarf(elf);
    if (dwarf.sections) {
      // a DebugInfo of its own, so the walk's per-unit scopes are not kept for the run (the symbolizer reads few units)
      const list = DebugInfo.fromSections(dwarf.sections, dwarf.lines)?.inlinedInstances() ?? [];
      copies = { inlinedInstances: () => list };
      if (file) {
        try {
          writeAtomically(file, JSON.stringify(indexOf(buildId!, list)));
          prune(cacheDir!);
        } catch {
          /* a read-only cache: the next run walks again */
        }
      }
    }
  }
  byDir.set(cacheDir ?? '', copies);
  return copies;
}

/** `<cache>/inlined`, created on first use; null when there is no cache folder this user can trust. */
function defaultCacheDir(): string | null {
  const base = userCacheDir(true);
  return base ? trustedDir(path.join(base, 'inlined'), true) : null;
}

function indexOf(buildId: string, list: readonly InlinedInstance[]): IndexFile {
  const rows = new Map<string, [string, string, string | null, number[]]>();
  for (const i of list) {
    const key = `${i.qualifiedName}\0${i.name}\0${i.linkageName ?? ''}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = [i.qualifiedName, i.name, i.linkageName, []]));
    row[3].push(i.entry, i.entryPc ?? -1);
  }
  return { format: FORMAT, version: VERSION, buildId, functions: [...rows.values()] };
}

/** The copies an index file lists, or null when it is missing, unreadable, of another version or another build. */
function readIndex(file: string, buildId: string): InlinedInstance[] | null {
  let parsed: IndexFile;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as IndexFile;
  } catch {
    return null;
  }
  if (parsed?.format !== FORMAT || parsed.version !== VERSION || parsed.buildId !== buildId || !Array.isArray(parsed.functions)) return null;
  const list: InlinedInstance[] = [];
  for (const [qualifiedName, name, linkageName, entries] of parsed.functions) {
    for (let k = 0; k + 1 < entries.length; k += 2) {
      list.push({ name, qualifiedName, linkageName, entry: entries[k], entryPc: entries[k + 1] < 0 ? null : entries[k + 1] });
    }
  }
  return list;
}

function prune(dir: string): void {
  keepNewest(dir, (f) => f.endsWith('.json'), KEEP);
}
