/**
 * End to end: the stap backend really runs (passes 1-5) and its call paths equal the ptrace
 * backend's on the fixtures that the gdb-differential tests check: names frame by frame, order,
 * hit counts, frame 0 at the function's entry, exit status.
 *
 * Where stap can load its module on this host, the runs happen here. Elsewhere (this project's CI:
 * no module loading, no KVM) they happen in the stap lane: every probe module is compiled here for
 * the guest's kernel (compileStapModule, `stap -r HEADERS -p4`), ONE qemu guest (scripts/stap-lane.sh)
 * runs all of them through the same stap backend code with staprun (USTACK_STAP_MODULES), runs
 * `ustack doctor` and a Jest project with `@ustack-backend stap`, and writes the results into a
 * shared folder. Only where neither works are the tests reported skipped, with the reason.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Capture, Hit } from '../../src/capture/types';
import { expandHits, hitCount } from '../../src/capture/model';
import { joinCallPath, mergeCallPaths } from '../../src/callpath';
import { BackendUnavailableError } from '../../src/errors';
import { diagnoseStapSync, whichSync } from '../../src/stap/diagnose';
import { recordWithStap } from '../../src/stap/stap-backend';
import { compileStapModule } from '../../src/stap/stap-module';
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { buildFixture, buildWithLibrary } from '../helpers/fixtures';

const ROOT = path.resolve(__dirname, '..', '..');
const local = diagnoseStapSync();

interface Case {
  name: string;
  src: string;
  flags?: string[];
  libs?: string[];
  hooks: string[];
  /** The program's arguments (a function when they name a fixture built on first use). */
  args: string[] | (() => string[]);
  /** A fixture library (test/fixtures) built as a shared library and linked into the program. */
  library?: string;
  /** Threads interleave differently between runs: compare the merged paths as sets. */
  threaded?: boolean;
  maxFrames?: number;
  /** Lane only: staprun from test/stap/vm/slow-reader (its output read only after a pause). */
  slowReader?: boolean;
}

const SLOW_READER = path.join(ROOT, 'test', 'stap', 'vm', 'slow-reader');

const cases: Case[] = [
  { name: 'chain-O0', src: 'chain.c', hooks: ['leaf', 'mid', 'top'], args: ['5'] },
  { name: 'chain-O2', src: 'chain.c', flags: ['-O2', '-g', '-fomit-frame-pointer'], hooks: ['leaf', 'mid', 'top'], args: ['5'] },
  { name: 'threads', src: 'threads.c', libs: ['-lpthread'], hooks: ['leaf'], args: ['25'], threaded: true },
  { name: 'qsort-malloc', src: 'libc_calls.c', hooks: ['by_value', 'malloc@libc.so.6'], args: ['12'] },
  { name: 'fork', src: 'fork_exec.c', hooks: ['parent_work', 'child_work'], args: [] },
  { name: 'crash', src: 'crash_null.c', hooks: ['inner', 'middle'], args: [] },
  // scale is inlined into accumulate, itself inlined into run: a hook at an inline site, inline callers of leaf
  { name: 'inline-O2', src: 'src_inline.c', flags: ['-O2', '-g'], hooks: ['leaf', 'scale'], args: ['3'] },
  // apply.constprop.0, sum_pair.isra.0, validate + validate.cold
  { name: 'clones-O2', src: 'elf_clones.c', flags: ['-O2', '-g'], hooks: ['apply', 'sum_pair', 'validate'], args: [] },
  // `step` is the program's and its library's (and glibc's, never called): probed in every module, as ptrace hooks it
  { name: 'same-name', src: 'same_name.c', library: 'same_name_lib.c', hooks: ['step'], args: ['4'] },
  // ld.so's _dl_map_object: twice while it loads the program's libraries (before main), once for the dlopen
  { name: 'dynamic-linker', src: 'dlopen_host.c', libs: ['-ldl'], hooks: ['_dl_map_object'], args: () => [buildFixture('dlopen_plugin.c', { shared: true }), '1'] },
  // 153 frames: beyond stap's default MAXBACKTRACE and MAXSTRINGLEN
  { name: 'deep', src: 'deep.c', hooks: ['bottom'], args: ['150'], maxFrames: 200 },
  // 200 hits (about 200 KB of records, three times what a pipe holds) while stapio's reader is stuck
  // on a pipe nobody reads yet: stapio 4.8 stops its readers as soon as a -c command exits, and what
  // they had not read was lost (PR31597: a -c run kept 65 of 1500 hits and no counts); the backend
  // ends stap only after the program's end line has been read
  { name: 'slow-reader', src: 'chain.c', hooks: ['leaf', 'mid', 'top'], args: ['40'], slowReader: true },
];

const argsOf = (c: Case): string[] => (typeof c.args === 'function' ? c.args() : c.args);

const optionsOf = (c: Case) => ({ hooks: c.hooks, maxHits: 100000, ...(c.maxFrames ? { maxFrames: c.maxFrames } : {}) });
/** What the guest runs with: the slow-reader staprun first on PATH for that case. */
const guestOptionsOf = (c: Case) => ({ ...optionsOf(c), ...(c.slowReader ? { env: { PATH: `${SLOW_READER}:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` } } : {}) });

const binaryOf = (c: Case) => {
  const options = { flags: c.flags ?? ['-O0', '-g'], libs: c.libs, variant: `stap-${c.name}` };
  return c.library ? buildWithLibrary(c.src, c.library, options).binary : buildFixture(c.src, options);
};

/** The lane's folder when it is prepared and qemu is installed. */
function laneDir(): string | null {
  const dir = path.resolve(process.env.USTACK_STAP_LANE ?? path.join(ROOT, 'build', 'stap-lane'));
  return fs.existsSync(path.join(dir, 'initrd.gz')) && whichSync('qemu-system-x86_64') ? dir : null;
}

const lane = local.canRun ? null : laneDir();
const mode = local.canRun ? 'host' : lane ? 'lane' : 'none';

interface GuestResult {
  ok: boolean;
  capture?: Capture;
  stdout?: string;
  error?: { name: string; code: string | null; message: string };
}

function run(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Runs `jobs` with at most `limit` at a time. */
async function inBatches<T>(items: T[], limit: number, job: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: limit }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await job(item);
  }));
}

const PROJECT_HOOKS = ['leaf', 'mid'];

/** Lane: compile every module here, boot one guest that runs them all, collect what it wrote. */
async function runLane(dir: string): Promise<{ job: string; results: Map<string, GuestResult> }> {
  const release = fs.readFileSync(path.join(dir, 'kernel-release'), 'utf8').trim();
  const target = {
    kernelBuildDir: path.join(dir, 'kernel', 'usr', 'src', `linux-headers-${release}`),
    runtimeDir: path.join(dir, 'runtime'),
    outDir: path.join(dir, 'modules'), // kept between runs: a module is named by a hash of its script
  };
  const job = path.join(dir, 'job');
  fs.rmSync(job, { recursive: true, force: true });
  fs.mkdirSync(job, { recursive: true });

  // the Jest project the guest runs, at a stable path so that its module is reused next time
  const project = path.join(job, 'project');
  fs.cpSync(path.join(ROOT, 'test', 'e2e', 'projects', 'stap_backend'), project, { recursive: true });
  fs.mkdirSync(path.join(project, 'node_modules'), { recursive: true });
  fs.symlinkSync(ROOT, path.join(project, 'node_modules', 'jest-ustack'), 'dir');
  fs.mkdirSync(path.join(project, 'build'));
  const projectBinary = path.join(project, 'build', 'chain');
  fs.copyFileSync(buildFixture('chain.c', { variant: 'stap-project' }), projectBinary);
  fs.chmodSync(projectBinary, 0o755);

  const compiles: Array<() => Promise<unknown>> = [
    ...cases.map((c) => () => compileStapModule(binaryOf(c), optionsOf(c), target)),
    // the Jest project's module through the CLI: what the environment will ask for (the test's hooks, no limits)
    async () => {
      const cli = await run(process.execPath, [
        path.join(ROOT, 'dist', 'cli.js'), 'stap-compile', '--kernel', target.kernelBuildDir, '--runtime', target.runtimeDir, '--out', target.outDir,
        ...PROJECT_HOOKS.flatMap((h) => ['--hook', h]), '--', projectBinary,
      ]);
      if (cli.code !== 0 || !fs.existsSync(cli.stdout.trim())) throw new Error(`ustack stap-compile failed (${cli.code}): ${cli.stderr}`);
    },
  ];
  await inBatches(compiles, 2, (compile) => compile().then(() => undefined));

  const runs = [
    ...cases.map((c) => ({ name: c.name, argv: [binaryOf(c), ...argsOf(c)], options: guestOptionsOf(c) })),
    // no module was compiled for these hooks, and the guest has no headers to compile one
    { name: 'no-module', argv: [binaryOf(cases[0]), '1'], options: { hooks: ['top'], maxHits: 7 } },
  ];
  fs.writeFileSync(path.join(job, 'runs.json'), JSON.stringify(runs, null, 2));
  const node = process.execPath;
  fs.writeFileSync(
    path.join(job, 'job.sh'),
    [
      'set -x',
      `export USTACK_STAP_MODULES='${target.outDir}'`,
      `'${node}' '${path.join(ROOT, 'test', 'stap', 'vm', 'guest-job.js')}' '${job}'`,
      `'${node}' '${path.join(ROOT, 'dist', 'cli.js')}' doctor >doctor.txt 2>&1; echo $? >doctor.rc`,
      `cd project && '${node}' '${path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js')}' --rootDir . --ci --no-cache -i --json --outputFile=../jest.json >../jest.out 2>&1; echo $? >../jest.rc`,
      '',
    ].join('\n'),
  );
  const boot = await run('bash', [path.join(ROOT, 'scripts', 'stap-lane.sh'), 'boot', dir, job], { timeout: 20 * 60 * 1000 });
  const results = new Map<string, GuestResult>();
  for (const c of [...cases, { name: 'no-module' }]) {
    const file = path.join(job, 'captures', `${c.name}.json`);
    if (fs.existsSync(file)) results.set(c.name, JSON.parse(fs.readFileSync(file, 'utf8')) as GuestResult);
  }
  if (!results.size) {
    const log = (f: string) => (fs.existsSync(path.join(job, f)) ? fs.readFileSync(path.join(job, f), 'utf8').slice(-4000) : '(none)');
    throw new Error(`the stap lane's guest wrote no captures (boot exit ${boot.code}).\n${boot.stderr}\njob.log:\n${log('job.log')}\nconsole:\n${log('console.log')}`);
  }
  return { job, results };
}

/** Frame names of a hit up to main (or the end of the stack). */
function names(hit: Hit): string[] {
  const out: string[] = [];
  for (const f of hit.frames) {
    out.push(f.symbol ?? '??');
    if (f.symbol === 'main') break;
  }
  return out;
}

const merged = (capture: Capture) => mergeCallPaths(capture.stacks).map((m) => `${m.hook}: ${joinCallPath(m.path)} x${m.count}`);
const countsByHook = (capture: Capture) => Object.fromEntries(capture.hooks.map((h) => [h.spec, hitCount(capture, h.spec)]));

afterAll(() => shutdownTracer());

if (mode === 'none') {
  const why = `stap cannot run here (${local.reasons.join('; ')}) and the stap lane is not prepared (run scripts/stap-lane.sh prepare; needs qemu-system-x86)`;
  describe('stap end to end', () => {
    for (const c of cases) test.skip(`${c.name}: call paths under stap vs ptrace — skipped: ${why}`, () => undefined);
  });
} else {
  describe(`call paths under stap equal those under ptrace (${mode === 'host' ? 'stap on this host' : 'stap lane: modules compiled here, run in a qemu guest'})`, () => {
    let lanes: { job: string; results: Map<string, GuestResult> } | null = null;
    beforeAll(async () => {
      for (const c of cases) binaryOf(c);
      if (lane) lanes = await runLane(lane);
    }, 25 * 60 * 1000);

    async function stapCapture(c: Case): Promise<Capture> {
      if (!lanes) return (await recordWithStap([binaryOf(c), ...argsOf(c)], optionsOf(c))).capture;
      const r = lanes.results.get(c.name);
      if (!r) throw new Error(`the guest wrote no result for ${c.name}`);
      if (!r.ok) throw new Error(`stap run of ${c.name} failed in the guest: ${r.error?.code}: ${r.error?.message}`);
      return r.capture!;
    }

    test.each(cases)('$name', async (c) => {
      const viaStap = await stapCapture(c);
      const { capture: viaPtrace } = await recordWithPtrace([binaryOf(c), ...argsOf(c)], optionsOf(c));
      expect(viaStap.backend).toBe('stap');
      expect(expandHits(viaStap).length).toBeGreaterThan(0);
      expect(viaStap.exit).toEqual(viaPtrace.exit);
      // every record and the counts arrived: the program's end line was read before stap was ended
      expect((viaStap.warnings ?? []).filter((w) => /did not reach the end of the program/.test(w))).toEqual([]);
      if (c.slowReader && (viaStap.warnings ?? []).some((w) => /There were \d+ transport failures/.test(w))) {
        // the starved reader can also overflow stap's transport while the program runs (seen once, on a
        // machine running two CI jobs beside busy loops): stap says so, and the capture counts every
        // hit (from the script's own counters) and says how many records it lacks
        const recorded = expandHits(viaStap).length;
        expect(viaStap.stats.hits).toBe(expandHits(viaPtrace).length);
        expect(viaStap.stats.dropped).toBe(viaStap.stats.hits - recorded);
        expect(viaStap.stats.dropped).toBeGreaterThan(0);
        const ptracePaths = new Set(expandHits(viaPtrace).map((h) => `${h.hook}: ${names(h).join(' < ')}`));
        for (const h of expandHits(viaStap)) expect(ptracePaths).toContain(`${h.hook}: ${names(h).join(' < ')}`);
        return;
      }
      expect(countsByHook(viaStap)).toEqual(countsByHook(viaPtrace));
      expect(viaStap.stats.dropped).toBe(0);
      // stap's probes sit at the function entry, like ptrace's breakpoints
      const frame0 = (capture: Capture) => [...new Set(expandHits(capture).map((h) => `${h.hook}: ${h.frames[0].symbol}+${h.frames[0].symbolOffset}`))].sort();
      expect(frame0(viaStap)).toEqual(frame0(viaPtrace));
      for (const h of expandHits(viaStap)) if (!h.frames[0].inlined) expect(h.frames[0].symbolOffset).toBe(0);
      // a name in two modules: stap hit it in both, where the ptrace backend did
      if (c.library) {
        const modulesHit = (capture: Capture) => new Set(expandHits(capture).map((h) => h.frames[0].module));
        expect(modulesHit(viaPtrace).size).toBe(2);
        expect(modulesHit(viaStap)).toEqual(modulesHit(viaPtrace));
      }
      if (c.maxFrames) expect(expandHits(viaStap).map((h) => h.frames.length)).toEqual(expandHits(viaPtrace).map((h) => h.frames.length));
      if (c.threaded) {
        expect(merged(viaStap).sort()).toEqual(merged(viaPtrace).sort());
        expect(new Set(expandHits(viaStap).map((h) => h.tid)).size).toBe(new Set(expandHits(viaPtrace).map((h) => h.tid)).size);
      } else {
        expect(merged(viaStap)).toEqual(merged(viaPtrace));
        expect(expandHits(viaStap).map((h) => `${h.hook}: ${names(h).join(' < ')}`)).toEqual(expandHits(viaPtrace).map((h) => `${h.hook}: ${names(h).join(' < ')}`));
      }
    });

    if (lane) {
      test('ustack doctor inside the guest says stap can run', () => {
        const text = fs.readFileSync(path.join(lanes!.job, 'doctor.txt'), 'utf8');
        expect(text).toMatch(/^stap: can run$/m);
        expect(text).toContain('prebuilt modules');
        expect(fs.readFileSync(path.join(lanes!.job, 'doctor.rc'), 'utf8').trim()).toBe('0');
      });

      test('without headers and without a prebuilt module for the run, the error says which module to build', () => {
        const r = lanes!.results.get('no-module');
        expect(r?.ok).toBe(false);
        expect(r?.error).toMatchObject({ name: 'StapModuleMissingError', code: 'USTACK_STAP_NO_MODULE' });
        const release = fs.readFileSync(path.join(lane!, 'kernel-release'), 'utf8').trim();
        expect(r?.error?.message).toMatch(/modules\/ustack_[0-9a-f]{24}\.ko does not exist/);
        expect(r?.error?.message).toContain(`headers of kernel ${release}`);
      });

      test('a Jest project with @ustack-backend stap passes inside the guest', () => {
        const out = fs.readFileSync(path.join(lanes!.job, 'jest.out'), 'utf8');
        const report = JSON.parse(fs.readFileSync(path.join(lanes!.job, 'jest.json'), 'utf8')) as { numPassedTests: number; numFailedTests: number; numTotalTests: number };
        expect({ passed: report.numPassedTests, failed: report.numFailedTests, output: report.numFailedTests ? out : '' }).toEqual({ passed: 1, failed: 0, output: '' });
        expect(fs.readFileSync(path.join(lanes!.job, 'jest.rc'), 'utf8').trim()).toBe('0');
      });
    }
  });
}

if (!local.canRun) {
  test("on this host (no module loading) recordWithStap fails at once with doctor's reason and exit code 2", async () => {
    const binary = buildFixture('chain.c', { variant: 'stap-e2e' });
    const err = await recordWithStap([binary, '1'], { hooks: ['leaf'] }).catch((e) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(local.reasons[0]);
  });
}
