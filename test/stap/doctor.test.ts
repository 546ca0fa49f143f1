/**
 * `ustack doctor` tells the truth about this host: every fact is read again here, independently,
 * from /proc, the kernel config, /lib/modules and PATH, and the diagnosis must agree with it.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { diagnosePtrace, diagnoseStap } from '../../src/stap/diagnose';
import { doctorReport, formatDoctorReport, main } from '../../src/cli/doctor';
import { buildFixture } from '../helpers/fixtures';

function kernelConfig(): string | null {
  if (fs.existsSync('/proc/config.gz')) return zlib.gunzipSync(fs.readFileSync('/proc/config.gz')).toString();
  const boot = `/boot/config-${os.release()}`;
  return fs.existsSync(boot) ? fs.readFileSync(boot, 'utf8') : null;
}

function onPath(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('stap diagnosis matches the host', () => {
  const config = kernelConfig();
  const modulesConfigured = config === null ? null : /^CONFIG_MODULES=y$/m.test(config);
  const disabled = fs.existsSync('/proc/sys/kernel/modules_disabled') && fs.readFileSync('/proc/sys/kernel/modules_disabled', 'utf8').trim() === '1';
  const canLoadModules = modulesConfigured !== false && fs.existsSync('/proc/modules') && !disabled;
  const headers = fs.existsSync(`/lib/modules/${os.release()}/build`);
  const stapInstalled = onPath('stap');

  test('module loading, kernel headers and stap on PATH are reported as they are', async () => {
    const d = await diagnoseStap();
    expect(d.details.configModules).toBe(modulesConfigured);
    expect(d.details.procModulesExists).toBe(fs.existsSync('/proc/modules'));
    expect(d.details.kernelBuildDir !== null).toBe(headers);
    expect(d.details.stapPath !== null).toBe(stapInstalled);
    expect(d.details.kernelRelease).toBe(os.release());
    expect(d.details.root).toBe(process.getuid!() === 0);
  });

  test('canRun is false exactly when a requirement is missing, with a reason for each', async () => {
    const d = await diagnoseStap();
    expect(d.canRun).toBe(stapInstalled && canLoadModules && headers && d.details.configUprobes !== false && (d.details.root || d.details.stapGroups.length > 0));
    expect(d.reasons.some((r) => /cannot load modules|modules_disabled|no \/proc\/modules/.test(r))).toBe(!canLoadModules);
    expect(d.reasons.some((r) => /kernel headers .* missing/.test(r))).toBe(!headers);
    expect(d.reasons.some((r) => /stap is not installed/.test(r))).toBe(!stapInstalled);
    expect(d.canRun).toBe(d.reasons.length === 0);
  });

  test('binary facts agree with readelf: DWARF and symbol table of a -g build and of a stripped copy', async () => {
    const built = buildFixture('chain.c', { variant: 'stap' });
    const stripped = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'doctor-')), 'chain-stripped');
    execFileSync('strip', ['-o', stripped, built]);
    const sections = (f: string) => execFileSync('readelf', ['-SW', f], { encoding: 'utf8' });
    const full = (await diagnoseStap(built)).details.binary!;
    expect(full.dwarf).toBe(/\.debug_info/.test(sections(built)));
    expect(full.symtab).toBe(/\.symtab/.test(sections(built)));
    const bare = await diagnoseStap(stripped);
    expect(bare.details.binary).toMatchObject({ dwarf: false, symtab: false, separateDebugFile: null });
    expect(bare.canRun).toBe(false);
    expect(bare.reasons.join('\n')).toMatch(/has no symbol table and its debug info is missing.*-g.*(dbgsym|debuginfo)/);
  });
});

describe('ptrace diagnosis matches the host', () => {
  test('Yama scope, CAP_SYS_PTRACE and seccomp come from /proc', async () => {
    const d = await diagnosePtrace();
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const capEff = BigInt('0x' + /^CapEff:\s*([0-9a-f]+)/m.exec(status)![1]);
    expect(d.details.capSysPtrace).toBe(((capEff >> 19n) & 1n) === 1n);
    expect(d.details.seccomp).toBe(Number(/^Seccomp:\s*(\d+)/m.exec(status)![1]));
    const yama = '/proc/sys/kernel/yama/ptrace_scope';
    expect(d.details.yamaPtraceScope).toBe(fs.existsSync(yama) ? Number(fs.readFileSync(yama, 'utf8')) : null);
    expect(d.canRun).toBe(d.reasons.length === 0);
  });
});

describe('ustack doctor', () => {
  test('the text report says for each backend whether it can run, and what auto picks', async () => {
    const report = await doctorReport();
    const text = formatDoctorReport(report);
    expect(text).toContain(`ptrace: ${report.ptrace.canRun ? 'can run' : 'cannot run'}`);
    expect(text).toContain(`stap: ${report.stap.canRun ? 'can run' : 'cannot run'}`);
    for (const reason of report.stap.reasons) expect(text).toContain(reason);
    expect(report.auto).toBe(report.stap.canRun ? 'stap' : report.ptrace.canRun ? 'ptrace' : null);
  });

  test('--json prints the same diagnosis as data, exit code 0 while one backend can run', async () => {
    const chunks: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      chunks.push(String(c));
      return true;
    });
    let code: number;
    try {
      code = await main(['--json']);
    } finally {
      spy.mockRestore();
    }
    const parsed = JSON.parse(chunks.join(''));
    const fresh = await doctorReport();
    expect(parsed.stap.reasons).toEqual(fresh.stap.reasons);
    expect(parsed.ptrace.canRun).toBe(fresh.ptrace.canRun);
    expect(code).toBe(fresh.auto === null ? 2 : 0);
  });
});

describe('prebuilt modules (USTACK_STAP_MODULES, compile here / run there)', () => {
  const headers = fs.existsSync(`/lib/modules/${os.release()}/build`);
  test('missing kernel headers are a note, not a reason, and the report names the module folder', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-prebuilt-'));
    const saved = process.env.USTACK_STAP_MODULES;
    process.env.USTACK_STAP_MODULES = dir;
    try {
      const d = await diagnoseStap();
      expect(d.details.prebuiltModules).toBe(dir);
      expect(d.reasons.some((r) => /kernel headers/.test(r))).toBe(false);
      expect(d.warnings.some((w) => w.includes(dir))).toBe(!headers);
      expect(formatDoctorReport(await doctorReport())).toContain(`prebuilt modules ${dir} (USTACK_STAP_MODULES)`);
    } finally {
      if (saved === undefined) delete process.env.USTACK_STAP_MODULES;
      else process.env.USTACK_STAP_MODULES = saved;
    }
  });
});
