/**
 * MiniDebugInfo (Fedora, RHEL): a stripped binary's `.gnu_debugdata` section holds an
 * xz-compressed ELF whose `.symtab` names the functions missing from `.dynsym` (static ones).
 * The decoder (xz-decompress: xz-embedded in WebAssembly, no dependencies; chosen by measurement,
 * README "Debug info") is asynchronous, while symbol lookups are synchronous: so the section is
 * decoded once into jest-ustack's cache folder, named by the section's hash, and read from there.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { userCacheDir, writeAtomically } from '../cache-dir';
import { ElfFile } from './elf-file';

/** Where the decoded symbol file of `elf` lives (or would), or null when it has no .gnu_debugdata or no cache folder. */
export function miniDebugCacheFile(elf: ElfFile, create = false): string | null {
  const sec = elf.rawSections.find((s) => s.name === '.gnu_debugdata');
  if (!sec || sec.raw.length === 0) return null;
  const dir = userCacheDir(create);
  if (!dir) return null;
  const sub = path.join(dir, 'minidebuginfo');
  if (create) fs.mkdirSync(sub, { recursive: true, mode: 0o700 });
  const hash = createHash('sha256').update(sec.raw).digest('hex').slice(0, 40);
  return path.join(sub, `${hash}.elf`);
}

export function hasMiniDebugInfo(elf: ElfFile): boolean {
  return elf.rawSections.some((s) => s.name === '.gnu_debugdata' && s.raw.length > 0);
}

const opened = new WeakMap<ElfFile, ElfFile | null>();

/** The decoded MiniDebugInfo of `elf` (its symbols merged with `elf`'s .dynsym), or null until decodeMiniDebugInfo() ran. */
export function openMiniDebugInfo(elf: ElfFile): ElfFile | null {
  const known = opened.get(elf);
  if (known) return known;
  const file = miniDebugCacheFile(elf);
  if (!file || !fs.existsSync(file)) return null; // not decoded yet: asked again next time
  let mini: ElfFile | null = null;
  try {
    mini = ElfFile.fromBuffer(`${elf.path} (.gnu_debugdata)`, fs.readFileSync(file)).withDynamicSymbolsOf(elf);
  } catch {
    mini = null;
  }
  opened.set(elf, mini);
  return mini;
}

/** Decodes `.gnu_debugdata` into the cache (once). Returns the decoded file, or an error text. */
export async function decodeMiniDebugInfo(elf: ElfFile): Promise<{ file: string } | { error: string }> {
  const file = miniDebugCacheFile(elf, true);
  if (!file) return { error: `${elf.path} has no .gnu_debugdata, or no cache folder is usable` };
  if (fs.existsSync(file)) return { file };
  const sec = elf.rawSections.find((s) => s.name === '.gnu_debugdata')!;
  try {
    const data = await xzDecode(sec.raw);
    ElfFile.fromBuffer(`${elf.path} (.gnu_debugdata)`, data); // refuse what is not ELF before caching it
    writeAtomically(file, data);
    return { file };
  } catch (e) {
    return { error: `cannot decode the .gnu_debugdata (MiniDebugInfo) of ${elf.path}: ${(e as Error).message}` };
  }
}

/** Decompresses an .xz stream. */
export async function xzDecode(data: Uint8Array): Promise<Buffer> {
  // loaded on demand: only stripped binaries with MiniDebugInfo need it
  const { XzReadableStream } = require('xz-decompress') as typeof import('xz-decompress');
  const input = new Blob([data]).stream();
  const out = new XzReadableStream(input as unknown as ReadableStream<Uint8Array>);
  return Buffer.from(await new Response(out as unknown as ReadableStream<Uint8Array>).arrayBuffer());
}
