/**
 * Can a backend run on this host, and if not, why (and what to do)? Used by `ustack doctor`,
 * by backend 'auto' and by the stap backend to fail fast. Every answer comes from the host
 * itself: PATH, /proc, /sys, /lib/modules, the kernel config, the process credentials.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findSeparateDebugFile, openElfCached, type ElfFile } from '../elf';
import { missingDebugInfoText } from '../elf/debug-advice';
import { readKernelConfig } from './kernel-stub';

export interface BinaryDebugFacts {
  path: string;
  exists: boolean;
  /** .debug_info in the file itself. */
  dwarf: boolean;
  /** A separate debug file found by build-id or debuglink, or null. */
  separateDebugFile: string | null;
  /** A .symtab (not stripped): stap can place function probes by symbol even without DWARF. */
  symtab: boolean;
}

export interface StapDiagnosis {
  canRun: boolean;
  /** Why it cannot run, each with the fix. Empty when canRun. */
  reasons: string[];
  /** Things that do not stop stap but lose detail (no DWARF: no file:line). */
  warnings: string[];
  details: {
    stapPath: string | null;
    stapVersion: string | null;
    kernelRelease: string;
    /** /lib/modules/RELEASE/build when it exists. */
    kernelBuildDir: string | null;
    /** USTACK_STAP_MODULES: the folder of modules compiled elsewhere for this kernel, or null. */
    prebuiltModules: string | null;
    /** Where the kernel config was read from, or null. */
    kernelConfigSource: string | null;
    /** CONFIG_MODULES of the running kernel (null: config not readable). */
    configModules: boolean | null;
    configUprobes: boolean | null;
    procModulesExists: boolean;
    /** /proc/sys/kernel/modules_disabled (null: absent). */
    modulesDisabled: boolean | null;
    root: boolean;
    /** Which of stapusr/stapsys/stapdev this process is a member of. */
    stapGroups: string[];
    binary: BinaryDebugFacts | null;
  };
}

export interface PtraceDiagnosis {
  canRun: boolean;
  reasons: string[];
  warnings: string[];
  details: {
    platform: string;
    arch: string;
    /** /proc/sys/kernel/yama/ptrace_scope, or null when Yama is not built in. */
    yamaPtraceScope: number | null;
    /** CAP_SYS_PTRACE in this process's effective capabilities. */
    capSysPtrace: boolean;
    /** Seccomp mode from /proc/self/status: 0 none, 1 strict, 2 filter. */
    seccomp: number | null;
  };
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function statusField(name: string): string | null {
  const status = readOrNull('/proc/self/status') ?? '';
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status);
  return m ? m[1].trim() : null;
}

/** The first executable named `name` on PATH, or null. */
export function whichSync(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  return null;
}

function versionOf(stapPath: string): string | null {
  let text: string;
  try {
    text = execFileSync(stapPath, ['-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    text = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  return /version\s+([^\s,)]+)/.exec(text)?.[1] ?? null;
}

function configFlag(config: string | null, name: string): boolean | null {
  if (config === null) return null;
  if (new RegExp(`^${name}=[ym]$`, 'm').test(config)) return true;
  return false;
}

/** Names of the stap groups (stapusr, stapsys, stapdev) this process belongs to. */
function stapGroupMemberships(): string[] {
  const gids = new Set((statusField('Groups') ?? '').split(/\s+/).filter(Boolean).map(Number));
  const gidLine = statusField('Gid');
  if (gidLine) gids.add(Number(gidLine.split(/\s+/)[1]));
  const groups: string[] = [];
  for (const line of (readOrNull('/etc/group') ?? '').split('\n')) {
    const [name, , gid] = line.split(':');
    if (['stapusr', 'stapsys', 'stapdev'].includes(name) && gids.has(Number(gid))) groups.push(name);
  }
  return groups;
}

/** Debug facts of one binary: DWARF in the file, a separate debug file, a symbol table. */
export function binaryDebugFacts(binary: string): BinaryDebugFacts {
  const abs = path.resolve(binary);
  try {
    const elf = openElfCached(abs);
    let separate: string | null = null;
    try {
      separate = findSeparateDebugFile(elf);
    } catch {
      separate = null;
    }
    return { path: abs, exists: true, dwarf: elf.hasDebugInfo, separateDebugFile: separate, symtab: elf.hasSection('.symtab') };
  } catch {
    return { path: abs, exists: fs.existsSync(abs), dwarf: false, separateDebugFile: null, symtab: false };
  }
}

export async function diagnoseStap(binary?: string): Promise<StapDiagnosis> {
  return diagnoseStapSync(binary);
}

/** diagnoseStap without a promise, for places that must decide synchronously (test titles). */
export function diagnoseStapSync(binary?: string): StapDiagnosis {
  const reasons: string[] = [];
  const warnings: string[] = [];
  const release = os.release();
  const stapPath = whichSync('stap');
  // compile here, run there: prebuilt modules need staprun, not the translator or kernel headers
  const moduleDir = process.env.USTACK_STAP_MODULES ? path.resolve(process.env.USTACK_STAP_MODULES) : null;
  const staprunPath = whichSync('staprun');
  let stapVersion: string | null = null;
  if (stapPath) {
    stapVersion = versionOf(stapPath);
  } else if (moduleDir && staprunPath) {
    warnings.push(`stap is not installed: only the prebuilt modules in ${moduleDir} (USTACK_STAP_MODULES) can run, with ${staprunPath}`);
  } else {
    reasons.push('stap is not installed or not on PATH: install the systemtap package (apt-get install systemtap / dnf install systemtap)');
  }
  if (moduleDir && !staprunPath) reasons.push(`USTACK_STAP_MODULES is set but staprun is not on PATH: install systemtap-runtime`);

  const config = readKernelConfig(release);
  const kernelConfigSource = config === null ? null : fs.existsSync('/proc/config.gz') ? '/proc/config.gz' : `/boot/config-${release}`;
  const configModules = configFlag(config, 'CONFIG_MODULES');
  const configUprobes = configFlag(config, 'CONFIG_UPROBES');
  const procModulesExists = fs.existsSync('/proc/modules');
  const disabledText = readOrNull('/proc/sys/kernel/modules_disabled');
  const modulesDisabled = disabledText === null ? null : disabledText.trim() === '1';
  if (configModules === false) {
    reasons.push(`the running kernel (${release}) cannot load modules (CONFIG_MODULES is not set in ${kernelConfigSource}), and stap runs its probes as a kernel module: use the ptrace backend, or a kernel built with CONFIG_MODULES=y`);
  } else if (!procModulesExists) {
    reasons.push(`the running kernel (${release}) has no /proc/modules, so it cannot load modules, and stap runs its probes as a kernel module: use the ptrace backend`);
  } else if (modulesDisabled) {
    reasons.push('module loading is switched off (/proc/sys/kernel/modules_disabled is 1; it stays off until reboot): use the ptrace backend');
  }
  if (configUprobes === false) reasons.push(`the running kernel (${release}) has no uprobes (CONFIG_UPROBES is not set): stap cannot probe user-space functions`);

  const buildDir = `/lib/modules/${release}/build`;
  const kernelBuildDir = fs.existsSync(buildDir) ? buildDir : null;
  if (!kernelBuildDir && moduleDir) {
    warnings.push(`the kernel headers for ${release} are missing (${buildDir}): only the prebuilt modules in ${moduleDir} (USTACK_STAP_MODULES) can run`);
  } else if (!kernelBuildDir) {
    reasons.push(`the kernel headers for ${release} are missing (${buildDir} does not exist): install linux-headers-${release} (Debian/Ubuntu) or kernel-devel-${release} (Fedora/RHEL)`);
  }

  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const stapGroups = stapGroupMemberships();
  if (!root && !stapGroups.includes('stapdev') && !(stapGroups.includes('stapusr') && stapGroups.includes('stapsys'))) {
    if (stapGroups.includes('stapusr')) {
      warnings.push('this user is only in stapusr: stap can load modules only from /lib/modules/RELEASE/systemtap or as signed modules (stap-server); add the user to stapdev to compile scripts');
    } else {
      reasons.push('this user is not root and not in the stapusr/stapdev groups: run as root, or `usermod -aG stapusr,stapdev USER` and log in again');
    }
  }

  let facts: BinaryDebugFacts | null = null;
  if (binary !== undefined) {
    facts = binaryDebugFacts(binary);
    if (!facts.exists) reasons.push(`${facts.path} does not exist`);
    else if (!facts.dwarf && !facts.separateDebugFile && !facts.symtab) {
      let elf: ElfFile | null = null;
      try {
        elf = openElfCached(facts.path);
      } catch {
        elf = null;
      }
      reasons.push(elf ? missingDebugInfoText(elf, 'stap reports "semantic error: no match"') : `${facts.path} has no debug information and no symbol table (stap reports "semantic error: no match")`);
    } else if (!facts.dwarf && !facts.separateDebugFile) {
      warnings.push(`${facts.path} has no DWARF (only a symbol table): probes work by symbol name, file:line needs -g or its debug package`);
    }
  }

  return {
    canRun: reasons.length === 0,
    reasons,
    warnings,
    details: {
      stapPath,
      stapVersion,
      kernelRelease: release,
      kernelBuildDir,
      prebuiltModules: moduleDir,
      kernelConfigSource,
      configModules,
      configUprobes,
      procModulesExists,
      modulesDisabled,
      root,
      stapGroups,
      binary: facts,
    },
  };
}

const CAP_SYS_PTRACE = 19;

export async function diagnosePtrace(): Promise<PtraceDiagnosis> {
  const reasons: string[] = [];
  const warnings: string[] = [];
  const platform = process.platform;
  const arch = process.arch;
  if (platform !== 'linux' || arch !== 'x64') reasons.push(`the ptrace backend supports Linux x86-64 only (this is ${platform} ${arch})`);
  const scopeText = readOrNull('/proc/sys/kernel/yama/ptrace_scope');
  const yamaPtraceScope = scopeText === null ? null : Number(scopeText.trim());
  const capEff = statusField('CapEff');
  const capSysPtrace = capEff !== null && (BigInt('0x' + capEff) & (1n << BigInt(CAP_SYS_PTRACE))) !== 0n;
  const seccompText = statusField('Seccomp');
  const seccomp = seccompText === null ? null : Number(seccompText);
  if (yamaPtraceScope === 3) reasons.push('ptrace is switched off for everyone (/proc/sys/kernel/yama/ptrace_scope is 3; it stays off until reboot): use the stap backend');
  if (yamaPtraceScope === 2 && !capSysPtrace) {
    reasons.push('ptrace needs CAP_SYS_PTRACE here (/proc/sys/kernel/yama/ptrace_scope is 2): run as root, grant CAP_SYS_PTRACE (docker run --cap-add=SYS_PTRACE), or set ptrace_scope to 1');
  }
  if (seccomp === 1) reasons.push('this process runs in seccomp strict mode, which forbids ptrace');
  if (seccomp === 2) warnings.push('this process runs under a seccomp filter; if tracing fails with EPERM, allow ptrace in it (docker: --cap-add=SYS_PTRACE or --security-opt seccomp=unconfined)');
  return { canRun: reasons.length === 0, reasons, warnings, details: { platform, arch, yamaPtraceScope, capSysPtrace, seccomp } };
}
