/**
 * Parameters and return values (issue 13) against gdb, the oracle: at every `break F` stop the
 * frame's arguments (symbol.is_argument, value(frame)) and, for each call, gdb.FinishBreakpoint's
 * return_value; on C fixtures at -O0 and -O2 (integers, enums, bool, pointers, char *, float and
 * double, structs by value in registers and in memory, an unused parameter, recursion, a thread,
 * longjmp). Hit and return counts equal gdb's; no return breakpoint is left in the code.
 */
import { expandHits } from '../../src/capture/model';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import type { Capture } from '../../src/capture/types';
import { ElfFile } from '../../src/elf/elf-file';
import { buildFixture, FIXTURES } from '../helpers/fixtures';
import { gdbCalls, type GdbCall } from '../helpers/gdb-values';
import { formatCallLine, formatValue } from '../../src/capture/value-format';
import { runGdbScript } from '../helpers/gdb';

afterAll(() => shutdownTracer());

const FUNCTIONS = ['xalloc', 'mix', 'scale', 'move', 'swap_pair', 'grow', 'unused_arg', 'fact', 'jumper', 'label', 'check_code'];

/**
 * gdb's FinishBreakpoint matches a return by frame (stack pointer and code address): after
 * jumper's longjmp, main resumes at setjmp's return, which is also jumper's return address with
 * the same stack pointer, so gdb reports the outermost jumper as returning setjmp's 7. ustack
 * settles it at the longjmp (see the longjmp test); returns are compared for the other functions.
 */
const GDB_MISREADS_RETURN = new Set(['jumper']);

/**
 * Stack addresses depend on the size of the environment and auxiliary vector, which differ by a
 * few bytes between gdb's and ustack's launch: they are compared as "a stack address".
 */
function maskStack(v: unknown): unknown {
  if (typeof v === 'string') return /^0x7ff[0-9a-f]{9}$/.test(v) ? '<stack address>' : v;
  if (Array.isArray(v)) return v.map(maskStack);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskStack(x)]));
  return v;
}

/**
 * The same holds for a call a C++ exception unwound when the next call comes from the same call
 * site (a loop): gdb's finish breakpoint takes that call's return. Returns are compared for calls
 * ustack saw return; the tests assert separately which calls were unwound.
 */
function unwound(capture: Capture, i: number): boolean {
  const h = expandHits(capture)[i];
  return GDB_MISREADS_RETURN.has(h.hook.replace(/@.*$/, '')) || h.noReturn === 'exception' || h.noReturn === 'longjmp';
}

function ours(capture: Capture) {
  return expandHits(capture).map((h, i) => {
    const func = h.hook.replace(/@.*$/, '');
    return { func, args: h.args, ...(unwound(capture, i) ? {} : { returned: h.return ? { value: h.return.value } : null }) };
  });
}

function theirs(calls: GdbCall[], capture: Capture) {
  return calls.map((c, i) => ({ func: c.func, args: c.args, ...(i < expandHits(capture).length && unwound(capture, i) ? {} : { returned: c.returned ?? null }) }));
}

function gdbReturns(calls: GdbCall[], capture: Capture): number {
  return calls.filter((c, i) => c.returned && !(i < expandHits(capture).length && unwound(capture, i))).length;
}

describe.each([
  ['-O0', ['-O0', '-g']],
  ['-O2', ['-O2', '-g']],
])('C fixture at %s', (variant, flags) => {
  const bin = buildFixture('params.c', { flags, libs: ['-lpthread'], variant: variant.slice(1) });
  let capture: Capture;
  let stdout: string;
  let oracle: GdbCall[];

  beforeAll(async () => {
    // gdb runs the program without address randomization: so does setarch -R for ustack, so that pointers compare equal
    // (hooks qualified with the binary's name, which is exec'ed by setarch)
    const name = path.basename(bin);
    const r = await recordWithPtrace(['setarch', 'x86_64', '-R', bin], { hooks: FUNCTIONS.map((f) => `${f}@${name}`), args: true, returns: true });
    capture = r.capture;
    stdout = r.stdout;
    oracle = gdbCalls([bin], FUNCTIONS, { returns: true });
  });

  test('arguments and return values equal gdb, call for call', () => {
    expect(oracle.length).toBeGreaterThan(8);
    expect(maskStack(ours(capture))).toEqual(maskStack(theirs(oracle, capture)));
  });

  test('hit and return counts equal gdb', () => {
    expect(capture.stats.hits).toBe(oracle.length);
    expect(capture.stats.returns).toBe(gdbReturns(oracle, capture));
    expect(expandHits(capture).filter((h) => h.return).length).toBe(capture.stats.returns);
  });

  test('calls that longjmp left say so', () => {
    const jumps = expandHits(capture).filter((h) => h.hook.startsWith('jumper@'));
    expect(jumps.length).toBeGreaterThan(0);
    for (const h of jumps) {
      expect(h.return).toBeNull();
      expect(h.noReturn).toBe('longjmp');
    }
  });

  test('no return breakpoint is left in the code: the bytes at every return address are the file\'s', () => {
    const elf = ElfFile.open(bin);
    const text = elf.section('.text')!;
    const sites = [...stdout.matchAll(/^site ([0-9a-f]+) ([0-9a-f]{2})$/gm)];
    expect(sites.length).toBeGreaterThan(8);
    for (const [, offset, byte] of sites) {
      const at = parseInt(offset, 16) - text.address;
      expect({ offset, byte }).toEqual({ offset, byte: text.data[at].toString(16).padStart(2, '0') });
    }
    expect(fs.existsSync(bin)).toBe(true);
  });
});

/** A value gdb gets wrong, checked against the truth from the fixture's source instead. */
interface GdbError {
  func: string;
  /** A parameter name, or 'return'. */
  what: string;
  /** The true value for each call of `func`, in order. */
  truths: unknown[];
  why: string;
}

async function compareLanguage(bin: string, functions: string[], gdbErrors: GdbError[] = []) {
  const name = path.basename(bin);
  const { capture } = await recordWithPtrace(['setarch', 'x86_64', '-R', bin], { hooks: functions.map((f) => `${f}@${name}`), args: true, returns: true });
  const oracle = gdbCalls([bin], functions, { returns: true });
  expect(oracle.length).toBeGreaterThan(3);
  const mine = ours(capture) as { func: string; args?: Record<string, unknown>; returned?: { value: unknown } | null }[];
  const gdbs = theirs(oracle, capture) as typeof mine;
  let missedByGdb = 0; // returns gdb did not see
  for (const e of gdbErrors) {
    const calls = mine.map((c, i) => (c.func === e.func ? i : -1)).filter((i) => i >= 0);
    expect(calls).toHaveLength(e.truths.length);
    calls.forEach((at, k) => {
      if (e.what === 'return') {
        expect({ why: e.why, value: mine[at].returned?.value }).toEqual({ why: e.why, value: e.truths[k] });
        if (!gdbs[at].returned) missedByGdb++;
        mine[at] = { ...mine[at], returned: undefined };
        gdbs[at] = { ...gdbs[at], returned: undefined };
      } else {
        expect({ why: e.why, value: mine[at].args?.[e.what] }).toEqual({ why: e.why, value: e.truths[k] });
        mine[at] = { ...mine[at], args: { ...mine[at].args, [e.what]: 'checked against the source' } };
        gdbs[at] = { ...gdbs[at], args: { ...gdbs[at].args, [e.what]: 'checked against the source' } };
      }
    });
  }
  expect(maskStack(mine)).toEqual(maskStack(gdbs));
  expect(capture.stats.returns).toBe(gdbReturns(oracle, capture) + missedByGdb);
  return capture;
}

const CPP_FUNCTIONS = ['shapes::Counter::add', 'shapes::retag', 'shapes::checked'];

describe.each([
  ['-O0', ['-O0', '-g']],
  ['-O2', ['-O2', '-g']],
])('C++ fixture at %s', (variant, flags) => {
  test('this, references, a non-trivial class by value, and a throwing call equal gdb', async () => {
    const bin = buildFixture('params_cpp.cc', { flags, variant: variant.slice(1) });
    const capture = await compareLanguage(bin, CPP_FUNCTIONS);
    const thrown = expandHits(capture).filter((h) => h.hook.startsWith('shapes::checked@') && h.args?.v === -1);
    expect(thrown).toHaveLength(1);
    expect(thrown[0]).toMatchObject({ return: null, noReturn: 'exception' });
    // the throw path is split off into checked.cold at -O2: not an entry, never hooked (as gdb's break)
    expect(capture.hooks.flatMap((h) => h.resolved.map((r) => r.symbol)).filter((s) => /\.cold/.test(s))).toEqual([]);
  });
});

describe.each([
  ['-O0', ['-O0', '-g']],
  ['-O2', ['-O2', '-g']],
])('C++ standard library values at %s (issue 19)', (variant, flags) => {
  const STD_FUNCTIONS = ['by_value', 'by_ref', 'sum', 'owned', 'maybe', 'tagged', 'make', 'boxed'];
  let bin: string;
  let capture: Capture;
  beforeAll(async () => {
    bin = buildFixture('params_std.cc', { flags, variant: variant.slice(1) });
    const gdbErrors: GdbError[] = [];
    if (variant === '-O2') {
      // as relabel's n in params_types.c: GCC describes a by the stack slot maybe writes in its second instruction
      const why = 'gdb reads the stack slot before the function wrote it';
      gdbErrors.push({ func: 'maybe', what: 'a', truths: [{ summary: 'std::optional<int>', children: { '[contained value]': 3 } }, { summary: 'std::optional<int> [no contained value]' }], why });
    }
    capture = await compareLanguage(bin, STD_FUNCTIONS, gdbErrors);
  });

  test('std::string by value goes by invisible reference: the int after it is 5, as in gdb', () => {
    expect(expandHits(capture).find((h) => h.hook.startsWith('by_value@'))!.args).toEqual({ s: { string: ' uftrace ' }, n: 5 });
    // Box<long>'s copy constructor is named Box, its DW_AT_name Box<long>
    expect(expandHits(capture).find((h) => h.hook.startsWith('boxed@'))!.args).toEqual({ b: { v: 40 }, k: 2 });
  });

  test('strings, vectors, smart pointers and optionals are gdb\'s pretty-printed values, printed as gdb prints them', () => {
    const line = (hook: string, k = 0) => {
      const h = expandHits(capture).filter((x) => x.hook.startsWith(hook + '@'))[k];
      return formatCallLine(hook, h.args!).replace(/0x5{6}[0-9a-f]{6}/g, '0x...');
    };
    expect(line('by_ref')).toBe(`by_ref (s="${'y'.repeat(200)}"..., v="view", n=7)`);
    expect(line('sum')).toBe('sum (v=std::vector of length 3, capacity 4 = {1, 2, 3}, names=std::vector of length 2, capacity 2 = {"a", "bb"}, tail=9)');
    expect(line('sum', 1)).toBe(`sum (v=std::vector of length 100, capacity 100 = {${Array(64).fill('7').join(', ')}, ...}, names=std::vector of length 0, capacity 0, tail=1)`);
    expect(line('owned')).toBe(
      'owned (p=std::unique_ptr<int> = {get() = 0x...}, s=std::shared_ptr<std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >> (use count 1, weak count 0) = {get() = 0x...}, empty=std::unique_ptr<int> = {get() = 0x0})',
    );
    expect(line('maybe')).toBe('maybe (a=std::optional<int> = {[contained value] = 3}, b=std::optional<std::string> [no contained value], k=1)');
    expect(line('maybe', 1)).toBe('maybe (a=std::optional<int> [no contained value], b=std::optional<std::string> = {[contained value] = "opt"}, k=2)');
    expect(line('tagged')).toBe('tagged (n={name = "named", id = 4}, k=6)');
    expect(expandHits(capture).find((h) => h.hook.startsWith('make@'))!.return!.value).toEqual({ name: { string: 'xxxx' }, id: 4 });
  });

  test('every argument prints as gdb\'s `info args` prints it', () => {
    const out = runGdbScript([bin], [
      'set pagination off',
      'set confirm off',
      'set width 0',
      'set print repeats unlimited',
      'set print elements 200',
      'unset environment LINES',
      'unset environment COLUMNS',
      ...STD_FUNCTIONS.map((f) => `break ${f}`),
      `commands 1-${STD_FUNCTIONS.length}`,
      'silent',
      'echo @@STOP\\n',
      'info args',
      'echo @@END\\n',
      'continue',
      'end',
      'run',
    ]);
    // a reference argument prints as `@0x7ffe...: value`: the value is compared
    const gdbLines = [...out.matchAll(/@@STOP\n([\s\S]*?)@@END/g)].map((m) => m[1].trim().split('\n').map((l) => l.replace(/ = @0x[0-9a-f]+: /, ' = ')));
    const ourLines = expandHits(capture).map((h) => Object.entries(h.args!).map(([k, v]) => `${k} = ${formatValue(v)}`));
    expect(gdbLines).toHaveLength(ourLines.length);
    let compared = 0;
    ourLines.forEach((lines, i) => {
      const func = expandHits(capture)[i].hook.replace(/@.*$/, '');
      lines.forEach((line, k) => {
        if (variant === '-O2' && func === 'maybe' && line.startsWith('a = ')) return; // gdb reads the unwritten slot (above)
        // ours stops at 64 elements where gdb prints 200: gdb's starts with ours
        if (line.endsWith(', ...}')) expect(gdbLines[i][k].startsWith(line.slice(0, -', ...}'.length))).toBe(true);
        else expect({ func, line: gdbLines[i][k] }).toEqual({ func, line });
        compared++;
      });
    });
    expect(compared).toBeGreaterThan(15);
  });
});

test.each([['0'], ['2']])('Rust at opt-level=%s: integers, references, &str, bool and f64 equal gdb', async (level) => {
  const bin = buildFixture('params_rust.rs', { flags: ['-g', '-C', `opt-level=${level}`], variant: `O${level}` });
  const gdbErrors: GdbError[] = [];
  if (level === '2') {
    // the program prints "long" and "short"; gdb's FinishBreakpoint gives None for this -O2 instance
    const text = (string: string) => ({ ptr: expect.stringMatching(/^0x[0-9a-f]+$/), string });
    gdbErrors.push({ func: 'params_rust::greet', what: 'return', truths: [text('long'), text('short')], why: 'gdb finds no return type for the optimized instance' });
  }
  await compareLanguage(bin, ['params_rust::add', 'params_rust::greet', 'params_rust::bump', 'params_rust::ratio'], gdbErrors);
});

test('inlined copies at -O2: the inlined block\'s arguments as gdb shows them there; no return to stop at', async () => {
  const bin = buildFixture('src_inline.c', { flags: ['-O2', '-g'], variant: 'O2' });
  const capture = await compareLanguage(bin, ['scale', 'accumulate']);
  expect(expandHits(capture).length).toBeGreaterThan(1);
  for (const h of expandHits(capture)) expect(h).toMatchObject({ return: null, noReturn: 'inlined' });
  expect(expandHits(capture).find((h) => h.hook.startsWith('accumulate@'))!.args).toEqual({ n: 3 });
});

describe.each([
  ['-O0', ['-O0', '-g']],
  ['-O2', ['-O2', '-g']],
])('more C types at %s', (variant, flags) => {
  test('unions, bit fields, enums, __int128, long double, float structs, char arrays, function pointers, stack arguments equal gdb', async () => {
    const bin = buildFixture('params_types.c', { flags, variant: variant.slice(1) });
    const gdbErrors: GdbError[] = [
      // -(1 << 70) * 3 - 5: gdb 13's FinishBreakpoint reads __int128 returns (rax:rdx) as 0
      { func: 'wide', what: 'return', truths: ['-3541774862152233910277'], why: 'gdb 13 reads __int128 return values as 0' },
    ];
    if (variant === '-O2') {
      // GCC describes n by the stack slot relabel fills in its first instructions; gdb stops before that and reads the unwritten slot
      gdbErrors.push({ func: 'relabel', what: 'n', truths: [{ name: 'alpha', codes: [1, 2, 3] }], why: 'gdb reads the stack slot before the function wrote it' });
    }
    await compareLanguage(bin, ['fsum', 'pair_f', 'triple_f', 'wide', 'ext', 'relabel', 'apply', 'many'], gdbErrors);
  });
});

test('tail calls at -O2: a function that jumps to another returns with it, both at the same return', async () => {
  const bin = buildFixture('src_tailcall.c', { flags: ['-O2', '-g'], libs: [path.join(FIXTURES, 'src_tailcall_other.c')], variant: 'O2-returns' });
  // gdb's finish breakpoint in a function reached by a tail call never fires (its frame includes the
  // rebuilt tail-call frames); the values follow from the source: leaf_one(1) = 3, leaf_two(2) = 10
  const why = 'gdb cannot finish out of a tail-called function';
  const capture = await compareLanguage(bin, ['outer_one', 'middle_one', 'leaf_one', 'first_hop', 'second_hop', 'leaf_two'], [
    { func: 'leaf_one', what: 'return', truths: [3], why },
    { func: 'second_hop', what: 'return', truths: [10], why },
    { func: 'leaf_two', what: 'return', truths: [10], why },
  ]);
  const byHook = (name: string) => expandHits(capture).filter((h) => h.hook.startsWith(name + '@'));
  // middle_one ends in `jmp leaf_one`: both return leaf_one's value at middle_one's return address
  expect(byHook('middle_one')[0].return!.value).toBe(byHook('leaf_one')[0].return!.value);
  expect(byHook('first_hop')[0].return!.value).toBe(byHook('leaf_two')[0].return!.value);
});
