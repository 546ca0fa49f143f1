/**
 * Hook specs (README "Hook specs") -> SystemTap probe points. `func` (or a glob) is probed in
 * every module where the shared resolver (symbolize/hook-resolver.ts, gdb's `break F` rule, the
 * ptrace backend's too) finds it: the executable and each library that defines it. A name the
 * resolver finds nowhere keeps stap's `!` alternatives (executable first, then each library), so
 * stap's own search and its error message decide. `func@lib` names one library by basename or
 * path; globs pass through as stap wildcards.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openElfCached } from '../elf';
import { InvalidHookError } from '../errors';
import { demangle } from '../symbolize/demangle';
import { hookModule, moduleMatches, planHook, type HookTarget } from '../symbolize/hook-resolver';
import { isGlob, parseHookSpec as parseResolverSpec } from '../symbolize/hook-spec';
import { isSystemLibrary } from '../symbolize/system-libraries';

export interface ParsedHook {
  spec: string;
  func: string;
  /** The `@module` part, or null. */
  module: string | null;
}

export function parseHookSpec(spec: string): ParsedHook {
  const trimmed = spec.trim();
  if (!trimmed) throw new InvalidHookError(spec, 'the spec is empty');
  const at = trimmed.lastIndexOf('@');
  const func = at >= 0 ? trimmed.slice(0, at) : trimmed;
  const module = at >= 0 ? trimmed.slice(at + 1) : null;
  if (!func) throw new InvalidHookError(spec, 'the function name before "@" is empty');
  if (module === '') throw new InvalidHookError(spec, 'the module name after "@" is empty');
  if (/["\\\n]/.test(func)) throw new InvalidHookError(spec, 'function names cannot contain quotes, backslashes or newlines');
  return { spec, func, module };
}

/** Shared libraries the dynamic loader would map for `binary`, as absolute real paths (from `ldd`). */
export function sharedLibrariesOf(binary: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return []; // static executables make ldd exit 1 ("not a dynamic executable")
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)\s+\(0x/.exec(line) ?? /^\s+(\/\S+)\s+\(0x/.exec(line);
    if (!m) continue;
    const real = realpath(m[1]);
    if (!libs.includes(real) && !/\/ld-linux[^/]*$/.test(real)) libs.push(real);
  }
  return libs;
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** Quotes a string as a SystemTap string literal. */
export function stapString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The library `module` names (basename like "libc.so.6", or a path), or null. */
export function findLibrary(module: string, libraries: string[]): string | null {
  if (module.includes('/')) {
    const real = realpath(path.resolve(module));
    return libraries.find((l) => l === real) ?? (fs.existsSync(real) ? real : null);
  }
  return (
    libraries.find((l) => path.basename(l) === module) ??
    // "libc" or "libc.so" for "libc.so.6"
    libraries.find((l) => path.basename(l).startsWith(module.endsWith('.so') ? module : `${module}.so`)) ??
    null
  );
}

export interface HookProbe {
  hook: ParsedHook;
  /** The probe points: every one is probed (joined with `, `), or with `alternatives` the first that resolves (` !, `). */
  points: string[];
  alternatives: boolean;
  /** Libraries this probe needs symbol data for (`-d LIB`). */
  libraries: string[];
  /** The locations the shared resolver found for a plain name or glob (empty: stap's own search decides). */
  locations: HookTarget[];
}

/** Probe points for one hook. `libraries` are the binary's shared libraries (absolute, real paths). */
export function probePointsFor(binary: string, hook: ParsedHook, libraries: string[]): HookProbe {
  const proc = `process(${stapString(binary)})`;
  // no `.call`: inlined copies are probed too, as ptrace's hooks and gdb's `break` do
  const fn = `.function(${stapString(hook.func)})`;
  const pointIn = (module: string) => (module === binary ? `${proc}${fn}` : `${proc}.library(${stapString(module)})${fn}`);
  // the dynamic linker too, as the ptrace backend (ld.so's _dl_map_object, its private memcpy)
  const modules = [binary, ...libraries, ...interpreterOf(binary, libraries)];
  if (hook.module !== null && isGlob(hook.module)) {
    // `parse_*@*`, `f@lib*.so*`: the modules the glob names, the system libraries included, through the shared resolver
    const named = modules.filter((m) => moduleMatches(hook.module!, m));
    const locations = resolverLocations(modules, hook).filter((l) => named.includes(l.module));
    const found = named.filter((m) => locations.some((l) => l.module === m));
    if (!found.length) throw new InvalidHookError(hook.spec, `no module matching "${hook.module}" defines ${hook.func} (modules: ${modules.map((m) => path.basename(m)).join(', ')})`);
    return { hook, points: found.map(pointIn), alternatives: false, libraries: found.filter((m) => m !== binary), locations };
  }
  if (hook.module !== null) {
    const base = path.basename(hook.module);
    if (hook.module === binary || base === path.basename(binary)) return { hook, points: [`${proc}${fn}`], alternatives: false, libraries: [], locations: [] };
    const lib = findLibrary(hook.module, libraries);
    if (!lib) {
      throw new InvalidHookError(
        hook.spec,
        `"${hook.module}" is not a library ${path.basename(binary)} loads (it loads: ${libraries.map((l) => path.basename(l)).join(', ') || 'none'})`,
      );
    }
    return { hook, points: [`${proc}.library(${stapString(lib)})${fn}`], alternatives: false, libraries: [lib], locations: [] };
  }
  const locations = resolverLocations(modules, hook);
  const found = modules.filter((m) => locations.some((l) => l.module === m));
  if (found.length) return { hook, points: found.map(pointIn), alternatives: false, libraries: found.filter((m) => m !== binary), locations };
  // a glob stays in the program's own code (README "Hook specs"), also when stap's own search decides
  const searched = isGlob(hook.func) ? [binary, ...libraries.filter((l) => !isSystemLibrary(l))] : [binary, ...libraries];
  return { hook, points: searched.map(pointIn), alternatives: true, libraries: [], locations: [] };
}

/** The program's dynamic linker (PT_INTERP, real path) when it is not among `libraries`; none for a static program. */
function interpreterOf(binary: string, libraries: string[]): string[] {
  try {
    const interp = openElfCached(binary).interpreter;
    const real = interp ? realpath(interp) : null;
    return real && !libraries.includes(real) && fs.existsSync(real) ? [real] : [];
  } catch {
    return [];
  }
}

/** Where the ptrace backend would hook a plain name or glob among these modules (the executable first); empty when it finds none or cannot read them. */
function resolverLocations(paths: string[], hook: ParsedHook): HookTarget[] {
  try {
    const modules = paths.map((m, i) => hookModule(m, openElfCached(m), i === 0));
    return planHook(parseResolverSpec(hook.module !== null ? `${hook.func}@${hook.module}` : hook.func), modules, demangle).locations;
  } catch {
    return []; // not an ELF file we can read: stap's own error says what is wrong
  }
}
