/**
 * Tail-call frames gdb 13 does not show, and why. gdb rebuilds tail-call frames by searching every
 * chain of DW_TAG_call_site tail calls from the caller's call site (call_site_find_chain), and that
 * search gives up on the first call site whose target it cannot compute without a frame ("DW_AT_call_target
 * is not specified" under `set debug entry-values 1`): an indirect tail call (`jmp *%rax`, a virtual
 * call), or a callee named by its abstract DIE (DW_AT_inline, no address). jest-ustack follows the
 * machine code there. `gdbTailCallView` computes, from the DWARF as gdb walks it, the calls from
 * which gdb's search fails, takes exactly those chains out of our stacks for the comparison, and
 * `checkAgainstMachineCode` verifies each chain taken out: the caller `call`s its outer function and
 * each function `jmp`s to the one below.
 */
import { execFileSync } from 'node:child_process';
import type { Frame } from '../../src/capture/types';

interface CallSite {
  ret: number;
  tail: boolean;
  /** Entry of the function the call site is in. */
  inFunction: number;
  /** The callee's entry, or null when gdb cannot compute it without a frame. */
  target: number | null;
}

/** Every DW_TAG_call_site of the binary, with the target gdb computes for it in a tail-call search. */
export function callSites(binary: string): CallSite[] {
  const info = execFileSync('readelf', ['--debug-dump=info', binary], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const symbols = new Map<string, number>();
  for (const m of execFileSync('nm', [binary], { encoding: 'utf8' }).matchAll(/^([0-9a-f]+) [tTwW] (\S+)$/gm)) symbols.set(m[2], parseInt(m[1], 16));
  interface Die { tag: string; lowPc?: number; declaration?: boolean; linkage?: string; name?: string; ret?: number; tail?: boolean; origin?: number; hasTarget?: boolean; fn?: number }
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
    else if (a[1] === 'DW_AT_name') cur.name = /(\S+)\s*$/.exec(a[2])![1];
    else if (a[1] === 'DW_AT_call_return_pc' || a[1] === 'DW_AT_low_pc') cur.ret = parseInt(a[2], 16);
    else if (a[1] === 'DW_AT_call_tail_call' || a[1] === 'DW_AT_GNU_tail_call') cur.tail = true;
    else if (a[1] === 'DW_AT_call_origin' || a[1] === 'DW_AT_abstract_origin') cur.origin = parseInt(/<0x([0-9a-f]+)>/.exec(a[2])![1], 16);
    else if (a[1] === 'DW_AT_call_target' || a[1] === 'DW_AT_GNU_call_site_target') cur.hasTarget = true;
  }
  return raw.map((c) => {
    let target: number | null = null;
    const o = c.origin !== undefined ? dies.get(c.origin) : undefined;
    // a DWARF expression target needs the caller's registers: none in a tail-call search
    // a declaration is found by its linkage name (C: its name) among the program's symbols
    const physname = o?.linkage ?? o?.name;
    if (o && !c.hasTarget) target = o.declaration ? (physname ? (symbols.get(physname) ?? null) : null) : (o.lowPc ?? null);
    return { ret: c.ret ?? c.lowPc ?? -1, tail: !!c.tail, inFunction: c.fn ?? -1, target };
  });
}

/**
 * Whether gdb's tail-call search from the call returning to `callerReturn` toward the function at
 * `calleeEntry` fails, as call_site_find_chain_1 walks: from the call site's target through every
 * tail-call site of each function reached (not into the callee itself), each call site once; a
 * call site whose target it cannot compute ends the search with an error, and so does a caller
 * without a call site record.
 */
export function gdbTailCallSearch(sites: CallSite[]): (callerReturn: number, calleeEntry: number) => boolean {
  const tailSites = new Map<number, CallSite[]>();
  const byReturn = new Map<number, CallSite>();
  for (const s of sites) {
    if (s.tail) tailSites.set(s.inFunction, [...(tailSites.get(s.inFunction) ?? []), s]);
    else byReturn.set(s.ret, s);
  }
  return (callerReturn, calleeEntry) => {
    const site = byReturn.get(callerReturn);
    if (!site || site.target === null) return true;
    const seen = new Set<number>();
    const todo = [site.target];
    while (todo.length) {
      const fn = todo.pop()!;
      if (fn === calleeEntry) continue;
      for (const t of tailSites.get(fn) ?? []) {
        if (seen.has(t.ret)) continue;
        seen.add(t.ret);
        if (t.target === null) return true;
        todo.push(t.target);
      }
    }
    return false;
  };
}

export interface TailCallChain {
  names: string[];
  /** Per tail-call frame (innermost first): its pc, just past its jump. */
  jumps: { end: number }[];
  /** A pc in the function the innermost tail call jumped to (the frame below the chain). */
  calleePc: number;
  /** The callee's frame is the stopped frame (its pc exact), not a caller (a return address). */
  calleeIsFrame0: boolean;
  callerReturn: number;
}

const off = (f: Frame | undefined) => (f?.offset ? parseInt(f.offset, 16) : NaN);

/** Our frames without the tail-call chains gdb does not rebuild (`gdbFails`: gdbTailCallSearch). */
export function withoutChains(frames: Frame[], gdbFails: (callerReturn: number, calleeEntry: number) => boolean, entryOf: (pc: number, exact: boolean) => number, dropped: TailCallChain[]): Frame[] {
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
    const callee = out[first - 1];
    const calleeIsFrame0 = first > 0 && out[0].pc === out[first - 1].pc;
    if (!gdbFails(callerReturn, entryOf(off(callee), calleeIsFrame0))) {
      from = g;
      continue;
    }
    dropped.push({
      names: groups.map(([, e]) => out[e].symbol ?? '??'),
      jumps: groups.map(([, e]) => ({ end: off(out[e]) })),
      calleePc: off(callee),
      calleeIsFrame0,
      callerReturn,
    });
    out = [...out.slice(0, first), ...out.slice(g)];
    from = first;
  }
}


export interface GdbTailCallView {
  /** Our frames as gdb shows them (for compareWithOracles' asGdbShows). */
  asGdbShows: (frames: Frame[]) => Frame[];
  /** The chains taken out so far. */
  dropped: TailCallChain[];
  /** Mismatches between the chains taken out and the machine code (empty when every one is a real call + jumps). */
  checkAgainstMachineCode: () => unknown[];
}

export function gdbTailCallView(binary: string): GdbTailCallView {
  const gdbFails = gdbTailCallSearch(callSites(binary));
  const starts = [...new Set([...execFileSync('nm', ['--defined-only', binary], { encoding: 'utf8', maxBuffer: 1 << 28 }).matchAll(/^([0-9a-f]+) [tTwWiI] /gm)].map((m) => parseInt(m[1], 16)))].sort((a, b) => a - b);
  // the function holding a pc: a stopped frame is at its pc, a caller's pc is a return address (pc - 1)
  const entryOf = (pc: number, exact: boolean) => {
    const at = exact ? pc : pc - 1;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? starts[lo - 1] : NaN;
  };
  const dropped: TailCallChain[] = [];
  return {
    asGdbShows: (frames) => withoutChains(frames, gdbFails, entryOf, dropped),
    dropped,
    checkAgainstMachineCode: () => {
      const asm = execFileSync('objdump', ['-d', '--no-show-raw-insn', binary], { encoding: 'utf8', maxBuffer: 1 << 28 });
      const insns = [...asm.matchAll(/^\s*([0-9a-f]+):\t(\S+)\s*([0-9a-f]+)?/gm)].map((m) => ({ op: m[2], target: m[3] ? parseInt(m[3], 16) : null, at: parseInt(m[1], 16) }));
      const before = (pc: number) => {
        let lo = 0;
        let hi = insns.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (insns[mid].at < pc) lo = mid + 1;
          else hi = mid;
        }
        return lo > 0 ? { op: insns[lo - 1].op, target: insns[lo - 1].target } : null;
      };
      const bad: unknown[] = [];
      const seen = new Set<string>();
      for (const c of dropped) {
        const key = JSON.stringify(c);
        if (seen.has(key)) continue;
        seen.add(key);
        // innermost first: each tail-call function jumped to the one below it, the caller called the outermost
        // a frame 0 is at its pc, a caller's pc is a return address: the function holds pc - 1
        const targets = [entryOf(c.calleePc, c.calleeIsFrame0), ...c.jumps.map((j) => entryOf(j.end - 1, true))];
        c.jumps.forEach((j, k) => {
          const insn = before(j.end);
          if (insn?.op !== 'jmp' || insn.target !== targets[k]) bad.push({ names: c.names, expected: { op: 'jmp', target: targets[k] }, insn });
        });
        const call = before(c.callerReturn);
        if (call?.op !== 'call' || call.target !== targets[targets.length - 1]) bad.push({ names: c.names, expected: { op: 'call', target: targets[targets.length - 1] }, insn: call });
      }
      return bad;
    },
  };
}
