/**
 * Kernel uprobes as an independent hit-count oracle: a uprobe per address (written to tracefs
 * uprobe_events, by file offset), `perf stat` counts how often the program and its children
 * executed each, without ever stopping the program (no ptrace), and the probes are deleted
 * afterwards. Needs root, perf, and a kernel with uprobe events.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const TRACEFS = '/sys/kernel/tracing';

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
  stderr: string;
  /** The program's exit code (perf stat exits with it). */
  status: number | null;
}

/**
 * Why this kernel cannot count with uprobes, or null when it can. Only the kernel (and root, which
 * tracefs needs) is a reason to skip: a missing perf is an install step (.ci/run), and fails.
 */
export function uprobesUnavailable(): string | null {
  const release = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  let config = '';
  try {
    config = execFileSync('sh', ['-c', 'zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r) 2>/dev/null'], { encoding: 'utf8' });
  } catch {
    // no configuration to read: tracefs below decides
  }
  if (config && !/^CONFIG_UPROBE_EVENTS=y/m.test(config)) return `this kernel (${release}) is built without CONFIG_UPROBE_EVENTS, so kernel uprobes cannot count hits`;
  if (process.getuid?.() !== 0) return 'kernel uprobes need root (tracefs uprobe_events): run the tests as root';
  if (!fs.existsSync(`${TRACEFS}/uprobe_events`)) {
    try {
      execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS], { stdio: 'ignore' });
    } catch {
      // already mounted elsewhere, or not mountable: the check below says
    }
  }
  if (fs.existsSync(`${TRACEFS}/uprobe_events`) || fs.existsSync('/sys/kernel/debug/tracing/uprobe_events')) return null;
  return config ? null : `this kernel (${release}) has no tracefs uprobe_events, so kernel uprobes cannot count hits`;
}

function requirePerf(): void {
  const version = spawnSync('perf', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) throw new Error('perf is not installed: the uprobe count oracle needs it (apt-get install linux-perf; .ci/run does)');
}

/** File offset of link-time address `vaddr` (uprobes are placed by file offset). */
function fileOffset(module: string, vaddr: number): number {
  const headers = execFileSync('readelf', ['-lW', module], { encoding: 'utf8' });
  for (const m of headers.matchAll(/^\s*LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)/gm)) {
    const [offset, start, size] = [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
    if (vaddr >= start && vaddr < start + size) return vaddr - start + offset;
  }
  throw new Error(`0x${vaddr.toString(16)} is in no loadable segment of ${module}`);
}

let probeGroup = 0;

/** Runs `argv` under `perf stat` with one uprobe per location and returns the counts. */
export function countWithUprobes(argv: string[], locations: UprobeLocation[], options: { cwd?: string; timeoutMs?: number } = {}): UprobeRun {
  requirePerf();
  const group = `ustack${process.pid}n${++probeGroup}`;
  const events = fs.existsSync(`${TRACEFS}/uprobe_events`) ? `${TRACEFS}/uprobe_events` : '/sys/kernel/debug/tracing/uprobe_events';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-uprobes-'));
  const out = path.join(dir, 'stat.csv');
  let added = 0;
  try {
    // written to tracefs directly: perf probe's raw-address form is not the file offset where a
    // segment's address and offset differ (rustc's executables)
    for (const [i, l] of locations.entries()) {
      fs.appendFileSync(events, `p:${group}/p${i} ${fs.realpathSync(l.module)}:0x${fileOffset(l.module, l.address).toString(16)}\n`);
      added++;
    }
    const r = spawnSync('perf', ['stat', '-x', ',', '-o', out, '-e', `${group}:*`, '--', ...argv], {
      cwd: options.cwd,
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 300000,
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const counts = locations.map(() => NaN);
    for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
      const f = line.split(',');
      const m = /^[^:]+:p(\d+)$/.exec(f[2] ?? '');
      if (m && f[2].startsWith(group + ':')) counts[Number(m[1])] = Number(f[0]);
    }
    if (counts.some((c) => Number.isNaN(c))) throw new Error(`perf stat did not count every uprobe:\n${fs.readFileSync(out, 'utf8')}\n${r.stderr}`);
    return { counts, stdout: r.stdout, stderr: r.stderr, status: r.status };
  } finally {
    for (let i = 0; i < added; i++) {
      try {
        fs.appendFileSync(events, `-:${group}/p${i}\n`);
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `argv` once with a uprobe at each link-time address of `binary` and returns how often each
 * address was executed (every thread and every child that runs `binary`); the program must succeed.
 */
export function uprobeCounts(binary: string, addresses: number[], argv: string[], options: { cwd?: string } = {}): Map<number, number> {
  const run = countWithUprobes(
    argv,
    addresses.map((address) => ({ module: binary, address })),
    options,
  );
  if (run.status !== 0) throw new Error(`perf stat -- ${argv.join(' ')} exited with ${run.status}: ${run.stderr.slice(-2000)}`);
  return new Map(addresses.map((a, i) => [a, run.counts[i]]));
}
