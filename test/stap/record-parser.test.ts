/**
 * The stap output parser on real output shapes: the seed document's print_usyms listing, the
 * usymdata() formats of the runtime (_stp_snprint_addr with _STP_SYM_DATA in
 * /usr/share/systemtap/runtime/sym.c), and our script's records, fed in arbitrary chunks.
 * Symbol addresses for the record tests come from a real binary, read with nm.
 */
import { execFileSync } from 'node:child_process';
import { buildFixture } from '../helpers/fixtures';
import { expandModulePath, framesFromStap } from '../../src/stap/raw-frames';
import { knownFailure } from '../../src/stap/stap-messages';
import { createStapSymbolizer } from '../../src/stap/stap-symbolize';
import { RawStapHit, StapRecordParser, parseBacktraceString, parsePrintUsyms, parseUsymdata } from '../../src/stap/record-parser';
import { RECORD_MARKER } from '../../src/stap/script';

// From the seed (seeds/000_8c22984d63eb9068.txt), verbatim: `println(ut); print_usyms(ut)` after `ls /` output.
const SEED_LISTING = `bin   cgroup      data01  etc   lib    lost+found  misc  net  proc  sbin     srv   ssd2  ssd4  tmp  var
boot  core.19981  dev     home  lib64  media       mnt   opt  root  selinux  ssd1  ssd3  sys   usr
0x4116b0 0x4116ec 0x40e6bb 0x408834 0x39bf41ecdd 0x402809
 0x4116b0 : xmalloc+0x0/0x20 [/bin/ls]
 0x4116ec : xmemdup+0x1c/0x40 [/bin/ls]
 0x40e6bb : clone_quoting_options+0x3b/0x50 [/bin/ls]
 0x408834 : main+0x3b4/0x1900 [/bin/ls]
 0x39bf41ecdd : __libc_start_main+0xfd/0x1d0 [/lib64/libc-2.12.so]
 0x402809 : _start+0x29/0x2c [/bin/ls]
`;

describe('print_usyms listings (the seed)', () => {
  const frames = parsePrintUsyms(SEED_LISTING);

  test('every frame line is parsed, the program output and the ubacktrace line are not frames', () => {
    expect(frames.map((f) => f.symbol)).toEqual(['xmalloc', 'xmemdup', 'clone_quoting_options', 'main', '__libc_start_main', '_start']);
  });

  test('addresses, offsets, sizes and modules', () => {
    expect(frames[0]).toEqual({ pc: 0x4116b0, module: '/bin/ls', symbol: 'xmalloc', symbolOffset: 0, symbolSize: 0x20, mappingOffset: null, usymdata: 'xmalloc+0x0/0x20 [/bin/ls]' });
    expect(frames[3]).toMatchObject({ pc: 0x408834, symbol: 'main', symbolOffset: 0x3b4, symbolSize: 0x1900 });
    expect(frames[4]).toMatchObject({ pc: 0x39bf41ecdd, module: '/lib64/libc-2.12.so', symbolOffset: 0xfd, symbolSize: 0x1d0 });
  });

  test('the ubacktrace() line of the seed gives the same addresses as the listing', () => {
    const line = SEED_LISTING.split('\n')[2];
    expect(parseBacktraceString(line)).toEqual(frames.map((f) => f.pc));
  });
});

describe('usymdata() formats', () => {
  test('symbol, offset, size and module', () => {
    expect(parseUsymdata('qsort_r+0x1c/0x2a0 [/usr/lib/x86_64-linux-gnu/libc.so.6]')).toMatchObject({
      symbol: 'qsort_r',
      symbolOffset: 0x1c,
      symbolSize: 0x2a0,
      module: '/usr/lib/x86_64-linux-gnu/libc.so.6',
    });
  });

  test('a zero offset printed as "0" by a printf without the 0x for zero', () => {
    expect(parseUsymdata('leaf+0/0xb [/tmp/chain]')).toMatchObject({ symbol: 'leaf', symbolOffset: 0, symbolSize: 0xb });
  });

  test('symbol without module', () => {
    expect(parseUsymdata('main+0x3b4/0x1900')).toMatchObject({ symbol: 'main', symbolOffset: 0x3b4, module: null });
  });

  test('no symbol but a module: the address and the offset inside the module mapping', () => {
    expect(parseUsymdata('0x00007f2a1c029d8f [/usr/lib/x86_64-linux-gnu/libc.so.6+0x29d8f/0x1d8000]')).toEqual({
      symbol: null,
      symbolOffset: null,
      symbolSize: null,
      module: '/usr/lib/x86_64-linux-gnu/libc.so.6',
      moduleOffset: 0x29d8f,
      address: 0x7f2a1c029d8f,
      inexact: false,
    });
  });

  test('nothing known: the bare address', () => {
    expect(parseUsymdata('0x00007ffd3a1f0000')).toMatchObject({ symbol: null, module: null, address: 0x7ffd3a1f0000 });
  });

  test('C++ names with spaces and parentheses keep their text', () => {
    expect(parseUsymdata('geo::Shape::area(int) const+0x12/0x40 [/tmp/cpp]')).toMatchObject({ symbol: 'geo::Shape::area(int) const', symbolOffset: 0x12 });
  });
});

/** Our script's records for one hit, in the format the generated printf statements write. */
function hitRecords(id: number, hook: number, pid: number, tid: number, frames: Array<[number, string, string, string]>): string[] {
  const bt = frames.map(([pc]) => '0x' + pc.toString(16)).join(' ');
  return [
    `${RECORD_MARKER}\tH\t${id}\t${hook}\t${pid}\t${tid}\t${bt}`,
    ...frames.map(([pc, mapOff, mod, usym], i) => `${RECORD_MARKER}\tF\t${id}\t${i}\t0x${pc.toString(16)}\t${mapOff}\t${mod}\t${usym}`),
    `${RECORD_MARKER}\tE\t${id}\t${frames.length}`,
  ];
}

function nmSymbols(binary: string): Map<string, { address: number; size: number }> {
  const out = execFileSync('nm', ['-S', '--defined-only', binary], { encoding: 'utf8' });
  const map = new Map<string, { address: number; size: number }>();
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) [tT] (\S+)$/.exec(line);
    if (m) map.set(m[3], { address: parseInt(m[1], 16), size: parseInt(m[2], 16) });
  }
  return map;
}

describe('record stream', () => {
  const chain = buildFixture('chain.c', { variant: 'stap-parse' });
  const syms = nmSymbols(chain);
  const base = 0x55d0c3a00000; // a PIE load base
  const frame = (name: string, off: number): [number, string, string, string] => {
    const s = syms.get(name)!;
    return [base + s.address + off, (s.address + off - 0x1000).toString(16), chain, `${name}+0x${off.toString(16)}/0x${s.size.toString(16)} [${chain}]`];
  };
  const stack1 = [frame('leaf', 8), frame('mid', 0x15), frame('top', 0x14), frame('main', 0x40)];
  const stack2 = [frame('leaf', 8), frame('mid', 0x15), frame('top', 0x2a), frame('main', 0x40)];
  const lines = [
    `${RECORD_MARKER}\tB\t4242`,
    ...hitRecords(1, 0, 4242, 4242, stack1),
    // two hits whose lines interleave (two CPUs)
    ...interleave(hitRecords(2, 0, 4242, 4243, stack2), hitRecords(3, 1, 4242, 4244, stack1.slice(1))),
    'WARNING: Missing unwind data for a module, rerun with \'stap -d /usr/lib/x86_64-linux-gnu/libfoo.so\'',
    `${RECORD_MARKER}\tC\t0\t7`,
    `${RECORD_MARKER}\tC\t1\t1`,
  ];
  const text = lines.join('\n') + '\n';

  function interleave(a: string[], b: string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i < a.length) out.push(a[i]);
      if (i < b.length) out.push(b[i]);
    }
    return out;
  }

  function parseInChunks(chunkSize: number) {
    const hits: RawStapHit[] = [];
    const other: string[] = [];
    let begin = -1;
    const parser = new StapRecordParser({ onHit: (h) => hits.push(h), onOtherLine: (l) => other.push(l), onBegin: (p) => (begin = p) });
    const buf = Buffer.from(text);
    for (let i = 0; i < buf.length; i += chunkSize) parser.push(buf.subarray(i, i + chunkSize));
    parser.end();
    // hits arrive in the order their end lines do; the backend orders them by id
    hits.sort((a, b) => a.id - b.id);
    return { hits, other, begin, totals: parser.totals };
  }

  test.each([1, 7, 64, 100000])('chunks of %i bytes give the same hits', (size) => {
    const { hits, other, begin, totals } = parseInChunks(size);
    expect(begin).toBe(4242);
    expect(hits.map((h) => [h.id, h.hookIndex, h.tid, h.frames.length, h.complete])).toEqual([
      [1, 0, 4242, 4, true],
      [2, 0, 4243, 4, true],
      [3, 1, 4244, 3, true],
    ]);
    expect(hits[1].frames.map((f) => f.symbol)).toEqual(['leaf', 'mid', 'top', 'main']);
    expect(other).toEqual([expect.stringContaining('Missing unwind data')]);
    expect([...totals]).toEqual([[0, 7], [1, 1]]);
  });

  test('a hit cut off by the end of the stream is delivered as incomplete', () => {
    const hits: RawStapHit[] = [];
    const parser = new StapRecordParser({ onHit: (h) => hits.push(h) });
    parser.push(hitRecords(9, 0, 1, 1, stack1).slice(0, 3).join('\n') + '\n');
    parser.end();
    expect(hits).toHaveLength(1);
    expect(hits[0].complete).toBe(false);
    expect(hits[0].frames.map((f) => f.symbol)).toEqual(['leaf', 'mid']);
  });

  test('the run markers: R (stap has the holder: release it), X (the program started), Z (its end, after its counts)', () => {
    const events: string[] = [];
    const parser = new StapRecordParser({
      onBegin: (p) => events.push(`begin ${p}`),
      onReady: (p) => events.push(`ready ${p}`),
      onProgramEnd: (p) => events.push(`end ${p}; started ${parser.programStarted}; totals ${[...parser.totals].join(' ')}`),
      onHit: (h) => events.push(`hit ${h.id}`),
    });
    const stream = [`${RECORD_MARKER}\tB\t77`, `${RECORD_MARKER}\tR\t77`, `${RECORD_MARKER}\tX\t77`, ...hitRecords(1, 0, 77, 77, stack1), `${RECORD_MARKER}\tC\t0\t1`, `${RECORD_MARKER}\tZ\t77`];
    expect(parser.programStarted).toBe(false);
    parser.push(stream.join('\n') + '\n');
    expect(events).toEqual(['begin 77', 'ready 77', 'hit 1', 'end 77; started true; totals 0,1']);
    expect(parser.programEnded).toBe(true);
  });

  test('frames get module offsets that match nm, and pc/module as stap printed them', () => {
    const { hits } = parseInChunks(4096);
    const frames = framesFromStap(hits[0].frames);
    expect(frames.map((f) => f.offset)).toEqual(
      [['leaf', 8], ['mid', 0x15], ['top', 0x14], ['main', 0x40]].map(([n, o]) => '0x' + (syms.get(n as string)!.address + (o as number)).toString(16)),
    );
    expect(frames[0]).toMatchObject({ pc: '0x' + (base + syms.get('leaf')!.address + 8).toString(16), module: chain, symbol: 'leaf', symbolOffset: 8, file: null, line: null, inlined: false });
  });

  test('without a symbol the offset comes from the mapping offset and the ELF segments', () => {
    const leaf = syms.get('leaf')!;
    // the executable segment's first page, from readelf (the kernel maps each segment on its own)
    const load = execFileSync('readelf', ['-lW', chain], { encoding: 'utf8' })
      .split('\n')
      .find((l) => /^\s*LOAD\b.*\bR E\b/.test(l))!;
    const textSegmentStart = Math.floor(parseInt(load.trim().split(/\s+/)[2], 16) / 0x1000) * 0x1000;
    const [f] = framesFromStap([
      { pc: base + leaf.address, module: chain, symbol: null, symbolOffset: null, symbolSize: null, mappingOffset: leaf.address - textSegmentStart, usymdata: '' },
    ]);
    expect(f.offset).toBe('0x' + leaf.address.toString(16));
  });

  test('our symbolizer finishes the frames with file:line, as addr2line reads them', () => {
    const { hits } = parseInChunks(4096);
    const frames = createStapSymbolizer().symbolize(hits[0].frames);
    expect(frames.map((f) => f.symbol)).toEqual(['leaf', 'mid', 'top', 'main']);
    // frame 0 is the exact pc, callers are return addresses (looked up at pc - 1, as gdb does)
    const lookups = frames.map((f, i) => '0x' + (parseInt(f.offset!, 16) - (i === 0 ? 0 : 1)).toString(16));
    const lines = execFileSync('addr2line', ['-e', chain, ...lookups], { encoding: 'utf8' }).trim().split('\n');
    expect(frames.map((f) => `${f.file}:${f.line}`)).toEqual(lines.map((l) => l.replace(/ \(discriminator \d+\)$/, '')));
    expect(frames.every((f) => f.module === chain && !f.inlined)).toBe(true);
  });
});

// Verbatim from a real run in the stap lane (staprun in the qemu guest, 2026-12-01).
const REAL_FRAMES = [
  '@@ustack\tF\t1\t3\t0x7fe33a3e5305\t27305\t/usr/lib/x86_64-linux-gnu/libc.so.6\t__libc_start_main@GLIBC_2.2.5+0x85/0x150 [/usr/lib/x86_64-linux-gnu/libc.so.6]',
  '@@ustack\tF\t1\t4\t0x55dfdeb27091\t91\t...mp/jest-ustack-fixtures/fd1e1b1727d80062/chain-stap-chain-O0\t_start+0x21/0x30 [...mp/jest-ustack-fixtures/fd1e1b1727d80062/chain-stap-chain-O0]',
];
const REAL_STAPRUN_ATTACH = `ERROR: Cannot attach to module ustack_e8ec1f3b21cf9eeec1fca77c control channel; not running?
ERROR: Cannot attach to module ustack_e8ec1f3b21cf9eeec1fca77c control channel; not running?
ERROR: 'ustack_e8ec1f3b21cf9eeec1fca77c' is not a zombie systemtap module.`;

describe('what a real run printed', () => {
  test('symbol version suffixes are not part of the name', () => {
    expect(parseUsymdata('__libc_start_main@GLIBC_2.2.5+0x85/0x150 [/usr/lib/x86_64-linux-gnu/libc.so.6]')).toMatchObject({ symbol: '__libc_start_main', symbolOffset: 0x85, symbolSize: 0x150 });
    expect(parseUsymdata('memcpy@@GLIBC_2.14+0x0/0x20 [/usr/lib/x86_64-linux-gnu/libc.so.6]')).toMatchObject({ symbol: 'memcpy' });
  });

  test('module paths the runtime cut to their tail are matched to the known module with that tail', () => {
    const hits: RawStapHit[] = [];
    const parser = new StapRecordParser({ onHit: (h) => hits.push(h) });
    parser.push(`${RECORD_MARKER}\tH\t1\t0\t1\t1\t0x7fe33a3e5305 0x55dfdeb27091\n${REAL_FRAMES.join('\n')}\n${RECORD_MARKER}\tE\t1\t2\n`);
    parser.end();
    const [libc, start] = hits[0].frames;
    expect(libc).toMatchObject({ symbol: '__libc_start_main', module: '/usr/lib/x86_64-linux-gnu/libc.so.6', mappingOffset: 0x27305 });
    const exe = '/tmp/jest-ustack-fixtures/fd1e1b1727d80062/chain-stap-chain-O0';
    expect(expandModulePath(start.module, [exe, '/usr/lib/x86_64-linux-gnu/libc.so.6'])).toBe(exe);
    expect(expandModulePath(start.module, ['/elsewhere/chain'])).toBe(start.module);
    // a library both linked and named by a hook is listed twice: still one module (the lane's same-name case)
    expect(expandModulePath(start.module, [exe, '/usr/lib/x86_64-linux-gnu/libc.so.6', exe])).toBe(exe);
    expect(expandModulePath(start.module, [exe, `/other${exe}`])).toBe(start.module); // two modules with that tail: ambiguous
    expect(expandModulePath('/usr/lib/x86_64-linux-gnu/libc.so.6', [exe])).toBe('/usr/lib/x86_64-linux-gnu/libc.so.6');
  });

  test("staprun's failures become a message with the fix", () => {
    expect(knownFailure(REAL_STAPRUN_ATTACH)).toMatch(/file name must be the module name/);
    expect(knownFailure('Pass 4: compilation failed.  [man error::pass4]')).toMatch(/did not compile.*headers/);
    expect(knownFailure("ERROR: Couldn't insert module '/tmp/x.ko': Operation not permitted")).toMatch(/refused the probe module \/tmp\/x\.ko \(Operation not permitted\)/);
    expect(knownFailure('WARNING: Kernel function symbol table missing')).toBeNull();
  });
});
