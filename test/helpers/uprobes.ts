/**
 * Kernel uprobes as the hit-count oracle: `perf probe -x MODULE` puts a uprobe on each address and
 * `perf stat` counts how often the program and its children executed it, without ever stopping
 * the program. Probes get a group of their own per call and are deleted afterwards.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface UprobeLocation {
  /** The ELF file (executable or library) holding the address. */
  module: string;
  /** Link-time address in that file (what `ustack symbols` and capture.hooks[].resolved print). */
  address: number;
}

export interface UprobeRun {
  /** Executions of each location, in the order given. */
  counts: number[];
  stdout: string;
  /** The program's exit code (perf stat exits with it). */
  status: number | null;
}

let probeGroup = 0;

/** Why kernel uprobes cannot count here (perf missing, a kernel without uprobe events, no permission), or null when they can. */
export function uprobesUnavailable(): string | null {
  const version = spawnSync('perf', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) return 'perf is not installed (Debian: apt-get install linux-perf), so kernel uprobes cannot count hits';
  const events = ['/sys/kernel/tracing/uprobe_events', '/sys/kernel/debug/tracing/uprobe_events'];
  if (!events.some((f) => fs.existsSync(f))) return 'this kernel has no uprobe events (CONFIG_UPROBE_EVENTS, or tracefs is not mounted), so kernel uprobes cannot count hits';
  try {
    fs.accessSync(events.find((f) => fs.existsSync(f))!, fs.constants.W_OK);
  } catch {
    return 'uprobe_events is not writable by this user (run the tests as root), so kernel uprobes cannot count hits';
  }
  return null;
}

/** Runs `argv` under `perf stat` with one uprobe per location and returns the counts. */
export function countWithUprobes(argv: string[], locations: UprobeLocation[], options: { cwd?: string; timeoutMs?: number } = {}): UprobeRun {
  const group = `ustack${process.pid}n${++probeGroup}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-uprobes-'));
  const out = path.join(dir, 'stat.csv');
  try {
    locations.forEach((l, i) => {
      execFileSync('perf', ['probe', '-q', '-x', l.module, '-a', `${group}:p${i}=0x${l.address.toString(16)}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    });
    const events = locations.flatMap((_, i) => ['-e', `${group}:p${i}`]);
    const r = spawnSync('perf', ['stat', '-x', ',', '-o', out, ...events, '--', ...argv], {
      cwd: options.cwd,
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 120000,
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const counts = locations.map(() => NaN);
    for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
      const f = line.split(',');
      const m = /^[^:]+:p(\d+)$/.exec(f[2] ?? '');
      if (m && f[2].startsWith(group + ':')) counts[Number(m[1])] = Number(f[0]);
    }
    if (counts.some((c) => Number.isNaN(c))) throw new Error(`perf stat did not count every uprobe:\n${fs.readFileSync(out, 'utf8')}`);
    return { counts, stdout: r.stdout, status: r.status };
  } finally {
    spawnSync('perf', ['probe', '-q', '-d', `${group}:*`], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
