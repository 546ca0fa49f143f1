/**
 * What to tell a person whose module lacks debug info: which module, its build-id, where it was
 * looked for, and how to get it (the owning package's debug package, or DEBUGINFOD_URLS).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { debugDirsSetting, debugSearch } from './debug-search';
import { buildIdCandidates, debugLinkCandidates } from './debuginfo';
import type { ElfFile } from './elf-file';

/** Capture warnings for downloads that failed (a plain "no server has it" is said by the symbolizer's warning). */
export function debuginfodWarnings(failed: { module: string; buildId: string; detail: string }[], errors: string[]): string[] {
  return [...failed.map((f) => `debuginfod: no debug info for ${f.module} (build-id ${f.buildId}): ${f.detail}.`), ...errors];
}

const owners = new Map<string, { manager: 'dpkg' | 'rpm'; name: string } | null>();

/** The package that installed `file` (`dpkg -S`, else `rpm -qf`), or null. */
export function owningPackage(file: string): { manager: 'dpkg' | 'rpm'; name: string } | null {
  if (owners.has(file)) return owners.get(file)!;
  // dpkg lists files by the path the package shipped: /bin/ls is /usr/bin/ls after the /usr merge
  const names = new Set<string>([file]);
  try {
    names.add(fs.realpathSync(file));
  } catch {
    /* gone */
  }
  for (const n of [...names]) {
    const m = /^\/usr(\/(?:s?bin|lib\w*)\/.*)$/.exec(n);
    if (m) names.add(m[1]);
  }
  let found: { manager: 'dpkg' | 'rpm'; name: string } | null = null;
  // one dpkg run for all the names (each takes a fifth of a second); it exits 1 when some name is not found
  const r = spawnSync('dpkg', ['-S', ...names], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  for (const line of (r.stdout ?? '').split('\n')) {
    const name = line.split(':')[0].trim();
    if (name && !name.includes(',') && !name.includes(' ')) {
      found = { manager: 'dpkg', name };
      break;
    }
  }
  if (!found) {
    try {
      const name = execFileSync('rpm', ['-qf', '--qf', '%{NAME}', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
      if (name && !/not owned/.test(name)) found = { manager: 'rpm', name };
    } catch {
      /* no rpm */
    }
  }
  owners.set(file, found);
  return found;
}

/** The distribution's codename (os-release VERSION_CODENAME), for the debug archive's suite. */
function codename(): string | null {
  try {
    return /^VERSION_CODENAME=(.*)$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1]?.replace(/"/g, '') || null;
  } catch {
    return null;
  }
}

/** How to get the debug info of `elf`: one or two sentences. */
export function howToGetDebugInfo(elf: ElfFile): string {
  const ways: string[] = [];
  const owner = owningPackage(elf.path);
  if (owner?.manager === 'dpkg') {
    const suite = codename();
    ways.push(
      `it belongs to the package "${owner.name}": install ${owner.name}-dbgsym (or ${owner.name}-dbg where the distribution ships one) from the distribution's debug archive ` +
        `(Debian: add the line \`deb http://deb.debian.org/debian-debug ${suite ?? '<codename>'}-debug main\` to APT's sources, then \`apt-get update && apt-get install ${owner.name}-dbgsym\`; Ubuntu: the ddebs archive)`,
    );
  } else if (owner?.manager === 'rpm') {
    ways.push(`it belongs to the package "${owner.name}": \`dnf debuginfo-install ${owner.name}\``);
  } else {
    if (!elf.path.startsWith('/usr/') && !elf.path.startsWith('/lib')) ways.push('build it with -g and keep the debug info (no `strip`, or ship it with `objcopy --only-keep-debug` + `--add-gnu-debuglink`)');
    ways.push("if a distribution package installed it, install that package's -dbgsym/-dbg (Debian/Ubuntu) or -debuginfo (Fedora/RHEL) package");
  }
  const search = debugSearch();
  if (!search.debuginfod) ways.push('set DEBUGINFOD_URLS to a debuginfod server that has this build (Debian: https://debuginfod.debian.net) and jest-ustack downloads it by build-id');
  else ways.push(`the debuginfod servers in DEBUGINFOD_URLS (${search.debuginfod.urls.join(' ')}) do not have it: add one that does`);
  ways.push(`put the debug file where it is looked for (${debugDirsSetting(search)}, now ${search.dirs.join(':') || 'none'})`);
  return ways.join('; or ');
}

/** "MODULE (build-id ID) has no debug info: ... To get it, ..." */
export function missingDebugInfoText(elf: ElfFile, what: string): string {
  const where = (elf.buildId ? buildIdCandidates(elf) : debugSearch().dirs).join(', ');
  const link = elf.debugLink ? `, its .gnu_debuglink "${elf.debugLink.file}" as ${debugLinkCandidates(elf).join(', ')}` : '';
  return `${elf.path} (build-id ${elf.buildId ?? 'none'}) has no symbol table and its debug info is missing (looked for ${where || 'no debug directory'}${link}${debugSearch().debuginfod ? ', and the debuginfod servers' : ''}): ${what}. To get it: ${howToGetDebugInfo(elf)}.`;
}
