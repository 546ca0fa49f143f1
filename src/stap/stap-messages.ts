/**
 * Reads stap's stderr: semantic errors of pass 2 (turned into UnknownHookError / NoDebugInfoError
 * naming the fix), warnings worth passing on, and stapio's report of how the command ended.
 */
import { missingDebugInfoText } from '../elf/debug-advice';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { NoDebugInfoError, StapFailedError, UnknownHookError, UstackError } from '../errors';
import { openElfCached } from '../elf';
import type { StapScriptPlan } from './script';

export interface SemanticFailure {
  /** Script line of the probe that failed, or null. */
  line: number | null;
  /** stap's "similar functions" suggestions. */
  similar: string[];
  message: string;
}

/** Pass-2 "while resolving probe point ... at FILE:LINE:COL" blocks and what they say. */
export function parseSemanticErrors(stderr: string): SemanticFailure[] {
  const out: SemanticFailure[] = [];
  let current: SemanticFailure | null = null;
  for (const line of stderr.split('\n')) {
    const resolving = /^semantic error: while resolving probe point: .* at (.*):(\d+):(\d+)\s*$/.exec(line);
    if (resolving) {
      current = { line: Number(resolving[2]), similar: [], message: line };
      out.push(current);
      continue;
    }
    const m = /^semantic error: (.*)$/.exec(line);
    if (!m) continue;
    const similar = /\(similar (?:functions|probes): (.*)\)\s*$/.exec(m[1]);
    if (current && current.message.includes('while resolving')) {
      current.message = m[1];
      if (similar) current.similar = similar[1].split(',').map((s) => s.trim()).filter(Boolean);
      current = null;
    } else {
      out.push({ line: null, similar: similar ? similar[1].split(',').map((s) => s.trim()) : [], message: m[1] });
    }
  }
  return out;
}

/** Modules stap warned it has no DWARF for ("cannot find module M debuginfo"). */
export function modulesWithoutDebuginfo(stderr: string): string[] {
  const mods: string[] = [];
  for (const m of stderr.matchAll(/WARNING: cannot find module (\S+) debuginfo/g)) if (!mods.includes(m[1])) mods.push(m[1]);
  return mods;
}

/** stap's own stderr lines worth keeping as capture warnings. */
export function stapWarnings(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => /^WARNING: /.test(l))
    .filter((l) => !/Kernel function symbol table missing|Child process exited with/.test(l))
    .map((l) => l.replace(/ \[man [^\]]*\]$/, '').trim());
}

/** The debuginfo fix for `module`: the build flag, and the package to install when a package owns it. */
export function debuginfoFix(module: string): string {
  let owner: string | null = null;
  try {
    const out = execFileSync('dpkg', ['-S', module], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    owner = out.split(':')[0].trim() || null;
  } catch {
    try {
      owner = execFileSync('rpm', ['-qf', module], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
    } catch {
      owner = null;
    }
  }
  const pkg = owner
    ? ` It belongs to the package "${owner}": install its debug symbols (${owner}-dbgsym or ${owner}-dbg on Debian/Ubuntu, \`debuginfo-install ${owner}\` on Fedora/RHEL).`
    : ' If it comes from a distribution package, install that package\'s -dbgsym/-dbg (Debian/Ubuntu) or -debuginfo (Fedora/RHEL) package.';
  return `Build it with -g and do not strip it (stap needs DWARF or at least a symbol table to place probes).${pkg}`;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** Function names of `module` close to `name` (edit distance or shared prefix), best first. */
export function nearNames(name: string, candidates: string[], limit = 5): string[] {
  const bare = name.replace(/[*?[\]]/g, '');
  const scored = [...new Set(candidates)]
    .map((c) => ({ c, d: levenshtein(bare, c) - (c.startsWith(bare.slice(0, 3)) && bare.length >= 3 ? 1 : 0) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(bare.length / 3)))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c));
  return scored.slice(0, limit).map((x) => x.c);
}

function functionNames(module: string): string[] {
  try {
    return openElfCached(module)
      .symbols()
      .functions()
      .map((s) => s.name.replace(/@.*$/, ''));
  } catch {
    return [];
  }
}

function hasSymtab(module: string): boolean {
  try {
    return openElfCached(module).hasSection('.symtab');
  } catch {
    return false;
  }
}

/**
 * The error a failed stap run stands for. Pass-2 "no match" on a module stap has no DWARF for,
 * and which has no symbol table either, is missing debuginfo; otherwise the hook names no function.
 */
export function classifyStapFailure(stderr: string, plan: StapScriptPlan, binary: string): UstackError {
  const failures = parseSemanticErrors(stderr);
  const noDebug = modulesWithoutDebuginfo(stderr);
  for (const f of failures) {
    if (!/no match|no probes found/.test(f.message)) continue;
    const index = f.line === null ? -1 : plan.probeLines.indexOf(f.line);
    const probe = index >= 0 ? plan.probes[index] : plan.probes.length === 1 ? plan.probes[0] : null;
    if (!probe) continue;
    const modules = probe.hook.module !== null && probe.libraries.length ? probe.libraries : [binary];
    const bare = modules.find((m) => noDebug.some((n) => n === m || path.basename(n) === path.basename(m)) && !hasSymtab(m));
    if (bare) {
      // the same words as the ptrace backend's (debug-advice.ts), when the module can be read
      try {
        const elf = openElfCached(bare);
        return new NoDebugInfoError(bare, missingDebugInfoText(elf, 'stap finds no function to probe ("semantic error: no match"); it needs DWARF or a symbol table'), elf.buildId);
      } catch {
        return new NoDebugInfoError(bare, debuginfoFix(bare));
      }
    }
    const own = nearNames(probe.hook.func, modules.flatMap(functionNames));
    const suggestions = [...new Set([...own, ...f.similar])].slice(0, 5);
    const where = probe.hook.module !== null ? modules.map((m) => path.basename(m)).join(', ') : `${path.basename(binary)} or the libraries it loads`;
    return new UnknownHookError(probe.hook.spec, where, suggestions);
  }
  const last = failures.length ? failures[failures.length - 1].message : (knownFailure(stderr) ?? /Pass \d+: .*failed.*/.exec(stderr)?.[0] ?? /^ERROR: (.*)$/m.exec(stderr)?.[1] ?? 'it exited with an error');
  return new StapFailedError(last, stderr);
}

/** stap's and staprun's failures outside pass 2, each said with what to do. */
export function knownFailure(stderr: string): string | null {
  if (/Pass 4: compilation failed/.test(stderr)) {
    return 'the probe module did not compile (pass 4) against the kernel headers: they must be the running kernel\'s (or the target\'s, with `stap -r`), and this SystemTap must support that kernel version (a newer systemtap, or a patched runtime with `stap -R`)';
  }
  const insert = /Couldn't insert module '([^']*)': (.*)/.exec(stderr);
  if (insert) return `the kernel refused the probe module ${insert[1]} (${insert[2].trim()}): module loading must be allowed (CONFIG_MODULES, modules_disabled 0, no lockdown or Secure Boot rule that demands signed modules) and the module built for this exact kernel`;
  if (/uprobes?\b.*(not available|unavailable|failed|required)|CONFIG_UPROBES/i.test(stderr)) {
    return 'the kernel has no usable uprobes (user-space probes need CONFIG_UPROBES=y)';
  }
  const attach = /Cannot attach to module (\S+) control channel/.exec(stderr);
  if (attach) return `staprun could not reach the loaded module ${attach[1]}: its file name must be the module name stap built it with (-m NAME gives NAME.ko), and debugfs or /proc must be mounted`;
  return null;
}
