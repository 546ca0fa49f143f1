/**
 * Test scenarios for the unwinder: stop a real program under gdb, take gdb's backtrace and a
 * core file of that moment, unwind the core with our Unwinder, and line both up.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfiTable } from '../../src/dwarf/cfi-table';
import { REG_RIP, REG_RSP } from '../../src/dwarf/registers';
import { FRAME_EXACT_PC, FRAME_SIGNAL_TRAMPOLINE, Unwinder, type UnwindModule } from '../../src/dwarf/unwinder';
import { parseBacktrace } from '../helpers/gdb';
import { CoreFile } from './core-file';
import { debugFileFor, sectionBytes, type ElfImage } from './elf-sections';

/** gdb frame types (gdb.NORMAL_FRAME ...) as its Python API numbers them. */
export const GDB_NORMAL = 0;
export const GDB_INLINE = 2;
export const GDB_TAILCALL = 3;
export const GDB_SIGTRAMP = 4;

export interface GdbFrameInfo {
  type: number;
  pc: number;
  func: string;
}

export interface GdbStop {
  /** Every frame gdb shows, innermost first (inline and tail-call frames included). */
  all: GdbFrameInfo[];
  /** Frames that exist on the stack (gdb's NORMAL and SIGTRAMP frames), each named by its
   *  physical function; gdb's inline frames and DWARF call-site tail-call frames left out. */
  physical: GdbFrameInfo[];
  pc: number;
  sp: number;
  core: CoreFile;
  btText: string;
}

const DUMP_FRAMES = [
  'python',
  'f = gdb.newest_frame()',
  'while f is not None:',
  '    print("@@F %d %x %s" % (f.type(), f.pc(), f.name() or "??"))',
  '    f = f.older()',
  'end',
].join('\n');

/**
 * Runs argv under gdb; `stopAt` are the gdb commands that bring the program to the moment to
 * study (default: break at the function, run). Returns gdb's frames and a core of that moment.
 */
export function stopUnderGdb(argv: string[], stopAt: string | string[], setup: string[] = []): GdbStop {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unwind-core-'));
  const corePath = path.join(dir, 'core');
  const cmds = [
    'set pagination off', 'set confirm off', 'set width 0', 'set print frame-arguments none',
    'set backtrace past-main on', 'handle SIGUSR1 nostop noprint pass', 'handle SIGALRM nostop noprint pass',
    ...setup, ...(typeof stopAt === 'string' ? [`break ${stopAt}`, 'run'] : stopAt),
    'echo @@BT\\n', 'bt', 'echo @@END\\n', DUMP_FRAMES,
    'printf "@@PC %lx %lx\\n", $pc, $sp',
    `generate-core-file ${corePath}`, 'kill',
  ];
  const args = ['-batch', '-nx'];
  for (const c of cmds) args.push('-ex', c);
  const out = execFileSync('gdb', [...args, '--args', ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
  const bt = /@@BT\n([\s\S]*?)@@END/.exec(out);
  const regs = /@@PC ([0-9a-f]+) ([0-9a-f]+)/.exec(out);
  if (!bt || !regs || !fs.existsSync(corePath)) throw new Error(`gdb did not stop at ${stopAt}:\n${out}`);
  const all: GdbFrameInfo[] = [];
  for (const m of out.matchAll(/^@@F (\d+) ([0-9a-f]+) (.*)$/gm)) all.push({ type: Number(m[1]), pc: parseInt(m[2], 16), func: m[3] });
  const physical = all.filter((f) => f.type === GDB_NORMAL || f.type === GDB_SIGTRAMP);
  // sanity: the bt listing and the frame walk agree on the number of frames
  if (parseBacktrace(bt[1]).length !== all.length) throw new Error(`gdb bt and frame walk differ:\n${out}`);
  const core = new CoreFile(corePath);
  fs.rmSync(dir, { recursive: true, force: true });
  return { all, physical, pc: parseInt(regs[1], 16), sp: parseInt(regs[2], 16), core, btText: bt[1] };
}

interface LoadedModule extends UnwindModule {
  path: string;
  start: number;
  end: number;
  elf: ElfImage;
}

export interface CfiChoice {
  /** Which sections to give CfiTable (default: eh_frame + eh_frame_hdr + debug_frame). */
  ehFrame?: boolean;
  ehFrameHdr?: boolean;
  debugFrame?: boolean;
  /** Apply the choice only to modules whose path passes this test (others get every section). */
  onlyFor?: (path: string) => boolean;
}

export function loadModules(core: CoreFile, choice: CfiChoice = {}): LoadedModule[] {
  return core
    .modules()
    .map((m) => {
      const c = !choice.onlyFor || choice.onlyFor(m.path) ? choice : {};
      const none = c.ehFrame === false && c.debugFrame === false;
      return {
      ...m,
      cfi: none ? null : CfiTable.fromSections({
        ehFrame: c.ehFrame === false ? null : sectionBytes(m.elf, '.eh_frame'),
        ehFrameHdr: c.ehFrameHdr === false ? null : sectionBytes(m.elf, '.eh_frame_hdr'),
        debugFrame: c.debugFrame === false ? null : sectionBytes(m.elf, '.debug_frame'),
      }),
      };
    })
    .sort((a, b) => a.start - b.start);
}

/** A ModuleLookup over modules sorted by start address (binary search, no allocation). */
export function moduleLookup(mods: LoadedModule[]): (pc: number) => LoadedModule | null {
  return (pc: number) => {
    let lo = 0;
    let hi = mods.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const m = mods[mid];
      if (pc < m.start) hi = mid - 1;
      else if (pc >= m.end) lo = mid + 1;
      else return m;
    }
    return null;
  };
}

export interface OurFrame {
  pc: number;
  flags: number;
  func: string;
}

/** Unwinds the thread whose pc/sp gdb reported, and names each frame with addr2line. */
export function unwindStop(stop: GdbStop, choice: CfiChoice = {}): OurFrame[] {
  const thread = stop.core.threads.find((t) => t.regs[REG_RIP] === stop.pc && t.regs[REG_RSP] === stop.sp);
  if (!thread) throw new Error('no thread in the core matches gdb\'s stop');
  const mods = loadModules(stop.core, choice);
  const lookup = moduleLookup(mods);
  const pcs = new Float64Array(64);
  const flags = new Uint8Array(64);
  const n = new Unwinder(lookup).unwind(thread.regs.slice(), stop.core, pcs, flags, 64);
  const frames: OurFrame[] = [];
  for (let i = 0; i < n; i++) frames.push({ pc: pcs[i], flags: flags[i], func: '??' });
  // name frames by module with addr2line (physical function = last line of the -i chain)
  const byModule = new Map<LoadedModule, number[]>();
  frames.forEach((f, i) => {
    const m = lookup(f.pc);
    if (!m) return;
    if (!byModule.has(m)) byModule.set(m, []);
    byModule.get(m)!.push(i);
  });
  for (const [m, idx] of byModule) {
    const addrs = idx.map((i) => {
      const exact = i === 0 || (frames[i].flags & FRAME_EXACT_PC) !== 0;
      return '0x' + (frames[i].pc - (exact ? 0 : 1) - m.bias).toString(16);
    });
    // -a prints each address before its inline chain (function/location line pairs)
    const out = execFileSync('addr2line', ['-a', '-f', '-i', '-C', '-e', debugFileFor(m.elf), ...addrs], { encoding: 'utf8' });
    const chains: string[][] = [];
    for (const line of out.split('\n')) {
      if (/^0x[0-9a-f]+$/.test(line)) chains.push([]);
      else if (line && chains.length) chains[chains.length - 1].push(line);
    }
    idx.forEach((i, k) => {
      const chain = chains[k] ?? [];
      frames[i].func = chain.length >= 2 ? chain[chain.length - 2] : '??';
      if (frames[i].func === '??') frames[i].func = pltName(m.path, parseInt(addrs[k], 16)) ?? '??';
    });
  }
  for (const f of frames) if (f.flags & FRAME_SIGNAL_TRAMPOLINE) f.func = '<signal handler called>';
  return frames;
}

const pltCache = new Map<string, { address: number; name: string }[]>();

/** Name of the PLT stub (objdump's synthetic `name@plt` labels) containing a link-time address. */
function pltName(file: string, address: number): string | null {
  let labels = pltCache.get(file);
  if (!labels) {
    const out = execFileSync('objdump', ['-d', '--no-show-raw-insn', '-j', '.plt', '-j', '.plt.sec', file], { encoding: 'utf8' });
    labels = [...out.matchAll(/^([0-9a-f]+) <([^>]+@plt)>:$/gm)].map((m) => ({ address: parseInt(m[1], 16), name: m[2] }));
    pltCache.set(file, labels);
  }
  let best: string | null = null;
  for (const l of labels) if (l.address <= address && address < l.address + 16) best = l.name;
  return best;
}

export function describe(frames: { func: string; pc: number }[]): string {
  return frames.map((f, i) => `#${i} ${f.pc.toString(16)} ${f.func}`).join('\n');
}
