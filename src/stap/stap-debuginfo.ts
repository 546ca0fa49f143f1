/**
 * Hands stap the debug files jest-ustack found, so both backends resolve the same probes: stap
 * (elfutils' libdwfl) searches SYSTEMTAP_DEBUGINFO_PATH for <dir>/.build-id/xx/yyyy.debug and
 * debuglinks. Files found elsewhere (the debuginfod cache, a decoded MiniDebugInfo, a debuglink
 * next to the program) are linked into a folder of that layout put first on the path, followed by
 * the debug directories (debug-search.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openSeparateDebugFile } from '../elf/debuginfo';
import { prepareDebugInfo, programModules } from '../elf/debug-prepare';
import { debugSearchFrom, type DebugSearch } from '../elf/debug-search';
import { openElfCached } from '../elf/elf-file';
import { miniDebugCacheFile, openMiniDebugInfo } from '../elf/minidebuginfo';

export interface StapDebugInfo {
  /** SYSTEMTAP_DEBUGINFO_PATH for stap's environment. */
  env: Record<string, string>;
  /** Debug files handed over by build-id (module -> debug file). */
  linked: Map<string, string>;
  cleanup(): void;
}

/** Prepares (debuginfod, MiniDebugInfo) and links the debug files of `binary`, its libraries and `extra` modules for stap. */
export async function stapDebugInfo(binary: string, extra: readonly string[], env: Record<string, string | undefined>, debugDirs?: readonly string[]): Promise<StapDebugInfo> {
  const search: DebugSearch = debugSearchFrom(env, debugDirs);
  const modules = [...new Set([...(await programModules(binary, env)), ...extra])];
  await prepareDebugInfo(modules, search);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-stap-debug-'));
  const linked = new Map<string, string>();
  for (const m of modules) {
    let elf;
    try {
      elf = openElfCached(m);
    } catch {
      continue;
    }
    if (!elf.buildId || elf.hasDebugInfo) continue;
    const inDirs = search.dirs.some((d) => fs.existsSync(path.join(d, '.build-id', elf.buildId!.slice(0, 2), `${elf.buildId!.slice(2)}.debug`)));
    if (inDirs) continue; // stap finds it there itself
    const debug = openSeparateDebugFile(elf)?.path ?? (openMiniDebugInfo(elf) ? miniDebugCacheFile(elf) : null);
    if (!debug) continue;
    const link = path.join(dir, '.build-id', elf.buildId.slice(0, 2), `${elf.buildId.slice(2)}.debug`);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.resolve(debug), link);
    linked.set(m, debug);
  }
  return {
    // stap's default path is "+:.debug:/usr/lib/debug:build" ("+": check debuglink CRCs; "build": kernel modules)
    env: { SYSTEMTAP_DEBUGINFO_PATH: ['+', '.debug', dir, ...search.dirs, 'build'].join(':') },
    linked,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
