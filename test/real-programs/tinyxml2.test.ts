/**
 * Real-program lane: tinyxml2's own test program (xmltest, 463 checks) from Debian's source package
 * (`apt-get source tinyxml2`), compiled with g++ -O2 -g: C++ with templates, virtual functions,
 * overloads, partial-inlining bodies and .isra clones. For every hook location, jest-ustack's hit
 * count equals the kernel uprobe count and gdb's, and every distinct stack equals gdb's.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Frame } from '../../src/capture/types';
import { shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { cachedBuild, compileAndLink, debianSource } from '../helpers/debian-source';
import { compareWithOracles, type LaneResult } from '../helpers/real-program-lane';
import { uprobesUnavailable } from '../helpers/uprobes';

jest.setTimeout(600000);
afterAll(() => shutdownTracer());

const noUprobes = uprobesUnavailable();
const FLAGS = ['-O2', '-g'];

function buildXmltest(): { binary: string; tree: string } {
  const tree = debianSource('tinyxml2');
  const out = cachedBuild('tinyxml2-xmltest', [tree, FLAGS], (dir) => {
    compileAndLink({ compiler: 'g++', sources: ['xmltest.cpp', 'tinyxml2.cpp'], flags: FLAGS, cwd: tree, out: path.join(dir, 'xmltest'), link: [] });
  });
  return { binary: path.join(out, 'xmltest'), tree };
}

// XMLTest<int>: a function template's .isra clone; XMLPrinter::Putc: a .part body behind inlined
// heads; XMLUtil::ToStr: six overloads; XMLUtil::ToInt and XMLElement::QueryIntAttribute: inlined
// copies; XMLElement::ShallowEqual and XMLNode::DeepClone: virtual calls (DeepClone recursive).
const HOOKS = [
  'XMLTest<int>',
  'tinyxml2::XMLPrinter::Putc',
  'tinyxml2::XMLUtil::ToStr',
  'tinyxml2::XMLUtil::ToInt',
  'tinyxml2::XMLElement::QueryIntAttribute',
  'tinyxml2::XMLElement::ShallowEqual',
  'tinyxml2::XMLNode::DeepClone',
];

// gdb 13 shows fewer tail-call frames than jest-ustack here. XMLPrinter's PushText, PushAttribute
// and PushUnknown end in `jmp` to the .part body of PrintString or Putc (their heads inlined at the
// jump), so they are on the logical call path, and jest-ustack shows them. gdb rebuilds tail-call
// frames by searching every chain of DW_TAG_call_site tail calls from the caller's call site
// (call_site_find_chain), and that search gives up on the first call site whose target it cannot
// compute without a frame ("DW_AT_call_target is not specified" under `set debug entry-values 1`):
// these three also end in an indirect, virtual tail call (`jmp *%rax`, Write), and Visit's call
// site names PushText by its abstract DIE (DW_AT_inline, no address). Exactly the chains for which
// that search fails are taken out before comparing (computed from the DWARF as gdb walks it), and a
// test checks each taken-out chain against the machine code.

interface CallSite {
  ret: number;
  tail: boolean;
  /** Entry of the function the call site is in. */
  inFunction: number;
  /** The callee's entry, or null when gdb cannot compute it without a frame. */
  target: number | null;
}

/** Every DW_TAG_call_site of the binary, with the target gdb computes for it in a tail-call search. */
function callSites(binary: string): CallSite[] {
  const info = execFileSync('readelf', ['--debug-dump=info', binary], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const symbols = new Map<string, number>();
  for (const m of execFileSync('nm', [binary], { encoding: 'utf8' }).matchAll(/^([0-9a-f]+) [tTwW] (\S+)$/gm)) symbols.set(m[2], parseInt(m[1], 16));
  interface Die { tag: string; lowPc?: number; declaration?: boolean; linkage?: string; ret?: number; tail?: boolean; origin?: number; hasTarget?: boolean; fn?: number }
  const dies = new Map<number, Die>();
  const raw: Die[] = [];
  const stack: Die[] = [];
  let cur: Die | null = null;
  for (const line of info.split('\n')) {
    const d = /^\s*<(\d+)><([0-9a-f]+)>: Abbrev Number: (\d+)(?: \((\w+)\))?/.exec(line);
    if (d) {
      const depth = Number(d[1]);
      stack.length = depth;
      cur = d[3] === '0' ? null : { tag: d[4] ?? '' };
      if (cur) {
        dies.set(parseInt(d[2], 16), cur);
        stack[depth] = cur;
        if (cur.tag === 'DW_TAG_call_site' || cur.tag === 'DW_TAG_GNU_call_site') {
          // the enclosing out-of-line function (inline blocks in between do not count)
          for (let k = depth - 1; k >= 0; k--) if (stack[k]?.tag === 'DW_TAG_subprogram') { cur.fn = stack[k].lowPc; break; }
          raw.push(cur);
        }
      }
      continue;
    }
    const a = cur && /^\s*<[0-9a-f]+>\s+(DW_AT_\w+)\s*:\s*(.*)$/.exec(line);
    if (!a || !cur) continue;
    if (a[1] === 'DW_AT_low_pc') cur.lowPc = parseInt(a[2], 16);
    else if (a[1] === 'DW_AT_declaration') cur.declaration = true;
    else if (a[1] === 'DW_AT_linkage_name' || a[1] === 'DW_AT_MIPS_linkage_name') cur.linkage = /(\S+)\s*$/.exec(a[2])![1];
    else if (a[1] === 'DW_AT_call_return_pc' || a[1] === 'DW_AT_low_pc') cur.ret = parseInt(a[2], 16);
    else if (a[1] === 'DW_AT_call_tail_call' || a[1] === 'DW_AT_GNU_tail_call') cur.tail = true;
    else if (a[1] === 'DW_AT_call_origin' || a[1] === 'DW_AT_abstract_origin') cur.origin = parseInt(/<0x([0-9a-f]+)>/.exec(a[2])![1], 16);
    else if (a[1] === 'DW_AT_call_target' || a[1] === 'DW_AT_GNU_call_site_target') cur.hasTarget = true;
  }
  return raw.map((c) => {
    let target: number | null = null;
    const o = c.origin !== undefined ? dies.get(c.origin) : undefined;
    // a DWARF expression target needs the caller's registers: none in a tail-call search
    if (o && !c.hasTarget) target = o.declaration ? (o.linkage ? (symbols.get(o.linkage) ?? null) : null) : (o.lowPc ?? null);
    return { ret: c.ret ?? c.lowPc ?? -1, tail: !!c.tail, inFunction: c.fn ?? -1, target };
  });
}

/** Return addresses of calls from which gdb's tail-call search fails (see above). */
function callsGdbFindsNoTailCallsFrom(sites: CallSite[]): Set<number> {
  const tailSites = new Map<number, CallSite[]>();
  for (const s of sites) if (s.tail) tailSites.set(s.inFunction, [...(tailSites.get(s.inFunction) ?? []), s]);
  const fails = (site: CallSite): boolean => {
    if (site.target === null) return true;
    const seen = new Set<number>();
    const todo = [site.target];
    while (todo.length) {
      const fn = todo.pop()!;
      if (seen.has(fn)) continue;
      seen.add(fn);
      for (const t of tailSites.get(fn) ?? []) {
        if (t.target === null) return true;
        todo.push(t.target);
      }
    }
    return false;
  };
  return new Set(sites.filter((s) => !s.tail && fails(s)).map((s) => s.ret));
}

interface TailCallChain {
  names: string[];
  /** Per tail-call frame (innermost first): its pc (just past its jump) and its function's entry. */
  jumps: { end: number; functionEntry: number }[];
  calleeEntry: number;
  callerReturn: number;
}

const off = (f: Frame | undefined) => (f?.offset ? parseInt(f.offset, 16) : NaN);

/** Our frames without the tail-call chains gdb does not rebuild (their callers' return addresses are in `noChain`). */
function asGdbShows(frames: Frame[], noChain: Set<number>, dropped: TailCallChain[]): Frame[] {
  let out = frames;
  let from = 0;
  for (;;) {
    const i = out.findIndex((f, k) => k >= from && f.tailCall);
    if (i < 0) return out;
    let first = i;
    while (first > 0 && out[first - 1].pc === out[i].pc) first--;
    // groups of frames at one pc (inline frames, then the one they are in) that end in a tail-call frame
    const groups: [number, number][] = [];
    let g = first;
    for (;;) {
      let e = g;
      while (e + 1 < out.length && out[e + 1].pc === out[g].pc) e++;
      if (!out[e].tailCall) break;
      groups.push([g, e]);
      g = e + 1;
    }
    const callerReturn = off(out[g]);
    if (!noChain.has(callerReturn)) {
      from = g;
      continue;
    }
    const callee = out[first - 1];
    dropped.push({
      names: groups.map(([, e]) => out[e].symbol ?? '??'),
      jumps: groups.map(([, e]) => ({ end: off(out[e]), functionEntry: off(out[e]) - (out[e].symbolOffset ?? NaN) })),
      calleeEntry: callee && !callee.inlined ? off(callee) - (callee.symbolOffset ?? NaN) : NaN,
      callerReturn,
    });
    out = [...out.slice(0, first), ...out.slice(g)];
    from = first;
  }
}

(noUprobes ? describe.skip : describe)('tinyxml2 xmltest from Debian source, g++ -O2 -g', () => {
  let result: LaneResult;
  let work: string;
  let binary: string;
  const dropped: TailCallChain[] = [];

  beforeAll(async () => {
    const built = buildXmltest();
    binary = built.binary;
    const tree = built.tree;
    // xmltest reads resources/*.xml and writes resources/out/: each run gets its own copy
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-xmltest-'));
    fs.cpSync(path.join(tree, 'resources'), path.join(work, 'resources'), { recursive: true });
    fs.mkdirSync(path.join(work, 'resources', 'out'), { recursive: true });
    const noChain = callsGdbFindsNoTailCallsFrom(callSites(binary));
    result = await compareWithOracles(binary, [binary], HOOKS, { cwd: work, asGdbShows: (frames) => asGdbShows(frames, noChain, dropped) });
  });
  afterAll(() => work && fs.rmSync(work, { recursive: true, force: true }));

  test('the build has the hard cases: clones, overloads and several locations per hook', () => {
    const byHook = new Map(result.hooks.map((h) => [h.hook, h.gdbLocations.length]));
    expect(byHook.get('tinyxml2::XMLUtil::ToStr')).toBeGreaterThanOrEqual(6);
    expect(result.capture.hooks.flatMap((h) => h.resolved).some((r) => r.kind === 'part')).toBe(true);
  });

  test('jest-ustack resolves each hook to the locations of gdb\'s break', () => {
    for (const h of result.hooks) expect({ hook: h.hook, locations: h.ourLocations }).toEqual({ hook: h.hook, locations: h.gdbLocations });
  });

  test('every location: jest-ustack count = kernel uprobe count = gdb count', () => {
    expect(result.locations.some((l) => l.uprobe > 0)).toBe(true);
    expect(result.locations.map((l) => ({ ...l, ours: l.ours }))).toEqual(result.locations.map((l) => ({ ...l, ours: l.uprobe })));
    expect(result.locations.map((l) => ({ ...l, gdb: l.gdb }))).toEqual(result.locations.map((l) => ({ ...l, gdb: l.uprobe })));
  });

  test('each tail-call chain gdb does not show is the machine code\'s: a call into its outer function, jumps down to the callee', () => {
    const asm = execFileSync('objdump', ['-d', '--no-show-raw-insn', binary], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const insns = [...asm.matchAll(/^\s*([0-9a-f]+):\t(\S+)\s*([0-9a-f]+)?/gm)].map((m) => ({ op: m[2], target: m[3] ? parseInt(m[3], 16) : null, at: parseInt(m[1], 16) }));
    const before = (pc: number) => {
      const k = insns.findIndex((x) => x.at >= pc);
      return k > 0 ? { op: insns[k - 1].op, target: insns[k - 1].target } : null;
    };
    expect(result.adjustedStacks).toBeGreaterThan(0);
    const seen = new Set<string>();
    for (const c of dropped) {
      const key = JSON.stringify(c);
      if (seen.has(key)) continue;
      seen.add(key);
      // innermost first: each tail-call function jumped to the one below it, the caller called the outermost
      const targets = [c.calleeEntry, ...c.jumps.map((j) => j.functionEntry)];
      c.jumps.forEach((j, k) => expect({ names: c.names, insn: before(j.end) }).toEqual({ names: c.names, insn: { op: 'jmp', target: targets[k] } }));
      expect({ names: c.names, insn: before(c.callerReturn) }).toEqual({ names: c.names, insn: { op: 'call', target: targets[targets.length - 1] } });
    }
    expect([...new Set(dropped.flatMap((c) => c.names).map((n) => n.replace(/\(.*$/, '')))].sort()).toEqual([
      'tinyxml2::XMLPrinter::PushAttribute',
      'tinyxml2::XMLPrinter::PushText',
      'tinyxml2::XMLPrinter::PushUnknown',
    ]);
  });

  test('every distinct stack (names, inline frames, file:line) and its count equals gdb\'s bt', () => {
    for (const h of result.hooks) expect({ hook: h.hook, stacks: h.ourStacks }).toEqual({ hook: h.hook, stacks: h.gdbStacks });
  });
});

if (noUprobes) {
  test.skip(`real-program lane: kernel uprobes unavailable (${noUprobes})`, () => undefined);
}
