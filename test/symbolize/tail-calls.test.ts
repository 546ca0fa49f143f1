/**
 * Frames of functions that tail-called (`jmp`) into the hooked function, rebuilt from DWARF
 * call-site information, against gdb's `bt` at the same breakpoints: names, file:line, the pc
 * gdb prints for them (just past the jump), and nothing when the path is ambiguous.
 */
import { expandHits } from '../../src/capture/model';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import type { Capture, Frame } from '../../src/capture/types';
import { DebugInfo } from '../../src/dwarf/debug-info';
import { ElfFile } from '../../src/elf/elf-file';
import { buildFixture, buildWithLibrary, FIXTURES } from '../helpers/fixtures';
import { gdbStops, type GdbStopFrame } from '../dwarf/source-oracles';
import { gdbPythonStacks } from '../helpers/gdb';

afterAll(() => shutdownTracer());

const PIE_BASE = 0x555555554000;

interface Row {
  name: string;
  file: string | null;
  line: number | null;
  /** Link-time pc of a physical frame other than #0 (gdb prints it); null otherwise. */
  pc: number | null;
}

function ourRows(frames: Frame[], bias: number): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    const pc = i > 0 && !frames[i - 1].inlined ? parseInt(f.pc, 16) - bias : null;
    rows.push({ name: f.symbol ?? '??', file: f.file ? path.basename(f.file) : null, line: f.line, pc });
    if (f.symbol === 'main') break;
  }
  return rows;
}

function gdbRows(frames: GdbStopFrame[]): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    rows.push({ name: f.func, file: f.file ? path.basename(f.file) : null, line: f.line, pc: i > 0 && f.pc !== null ? f.pc - PIE_BASE : null });
    if (f.func === 'main') break;
  }
  return rows;
}

function moduleBias(capture: Capture, frames: Frame[], bin: string): number {
  const f = frames.find((x) => x.module === bin)!;
  return parseInt(f.pc, 16) - parseInt(f.offset!, 16);
}

const hooks = ['leaf_one', 'second_hop', 'leaf_two', 'leaf_amb', 'leaf_hub', 'far_leaf'];
const OTHER_UNIT = path.join(FIXTURES, 'src_tailcall_other.c');
// the fixture cache keys on the main source only: name the build after the second one's content too
const otherUnitHash = createHash('sha256').update(fs.readFileSync(OTHER_UNIT)).digest('hex').slice(0, 8);

describe.each([
  ['DWARF 5 (DW_TAG_call_site)', ['-O2', '-g']],
  ['DWARF 4 (DW_TAG_GNU_call_site)', ['-O2', '-gdwarf-4']],
])('tail-call frames at -O2, %s', (variant, flags) => {
  const bin = buildFixture('src_tailcall.c', { flags, libs: [OTHER_UNIT], variant: `${variant.replace(/\W+/g, '')}-${otherUnitHash}` });
  let capture: Capture;
  let stops: GdbStopFrame[][];

  beforeAll(async () => {
    ({ capture } = await recordWithPtrace([bin, '1'], { hooks }));
    const addresses = capture.hooks.flatMap((h) => h.resolved.map((r) => `*0x${(parseInt(r.address, 16) + PIE_BASE).toString(16)}`));
    stops = gdbStops([bin, '1'], addresses, 10);
  });

  test('the fixture really tail-calls: the functions end in jmp, not call', () => {
    const asm = execFileSync('objdump', ['-d', '--no-show-raw-insn', bin], { encoding: 'utf8' });
    for (const [fn, target] of [['middle_one', 'leaf_one'], ['first_hop', 'second_hop'], ['second_hop', 'leaf_two'], ['via_left', 'leaf_amb']]) {
      const body = asm.split(`<${fn}>:\n`)[1].split('\n\n')[0];
      expect(body).toMatch(new RegExp(`\\sjmp\\s+[0-9a-f]+ <${target}>`));
    }
  });

  test('every stack equals gdb bt: names, file:line and the pc past each jump', () => {
    expect(expandHits(capture).map((h) => h.hook)).toEqual(hooks);
    expect(stops).toHaveLength(hooks.length);
    for (let i = 0; i < hooks.length; i++) {
      const frames = expandHits(capture)[i].frames;
      expect(ourRows(frames, moduleBias(capture, frames, bin))).toEqual(gdbRows(stops[i]));
    }
  });

  test('one tail call, a chain of two, none when two paths lead to the leaf, only what all paths share, and across units', () => {
    const names = (i: number) => expandHits(capture)[i].frames.map((f) => `${f.symbol}${f.tailCall ? '*' : ''}`).slice(0, expandHits(capture)[i].frames.findIndex((f) => f.symbol === 'main') + 1);
    expect(names(0)).toEqual(['leaf_one', 'middle_one*', 'outer_one', 'main']);
    expect(names(1)).toEqual(['second_hop', 'first_hop*', 'outer_two', 'main']);
    expect(names(2)).toEqual(['leaf_two', 'second_hop*', 'first_hop*', 'outer_two', 'main']);
    expect(names(3)).toEqual(['leaf_amb', 'outer_amb', 'main']);
    expect(names(4)).toEqual(['leaf_hub', 'hub*', 'outer_hub', 'main']);
    // the callee is a declaration in the caller's unit, found through the ELF symbol table
    expect(names(5)).toEqual(['far_leaf', 'far_middle*', 'outer_far', 'main']);
    expect(expandHits(capture)[5].frames[1].file).toMatch(/src_tailcall_other\.c$/);
    // the machine-stack frames are not marked
    expect(expandHits(capture)[0].frames.filter((f) => f.tailCall)).toHaveLength(1);
  });

  test('DebugInfo: call sites, tail-call sites and the chain search against objdump', () => {
    const info = DebugInfo.fromSections(ElfFile.open(bin))!;
    const asm = execFileSync('objdump', ['-d', '--no-show-raw-insn', bin], { encoding: 'utf8' });
    const fnStart = (name: string) => parseInt(new RegExp(`^([0-9a-f]+) <${name}>:`, 'm').exec(asm)![1], 16);
    // the address after `call middle_one` in outer_one, and after each jmp
    const after = (fn: string, insn: RegExp) => {
      const lines = asm.split(`<${fn}>:\n`)[1].split('\n\n')[0].split('\n');
      const k = lines.findIndex((l) => insn.test(l));
      return parseInt(lines[k + 1].trim(), 16);
    };
    const ret = after('outer_one', /call\s+[0-9a-f]+ <middle_one>/);
    expect(info.callSiteAt(ret)).toMatchObject({ callee: fnStart('middle_one'), tailCall: false });
    expect(info.functionContaining(fnStart('leaf_one') + 2)?.entry).toBe(fnStart('leaf_one'));
    const sites = info.tailCallSites(fnStart('dispatch'));
    expect(sites.map((s) => s.target).sort()).toEqual([fnStart('via_left'), fnStart('via_right')].sort());
    expect(sites.every((s) => s.line !== null && s.file?.endsWith('src_tailcall.c'))).toBe(true);
    const jmp = after('middle_one', /jmp\s+[0-9a-f]+ <leaf_one>/);
    expect(info.tailCallChain(ret, fnStart('leaf_one'))).toEqual([{ function: fnStart('middle_one'), returnPc: jmp }]);
    const ambiguous = after('outer_amb', /call\s+[0-9a-f]+ <dispatch>/);
    expect(info.tailCallChain(ambiguous, fnStart('leaf_amb'))).toEqual([]);
    // a callee declared, not defined, in the caller's unit: only found by name
    const far = after('outer_far', /call\s+[0-9a-f]+ <far_middle>/);
    expect(info.callSiteAt(far)?.callee).toBeNull();
    const named = DebugInfo.fromSections(ElfFile.open(bin), null, (name) => (name === 'far_middle' ? fnStart('far_middle') : null))!;
    expect(named.callSiteAt(far)?.callee).toBe(fnStart('far_middle'));
    const viaHub = after('outer_hub', /call\s+[0-9a-f]+ <pick>/);
    expect(info.tailCallChain(viaHub, fnStart('leaf_hub'))).toEqual([{ function: fnStart('hub'), returnPc: after('hub', /jmp\s+[0-9a-f]+ <leaf_hub>/) }]);
    // a caller that called the stopped function directly gets nothing
    expect(info.tailCallChain(ret, fnStart('middle_one'))).toEqual([]);
  });
});

describe('a C++ tail call into another unit, named by its declaration in the caller\'s unit (issue 19)', () => {
  // run() inlines Elem::QueryBoolAttribute, which ends in `jmp Attr::QueryBool`; that call site's
  // DW_AT_call_origin is the in-class declaration in tail_decl_main.cc's unit, the definition is in tail_decl_lib.cc's
  const others = ['tail_decl_lib.cc', 'tail_decl.h'].map((f) => fs.readFileSync(path.join(FIXTURES, f)));
  const hash = createHash('sha256').update(Buffer.concat(others)).digest('hex').slice(0, 8);
  const bin = buildFixture('tail_decl_main.cc', { flags: ['-O2', '-g'], libs: [path.join(FIXTURES, 'tail_decl_lib.cc')], variant: `O2-${hash}` });

  test('the fixture tail-calls through a declaration', () => {
    const asm = execFileSync('objdump', ['-d', '--no-show-raw-insn', '-C', bin], { encoding: 'utf8' });
    expect(asm.split('<run(Elem*, bool*)>:\n')[1].split('\n\n')[0]).toMatch(/\sjmp\s+[0-9a-f]+ <Attr::QueryBool\(bool\*\) const>/);
    const info = execFileSync('readelf', ['--debug-dump=info', bin], { encoding: 'utf8' });
    expect(info).toMatch(/DW_AT_call_tail_call/);
  });

  test('the tail-call frame equals gdb\'s: one frame named by the inlined function that jumped, at its line', async () => {
    const { capture } = await recordWithPtrace([bin], { hooks: ['ToInt'] });
    const stops = gdbPythonStacks([bin], ['ToInt'], { maxStops: 1 });
    expect(stops).toHaveLength(1);
    const row = (name: string, inlined: boolean, file: string | null, line: number | null) => `${name}${inlined ? ' [inlined]' : ''} ${file ? path.basename(file) : '?'}:${line}`;
    const rows: string[] = [];
    for (const f of expandHits(capture)[0].frames) {
      // gdb's frame.name() has no parameter list
      rows.push(row((f.symbol ?? '??').replace(/\(.*\)( const)?$/, ''), f.inlined, f.file, f.line));
      if (f.symbol === 'main') break;
    }
    expect(rows).toEqual(stops[0].map((f) => row(f.func, f.inlined, f.file, f.line)));
    expect(expandHits(capture)[0].frames[2]).toMatchObject({ symbol: 'Elem::QueryBoolAttribute', tailCall: true, inlined: false });
  });
});

describe('a tail call inside a shared library (glibc qsort -> __qsort_r, libc6-dbg)', () => {
  const bin = buildFixture('qsort_tail.c', { flags: ['-O2', '-g'] });

  // The call site is in the executable's DWARF (a PLT call of qsort); qsort's `jmp __qsort_r` is
  // described in libc's separate debug file: the chain crosses modules, as gdb follows it.
  test.each([
    ['main > qsort > __qsort_r', []],
    ['main > sort_items > qsort > __qsort_r (sort_items ends in jmp qsort@plt)', ['wrap']],
  ])('%s: the tail-call frames are rebuilt, with gdb\'s names and lines', async (_label, extra) => {
    const argv = [bin, '5', ...extra];
    const { capture } = await recordWithPtrace(argv, { hooks: ['by_value'], maxHits: 3 });
    const stops = gdbPythonStacks(argv, ['by_value'], { maxStops: 3 });
    expect(stops).toHaveLength(3);
    const row = (name: string, inlined: boolean, file: string | null, line: number | null) => `${name}${inlined ? ' [inlined]' : ''} ${file ? path.basename(file) : '?'}:${line}`;
    const ours = expandHits(capture).slice(0, 3).map((h) => {
      const rows: string[] = [];
      for (const f of h.frames) {
        rows.push(row(f.symbol ?? '??', f.inlined, f.file, f.line));
        if (f.symbol === 'main') break;
      }
      return rows;
    });
    expect(ours).toEqual(stops.map((s) => s.map((f) => row(f.func, f.inlined, f.file, f.line))));
    const qsortFrame = expandHits(capture)[0].frames.find((f) => /qsort$/.test(f.symbol ?? '') && !/_r$/.test(f.symbol ?? ''));
    expect(qsortFrame).toMatchObject({ tailCall: true, module: expect.stringMatching(/libc\.so\.6$/) });
    if (extra.length) expect(expandHits(capture)[0].frames.find((f) => f.symbol === 'sort_items')).toMatchObject({ tailCall: true, module: bin });
  });
});

describe.each([
  ['DWARF 5', ['-O2', '-g']],
  ['DWARF 4 (DW_AT_GNU_call_site_target)', ['-O2', '-gdwarf-4']],
])('indirect tail calls: DW_AT_call_target = DW_OP_entry_value(reg), the value given by the calling site (%s)', (variant, flags) => {
  const bin = buildFixture('indirect_tail.c', { flags, variant: variant.replace(/\W+/g, '') });

  test('the fixture really jumps through a register, with the DWARF this case is about', () => {
    const asm = execFileSync('objdump', ['-d', '--no-show-raw-insn', bin], { encoding: 'utf8' });
    expect(asm.split('<dispatch>:\n')[1].split('\n\n')[0]).toMatch(/\sjmp\s+\*%r[a-z0-9]+/);
    expect(asm.split('<relay>:\n')[1].split('\n\n')[0]).toMatch(/\sjmp\s+[0-9a-f]+ <dispatch>/);
    const dwarf = execFileSync('readelf', ['--debug-dump=info', bin], { encoding: 'utf8' });
    expect(dwarf).toMatch(/DW_AT_(call_target|GNU_call_site_target)\s*:.*DW_OP_(GNU_)?entry_value: \(DW_OP_reg5 \(rdi\)\)/);
    expect(dwarf).toMatch(/DW_AT_(call_value|GNU_call_site_value)\s*:.*DW_OP_addr/);
    // the loop's call gives the pointer as a callee-saved register of main's frame
    expect(dwarf).toMatch(/DW_AT_(call_value|GNU_call_site_value)\s*:.*DW_OP_breg(3 \(rbx\)|6 \(rbp\)|1[2-5] \(r1[2-5]\)): 0/);
  });

  // gdb 13 shows `on_first < main` and `on_second < main`: it does not evaluate a call target that
  // is an entry value. The machine code says otherwise: main called dispatch (the return address
  // on the stack is past `call dispatch`), and dispatch jumped to its first parameter, which main
  // set to on_first (`lea on_first(%rip),%rdi`, DW_OP_addr on_first at main's call site). relay
  // passes its own first parameter on to dispatch unchanged (DW_OP_entry_value(rdi) at its jump).
  // In the loop, main keeps on_loop in a callee-saved register, whose value at the call the
  // unwinder recovers from main's frame; those stacks carry that one register value, so the three
  // loop hits are still one distinct stack.
  test('the function that jumped is rebuilt: on_first < dispatch* < main, on_second < dispatch* < relay* < main, on_loop < dispatch* < main', async () => {
    const { capture } = await recordWithPtrace([bin], { hooks: ['on_first', 'on_second', 'on_loop'] });
    const names = expandHits(capture).map((h) => {
      const upToMain = h.frames.slice(0, h.frames.findIndex((f) => f.symbol === 'main') + 1);
      return upToMain.map((f) => `${f.symbol}${f.tailCall ? '*' : ''}`).join(' < ');
    });
    expect(names).toEqual(['on_first < dispatch* < main', 'on_second < dispatch* < relay* < main', ...Array(3).fill('on_loop < dispatch* < main')]);
    expect(capture.stacks.map((s) => s.count)).toEqual([1, 1, 3]);
    const dispatchFrame = expandHits(capture)[0].frames[1];
    const jumpLine = fs.readFileSync(path.join(FIXTURES, 'indirect_tail.c'), 'utf8').split('\n').findIndex((l) => l.includes('f(x); /* jmp')) + 1;
    expect(dispatchFrame).toMatchObject({ file: expect.stringMatching(/indirect_tail\.c$/), line: jumpLine });
    // the machine stack agrees with gdb: the return address is main's, after `call dispatch`
    const stops = gdbPythonStacks([bin], ['on_first', 'on_second', 'on_loop'], { maxStops: 5 });
    expect(stops.map((s) => s.map((f) => f.func).slice(0, 2))).toEqual([['on_first', 'main'], ['on_second', 'main'], ...Array(3).fill(['on_loop', 'main'])]);
  });
});

describe.each([
  ['DWARF 5', ['-O2', '-g']],
  ['DWARF 4', ['-O2', '-gdwarf-4']],
])("an indirect tail call into a shared library: the pointer in the caller's register points into the library (%s)", (variant, flags) => {
  const { binary } = buildWithLibrary('indirect_tail_cross.c', 'indirect_tail_lib.c', { flags, variant: `cross-${variant.replace(/\W+/g, '')}` });

  test('the fixture jumps through a register, to a pointer main loads from the GOT and keeps in a callee-saved register', () => {
    const asm = execFileSync('objdump', ['-d', '--no-show-raw-insn', binary], { encoding: 'utf8' });
    expect(asm.split('<dispatch>:\n')[1].split('\n\n')[0]).toMatch(/\sjmp\s+\*%r[a-z0-9]+/);
    expect(asm.split('<main>:\n')[1].split('\n\n')[0]).toMatch(/mov\s+0x[0-9a-f]+\(%rip\),%(rbx|rbp|r1[2-5])\s+# [0-9a-f]+ <lib_handler/);
    const dwarf = execFileSync('readelf', ['--debug-dump=info', binary], { encoding: 'utf8' });
    expect(dwarf).toMatch(/DW_AT_(call_target|GNU_call_site_target)\s*:.*DW_OP_(GNU_)?entry_value: \(DW_OP_reg5 \(rdi\)\)/);
    expect(dwarf).toMatch(/DW_AT_(call_value|GNU_call_site_value)\s*:.*DW_OP_breg(3 \(rbx\)|6 \(rbp\)|1[2-5] \(r1[2-5]\)): 0/);
  });

  // gdb 13 shows `lib_handler < main` (it follows no entry-value call target); the return address
  // is main's, past `call dispatch`, and dispatch jumped to its first parameter: main's register,
  // which holds lib_handler's address in the library.
  test('the function that jumped is rebuilt across the modules: lib_handler < dispatch* < main, one distinct stack for the loop', async () => {
    const { capture } = await recordWithPtrace([binary], { hooks: ['lib_handler'] });
    const hits = expandHits(capture);
    expect(hits.map((h) => h.frames.slice(0, 3).map((f) => `${f.symbol}${f.tailCall ? '*' : ''}`).join(' < '))).toEqual(Array(3).fill('lib_handler < dispatch* < main'));
    expect(capture.stacks.map((s) => s.count)).toEqual([3]);
    expect(hits[0].frames[0].module).toMatch(/libindirect_tail_lib.*\.so$/);
    expect(hits[0].frames[1]).toMatchObject({ module: binary, file: expect.stringMatching(/indirect_tail_cross\.c$/) });
    const stops = gdbPythonStacks([binary], ['lib_handler'], { maxStops: 3 });
    expect(stops.map((s) => s.map((f) => f.func).slice(0, 2))).toEqual(Array(3).fill(['lib_handler', 'main']));
  });
});
