/**
 * The real stap translator checks every generated script against the fixtures' real DWARF:
 * `stap -r STUB -p2` (probe resolution) and `-p3` (C generation), where STUB is the
 * kernel-build stub. Passes 4-5 (build and load a module) are not run here.
 * The probes stap resolves are compared with nm's symbol addresses.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NoDebugInfoError, UnknownHookError, InvalidHookError } from '../../src/errors';
import { sharedLibrariesOf } from '../../src/stap/hook-probes';
import { createKernelBuildStub } from '../../src/stap/kernel-stub';
import { RECORD_MARKER, planStapScript } from '../../src/stap/script';
import { translateStapScript } from '../../src/stap/stap-backend';
import { whichSync } from '../../src/stap/diagnose';
import { buildFixture, buildWithLibrary } from '../helpers/fixtures';

const stapMissing = whichSync('stap') === null;
const describeStap = stapMissing ? describe.skip : describe;
const why = stapMissing ? ' (skipped: stap is not installed; apt-get install systemtap)' : '';

/** Resolved probes from `stap -p2` output: module, function, link-time pc. */
function resolvedProbes(p2: string): Array<{ module: string; func: string; pc: number }> {
  const out: Array<{ module: string; func: string; pc: number }> = [];
  for (const m of p2.matchAll(/^process\("([^"]+)"\)(?:\.library\("[^"]+"\))?\.function\("([^@"]+)[^"]*"\)(?:\.call|\.inline)?[!?]? \/\* pc=\.dynamic\+0x([0-9a-f]+) \*\//gm)) {
    out.push({ module: m[1], func: m[2], pc: parseInt(m[3], 16) });
  }
  return out;
}

function nmFunctions(binary: string, dynamic = false): Map<string, { address: number; size: number }> {
  const out = execFileSync('nm', [...(dynamic ? ['-D'] : []), '-S', '--defined-only', binary], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const map = new Map<string, { address: number; size: number }>();
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) [tTiW] (\S+?)(@.*)?$/.exec(line);
    if (m && !map.has(m[3])) map.set(m[3], { address: parseInt(m[1], 16), size: parseInt(m[2], 16) });
  }
  return map;
}

function expectProbeInside(probe: { pc: number }, sym: { address: number; size: number } | undefined) {
  expect(sym).toBeDefined();
  // --prologue-searching=never: the probe sits at the entry, where ptrace's breakpoint and gdb's `break *F` are
  expect(probe.pc).toBe(sym!.address);
}

describeStap(`generated scripts pass the stap translator (stap -p2/-p3 with a kernel-build stub)${why}`, () => {
  let stub: string;
  beforeAll(() => {
    stub = createKernelBuildStub(fs.mkdtempSync(path.join(os.tmpdir(), 'stap-stub-test-')));
  });

  test('the stub holds .config, an empty Module.symvers and the kernel release', () => {
    expect(fs.readFileSync(path.join(stub, '.config'), 'utf8')).toMatch(/^CONFIG_/m);
    expect(fs.statSync(path.join(stub, 'Module.symvers')).size).toBe(0);
    expect(fs.readFileSync(path.join(stub, 'include/config/kernel.release'), 'utf8').trim()).toBe(os.release());
  });

  const variants: Array<{ name: string; src: string; flags?: string[]; libs?: string[]; hooks: string[]; expect: Array<[string, string]> }> = [
    { name: 'chain -O0', src: 'chain.c', hooks: ['leaf', 'mid', 'top'], expect: [['leaf', 'exe'], ['mid', 'exe'], ['top', 'exe']] },
    {
      name: 'chain -O2 -fomit-frame-pointer',
      src: 'chain.c',
      flags: ['-O2', '-g', '-fomit-frame-pointer'],
      hooks: ['leaf', 'mid'],
      expect: [['leaf', 'exe'], ['mid', 'exe']],
    },
    { name: 'threads', src: 'threads.c', libs: ['-lpthread'], hooks: ['leaf', 'step'], expect: [['leaf', 'exe'], ['step', 'exe']] },
    {
      name: 'libc_calls with libc hooks',
      src: 'libc_calls.c',
      hooks: ['malloc@libc.so.6', 'qsort', 'by_value'],
      expect: [['malloc', 'libc'], ['qsort', 'libc'], ['by_value', 'exe']],
    },
    { name: 'globs', src: 'libc_calls.c', hooks: ['*_items', 'by_*'], expect: [['make_items', 'exe'], ['sort_items', 'exe'], ['by_value', 'exe']] },
  ];

  describe.each(variants)('$name', (v) => {
    const binary = buildFixture(v.src, { flags: v.flags ?? ['-O0', '-g'], libs: v.libs, variant: 'stap' });
    const plan = planStapScript(binary, v.hooks, { maxFrames: 64, maxHits: 100 });

    test('pass 2 resolves every hook where nm says the function is', async () => {
      const { stdout } = await translateStapScript(binary, plan, { pass: 2, kernelBuildDir: stub });
      const probes = resolvedProbes(stdout);
      const exeSyms = nmFunctions(binary);
      const libc = sharedLibrariesOf(binary).find((l) => /libc\.so/.test(l))!;
      for (const [func, where] of v.expect) {
        const probe = probes.find((p) => p.func === func || (where === 'libc' && p.module === libc && nmFunctions(libc, true).get(func)?.address === nmFunctions(libc, true).get(p.func)?.address));
        expect(probe).toBeDefined();
        if (where === 'exe') {
          expect(probe!.module).toBe(binary);
          expectProbeInside(probe!, exeSyms.get(func));
        } else {
          expect(probe!.module).toBe(libc);
          expectProbeInside(probe!, nmFunctions(libc, true).get(func));
        }
      }
    });

    test('pass 3 generates the module source', async () => {
      const { stdout } = await translateStapScript(binary, plan, { pass: 3, kernelBuildDir: stub, maxFrames: 128 });
      // the C of our record printf statements, of ubacktrace() and of umodname()
      expect(stdout).toContain(`${RECORD_MARKER}\\tH`);
      expect(stdout).toContain('_stp_stack_user_sprint');
      expect(stdout).toContain('_stp_umod_lookup');
    });
  });

  test("a plain name is probed in every module that defines it, as the ptrace backend and gdb's `break` hook it", async () => {
    // `step`: the program's, the fixture library's and glibc's old regexp.h step
    const { binary, library } = buildWithLibrary('same_name.c', 'same_name_lib.c', { variant: 'stap' });
    const libc = sharedLibrariesOf(binary).find((l) => /libc\.so/.test(l))!;
    const plan = planStapScript(binary, ['step'], { maxFrames: 16 });
    expect(plan.probes[0].alternatives).toBe(false);
    expect(plan.script).not.toContain(' !, ');
    expect(plan.probes[0].locations.map((l) => l.module)).toEqual([binary, library, libc]);
    const { stdout } = await translateStapScript(binary, plan, { pass: 2, kernelBuildDir: stub });
    const probes = resolvedProbes(stdout).filter((p) => p.func === 'step');
    expect(probes.map((p) => p.module).sort()).toEqual([binary, library, libc].sort());
    for (const [module, symbols] of [[binary, nmFunctions(binary)], [library, nmFunctions(library)], [libc, nmFunctions(libc, true)]] as const) {
      expectProbeInside(probes.find((p) => p.module === module)!, symbols.get('step'));
    }
  });

  test("a function of the dynamic linker is probed in ld.so, as the ptrace backend hooks it", async () => {
    const binary = buildFixture('dlopen_host.c', { libs: ['-ldl'], variant: 'stap' });
    const ld = fs.realpathSync('/lib64/ld-linux-x86-64.so.2');
    const plan = planStapScript(binary, ['_dl_map_object'], { maxFrames: 16 });
    expect(plan.probes[0].locations.map((l) => l.module)).toEqual([ld]);
    const { stdout } = await translateStapScript(binary, plan, { pass: 2, kernelBuildDir: stub });
    const probe = resolvedProbes(stdout).find((p) => p.func === '_dl_map_object');
    expect(probe?.module).toBe(ld);
    expect(probe!.pc).toBe(plan.probes[0].locations[0].address);
  });

  test("a name the shared resolver finds nowhere keeps stap's alternatives, so stap's search and error decide", () => {
    const binary = buildFixture('chain.c', { variant: 'stap' });
    const plan = planStapScript(binary, ['lefa'], { maxFrames: 16 });
    expect(plan.probes[0].alternatives).toBe(true);
    expect(plan.script).toContain(' !, ');
  });

  test('an unknown function is our UnknownHookError with near names', async () => {
    const binary = buildFixture('chain.c', { variant: 'stap' });
    const plan = planStapScript(binary, ['leaf', 'lefa'], { maxFrames: 16 });
    const err = await translateStapScript(binary, plan, { pass: 2, kernelBuildDir: stub }).catch((e) => e);
    expect(err).toBeInstanceOf(UnknownHookError);
    expect(err.code).toBe('USTACK_UNKNOWN_HOOK');
    expect(err.message).toContain('"lefa"');
    expect((err as UnknownHookError).suggestions).toContain('leaf');
  });

  test('an unknown function in a named library is our UnknownHookError', async () => {
    const binary = buildFixture('libc_calls.c', { variant: 'stap' });
    const plan = planStapScript(binary, ['mallok@libc.so.6'], { maxFrames: 16 });
    const err = await translateStapScript(binary, plan, { pass: 2, kernelBuildDir: stub }).catch((e) => e);
    expect(err).toBeInstanceOf(UnknownHookError);
    expect(err.message).toContain('libc.so.6');
    expect((err as UnknownHookError).suggestions).toContain('malloc');
  });

  test('a library the program does not load is an InvalidHookError before stap runs', () => {
    const binary = buildFixture('chain.c', { variant: 'stap' });
    expect(() => planStapScript(binary, ['inflate@libz.so.1'], { maxFrames: 16 })).toThrow(InvalidHookError);
  });

  test('a stripped binary is the NoDebugInfoError naming the fix (the seed\'s "semantic error: no match")', async () => {
    const built = buildFixture('chain.c', { variant: 'stap' });
    const stripped = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'stap-stripped-')), 'chain-stripped');
    execFileSync('strip', ['-o', stripped, built]);
    const plan = planStapScript(stripped, ['leaf'], { maxFrames: 16 });
    const err = await translateStapScript(stripped, plan, { pass: 2, kernelBuildDir: stub }).catch((e) => e);
    expect(err).toBeInstanceOf(NoDebugInfoError);
    expect(err.code).toBe('USTACK_NO_DEBUGINFO');
    expect(err.message).toContain(stripped);
    expect(err.message).toMatch(/-g/);
    expect(err.message).toMatch(/dbgsym|debuginfo/);
  });

  test('a binary built without -g but not stripped still resolves by symbol table', async () => {
    const binary = buildFixture('chain.c', { flags: ['-O0'], variant: 'stap-nog' });
    const plan = planStapScript(binary, ['leaf'], { maxFrames: 16 });
    const { stdout, stderr } = await translateStapScript(binary, plan, { pass: 2, kernelBuildDir: stub });
    expect(stderr).toMatch(/cannot find module .* debuginfo/);
    expectProbeInside(resolvedProbes(stdout)[0], nmFunctions(binary).get('leaf'));
  });
});
