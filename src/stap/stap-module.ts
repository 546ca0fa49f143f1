/**
 * Compile here, run there: the probe module for one traced run is built on a machine with a
 * compiler and the target kernel's headers (`stap -r HEADERS -p4`), and run on the target with
 * `staprun` only (no compiler, no headers). A folder of such modules is named by
 * USTACK_STAP_MODULES on the target; each module's name is a hash of its script, stap's limits
 * and the kernel release, so the run side finds the module that matches its own plan.
 */
import { stapDebugInfo } from './stap-debuginfo';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RecordOptions } from '../record-options';
import { UsageError } from '../errors';
import { planStapScript, programBuilds, StapScriptPlan, STAP_PLACEMENT, stapLimitDefines, stapProbeOptions } from './script';
import { classifyStapFailure } from './stap-messages';

/** The folder of prebuilt modules named by USTACK_STAP_MODULES, or null. */
export function prebuiltModuleDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = env.USTACK_STAP_MODULES;
  return dir ? path.resolve(dir) : null;
}

/** Kernel release (`uname -r`) a kernel build tree builds modules for: its UTS_RELEASE. */
export function kernelReleaseOf(kernelBuildDir: string): string {
  // include/config/kernel.release can hold the upstream version instead (Debian: "6.1.192" for 6.1.0-57-amd64)
  const uts = path.join(kernelBuildDir, 'include', 'generated', 'utsrelease.h');
  try {
    const m = /#define UTS_RELEASE "([^"]+)"/.exec(fs.readFileSync(uts, 'utf8'));
    if (m) return m[1];
  } catch {
    /* fall through */
  }
  const file = path.join(kernelBuildDir, 'include', 'config', 'kernel.release');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    throw new UsageError(`${kernelBuildDir} is not a kernel build tree (no ${uts}): pass the headers folder of the target kernel, e.g. /usr/src/linux-headers-RELEASE.`);
  }
}

/** The module name for a plan and the program it was built for: valid as a C identifier and under the kernel's 56-character limit. */
export function stapModuleName(binary: string, plan: StapScriptPlan, maxFrames: number, release: string): string {
  // the module checks the build-ids it was compiled against: a rebuilt program needs a new module
  const builds = programBuilds(binary, plan);
  const key = createHash('sha256')
    .update(JSON.stringify([plan.script, stapLimitDefines(maxFrames), STAP_PLACEMENT, plan.libraries, release, builds]))
    .digest('hex')
    .slice(0, 24);
  return `ustack_${key}`;
}

/** What one traced run needs from the script plan, for both sides. */
export function planForRun(binary: string, options: RecordOptions): { plan: StapScriptPlan; maxFrames: number } {
  const maxFrames = options.maxFrames ?? 64;
  const plan = planStapScript(binary, options.hooks, { maxFrames, maxHits: options.maxHits, followChildren: options.followChildren });
  return { plan, maxFrames };
}

export interface CompileTarget {
  /** Headers of the target kernel (`stap -r`). */
  kernelBuildDir: string;
  /** A patched copy of stap's runtime (`stap -R`), when the stock one does not build for that kernel. */
  runtimeDir?: string;
  /** Where the module goes; this is the folder to name in USTACK_STAP_MODULES on the target. */
  outDir: string;
}

export interface CompiledModule {
  module: string;
  name: string;
  plan: StapScriptPlan;
  /** stap's stderr (warnings). */
  stderr: string;
}

/**
 * Builds the module `recordWithStap(argv, options)` will look for on the target kernel. `binary`
 * is the program's absolute path, the same on both machines. Reuses a module that exists.
 */
export async function compileStapModule(binary: string, options: RecordOptions, target: CompileTarget): Promise<CompiledModule> {
  // the debug files a run would hand stap (stap-debuginfo.ts)
  const debug = await stapDebugInfo(binary, [], { ...process.env, ...(options.env ?? {}) }, options.debugDirs);
  try {
    return await compileWith(binary, options, target, debug.env);
  } finally {
    debug.cleanup();
  }
}

function compileWith(binary: string, options: RecordOptions, target: CompileTarget, debugEnv: Record<string, string>): Promise<CompiledModule> {
  const { plan, maxFrames } = planForRun(binary, options);
  const name = stapModuleName(binary, plan, maxFrames, kernelReleaseOf(target.kernelBuildDir));
  fs.mkdirSync(target.outDir, { recursive: true });
  const module = path.join(target.outDir, `${name}.ko`);
  if (fs.existsSync(module)) return Promise.resolve({ module, name, plan, stderr: '' });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-stapc-'));
  const script = path.join(work, 'hooks.stp');
  fs.writeFileSync(script, plan.script);
  const args = [
    ...(target.runtimeDir ? ['-R', target.runtimeDir] : []),
    '-r',
    target.kernelBuildDir,
    '-p4',
    '-m',
    name,
    ...stapProbeOptions(binary, plan, maxFrames),
    script,
  ];
  return new Promise((resolve, reject) => {
    execFile('stap', args, { cwd: work, encoding: 'utf8', maxBuffer: 256 << 20, timeout: 20 * 60 * 1000, env: { ...process.env, ...debugEnv } }, (err, _stdout, stderr) => {
      const built = path.join(work, `${name}.ko`);
      if (err || !fs.existsSync(built)) {
        fs.rmSync(work, { recursive: true, force: true });
        reject(classifyStapFailure(stderr ?? '', plan, binary));
        return;
      }
      fs.copyFileSync(built, `${module}.tmp`);
      fs.renameSync(`${module}.tmp`, module);
      fs.rmSync(work, { recursive: true, force: true });
      resolve({ module, name, plan, stderr: stderr ?? '' });
    });
  });
}
