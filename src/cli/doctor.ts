/**
 * `ustack doctor [BIN] [--json]`: which backends can run on this host, and for each one that
 * cannot, why and what to do. With BIN, also whether stap has the debug information it needs.
 * Exit code 0 when at least one backend can run, 2 when none can.
 */
import { diagnosePtrace, diagnoseStap } from '../stap/diagnose';
import type { PtraceDiagnosis, StapDiagnosis } from '../stap/diagnose';
import { resolveProgram } from '../stap/stap-backend';
import { parseArgs } from './args';
import { debugInfoStatus, type DebugInfoStatus } from '../elf/debuginfo';
import { missingDebugInfoText } from '../elf/debug-advice';
import { prepareDebugInfo } from '../elf/debug-prepare';
import { configureDebugSearch, debugSearch, debugSearchFrom } from '../elf/debug-search';
import { openElfCached } from '../elf/elf-file';

export const usage = `Usage: ustack doctor [BIN] [--json] [--debug-dir DIR ...]

Says which backends (ptrace, stap) can run on this host and why not. With BIN, also checks
that stap can find debug information (DWARF or a symbol table) for it.

  --debug-dir DIR   look for separate debug files under DIR, as \`ustack record --debug-dir\` does
                    (repeatable; default USTACK_DEBUG_DIRS, else /usr/lib/debug)`;

export interface DoctorReport {
  ptrace: PtraceDiagnosis;
  stap: StapDiagnosis;
  /** What backend 'auto' picks here. */
  auto: 'ptrace' | 'stap' | null;
  /** With BIN: where its symbols and debug info come from, and what is missing (README "Debug info"). */
  debugInfo?: DebugInfoStatus & { debugDirs: string[]; debuginfod: string[]; missing: string | null };
}

export async function doctorReport(binary?: string): Promise<DoctorReport> {
  // debuginfod downloads and MiniDebugInfo first, so both answers below see them
  if (binary !== undefined) await prepareDebugInfo([binary]).catch(() => null);
  const [ptrace, stap] = await Promise.all([diagnosePtrace(), diagnoseStap(binary)]);
  const report: DoctorReport = { ptrace, stap, auto: stap.canRun ? 'stap' : ptrace.canRun ? 'ptrace' : null };
  if (binary !== undefined) {
    try {
      const elf = openElfCached(binary);
      const status = debugInfoStatus(elf);
      const search = debugSearch();
      const missing = status.fullSymbols ? null : missingDebugInfoText(elf, 'only its exported functions can be hooked and named');
      report.debugInfo = { ...status, debugDirs: search.dirs, debuginfod: search.debuginfod?.urls ?? [], missing };
    } catch {
      /* stap's facts already say it does not exist */
    }
  }
  return report;
}

const yesNo = (v: boolean | null) => (v === null ? 'unknown' : v ? 'yes' : 'no');

export function formatDoctorReport(r: DoctorReport): string {
  const out: string[] = [];
  const p = r.ptrace;
  out.push(`ptrace: ${p.canRun ? 'can run' : 'cannot run'}`);
  out.push(`  platform ${p.details.platform} ${p.details.arch}; yama ptrace_scope ${p.details.yamaPtraceScope ?? 'absent (Yama not built in)'}; CAP_SYS_PTRACE ${yesNo(p.details.capSysPtrace)}; seccomp mode ${p.details.seccomp ?? 'unknown'}`);
  for (const reason of p.reasons) out.push(`  - ${reason}`);
  for (const w of p.warnings) out.push(`  note: ${w}`);
  const s = r.stap;
  const d = s.details;
  out.push(`stap: ${s.canRun ? 'can run' : 'cannot run'}`);
  out.push(`  stap ${d.stapPath ? `${d.stapPath} (version ${d.stapVersion ?? 'unknown'})` : 'not found'}; kernel ${d.kernelRelease}`);
  out.push(
    `  kernel config ${d.kernelConfigSource ?? 'not readable'}: CONFIG_MODULES ${yesNo(d.configModules)}, CONFIG_UPROBES ${yesNo(d.configUprobes)}; ` +
      `/proc/modules ${d.procModulesExists ? 'present' : 'absent'}; modules_disabled ${d.modulesDisabled === null ? 'absent' : d.modulesDisabled ? '1' : '0'}`,
  );
  if (d.prebuiltModules) out.push(`  prebuilt modules ${d.prebuiltModules} (USTACK_STAP_MODULES)`);
  out.push(`  kernel headers ${d.kernelBuildDir ?? 'missing'}; root ${yesNo(d.root)}; stap groups ${d.stapGroups.join(', ') || 'none'}`);
  if (d.binary) {
    const b = d.binary;
    out.push(`  ${b.path}: DWARF ${yesNo(b.dwarf)}, separate debug file ${b.separateDebugFile ?? 'none'}, symbol table ${yesNo(b.symtab)}`);
  }
  for (const reason of s.reasons) out.push(`  - ${reason}`);
  for (const w of s.warnings) out.push(`  note: ${w}`);
  if (r.debugInfo) {
    const b = r.debugInfo;
    out.push(`debug info of ${b.path} (build-id ${b.buildId ?? 'none'}):`);
    out.push(`  symbol table ${b.symtab ? 'in the file' : b.separate && b.fullSymbols && !b.miniDebugInfo ? 'in the debug file' : b.miniDebugInfo ? 'from its MiniDebugInfo (.gnu_debugdata)' : 'none'}; DWARF ${b.dwarf ? 'in the file' : b.separate ? `in ${b.separate}` : 'none'}`);
    out.push(`  debug directories ${b.debugDirs.join(':') || 'none'}; debuginfod ${b.debuginfod.join(' ') || 'off (DEBUGINFOD_URLS unset)'}`);
    if (b.missing) out.push(`  - ${b.missing}`);
  }
  out.push(`backend 'auto' uses: ${r.auto ?? 'nothing (no backend can run here)'}`);
  return out.join('\n') + '\n';
}

export async function main(args: string[]): Promise<number> {
  const parsed = parseArgs(args, { json: {}, help: {}, 'debug-dir': { value: true, multiple: true } }, 'doctor');
  if (parsed.flags.help) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  configureDebugSearch(debugSearchFrom(process.env, parsed.flags['debug-dir'] as string[] | undefined, '--debug-dir'));
  const [bin] = [...parsed.positional, ...parsed.rest];
  const report = await doctorReport(bin === undefined ? undefined : resolveProgram(bin));
  process.stdout.write(parsed.flags.json ? JSON.stringify(report, null, 2) + '\n' : formatDoctorReport(report));
  return report.auto === null ? 2 : 0;
}
