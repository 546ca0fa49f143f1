/**
 * Frame names and hook locations against gdb 13 on real third-party code built by the tests from
 * Debian's packages: tinyxml2's own test program (C++ at -O2: namespaces, templates, virtual
 * visitors, a class local to main) and the rustc-demangle crate driven by a small program
 * (Rust at -O, v0 mangling: closures, trait impls, generics, a std thread). Every frame name of
 * every hit (inline frames included) must be gdb's `bt` name; every spec's location list gdb's
 * `info breakpoints`.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expandHits } from '../../src/capture/model';
import type { Frame } from '../../src/capture/types';
import { ElfFile } from '../../src/elf/elf-file';
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { demangle, stripParameters } from '../../src/symbolize/demangle';
import { hookModule, planHook, unknownHookError } from '../../src/symbolize/hook-resolver';
import { isGlob, parseHookSpec } from '../../src/symbolize/hook-spec';
import { cachedBuild, compileAndLink, debianBinaryPackage, debianSource } from '../helpers/debian-source';
import { FIXTURES, buildFixture } from '../helpers/fixtures';
import { gdbPythonStacks, runGdbScript, type GdbPyFrame } from '../helpers/gdb';

jest.setTimeout(900000);
afterAll(() => shutdownTracer());

function toolVersion(cmd: string): string {
  return execFileSync(cmd, ['--version'], { encoding: 'utf8' }).split('\n')[0];
}

/** tinyxml2's xmltest at -O2 -g from `apt-get source tinyxml2`, with the resources it reads beside it. */
function buildXmltest(): { bin: string; cwd: string } {
  const tree = debianSource('tinyxml2');
  const out = cachedBuild('tinyxml2-xmltest', [tree, '-O2 -g', toolVersion('g++')], (dir) => {
    compileAndLink({ compiler: 'g++', sources: ['xmltest.cpp', 'tinyxml2.cpp'], flags: ['-O2', '-g'], out: path.join(dir, 'xmltest'), cwd: tree, link: [] });
    fs.cpSync(path.join(tree, 'resources'), path.join(dir, 'resources'), { recursive: true });
  });
  return { bin: path.join(out, 'xmltest'), cwd: out };
}

/** test/fixtures/demangle_driver.rs linked with the rustc-demangle crate from librust-rustc-demangle-dev, -O -g, v0 mangling. */
function buildDemangleDriver(): string {
  const root = debianBinaryPackage('librust-rustc-demangle-dev');
  const registry = path.join(root, 'usr', 'share', 'cargo', 'registry');
  const crate = fs.readdirSync(registry).find((d) => d.startsWith('rustc-demangle-'))!;
  const lib = path.join(registry, crate, 'src', 'lib.rs');
  const driver = path.join(FIXTURES, 'demangle_driver.rs');
  const flags = ['-O', '-g', '-C', 'symbol-mangling-version=v0'];
  const out = cachedBuild('demangle-driver', [lib, fs.readFileSync(driver, 'utf8'), flags, toolVersion('rustc')], (dir) => {
    const rlib = path.join(dir, 'librustc_demangle.rlib');
    execFileSync('rustc', ['--edition', '2015', '--crate-type', 'rlib', '--crate-name', 'rustc_demangle', '--cap-lints', 'allow', ...flags, lib, '-o', rlib], { stdio: 'ignore' });
    execFileSync('rustc', ['--edition', '2021', ...flags, '--extern', `rustc_demangle=${rlib}`, driver, '-o', path.join(dir, 'demangle_driver')], { stdio: 'ignore' });
  });
  return path.join(out, 'demangle_driver');
}

/** One frame as both tools name it: gdb's `bt` prints C++ names without their parameter list. */
function row(name: string, inlined: boolean): string {
  return `${name}${inlined ? ' [inlined]' : ''}`;
}

function ourRows(frames: Frame[]): string[] {
  const out: string[] = [];
  for (const f of frames) {
    out.push(row(f.symbol ?? '??', f.inlined));
    if (f.symbol === 'main') break;
  }
  return out;
}

function gdbRows(frames: GdbPyFrame[]): string[] {
  return frames.map((f) => row(/\)( const)?$/.test(f.func) && !f.func.endsWith('operator()') ? stripParameters(f.func) : f.func, f.inlined));
}

/**
 * gdb's frames from the hooked function outwards. For rustc's code gdb's `break F` stops where the
 * line table says F's prologue ends (prologue_end), which may be inside calls inlined into F, so
 * gdb's frame 0 is then the innermost of them; our hook is at F's first instruction (gdb's
 * `break *F`), where F is frame 0. Same calls, same frames from F out.
 */
function fromHooked(rows: string[], hook: string): string[] {
  const at = rows.findIndex((r) => r.replace(/ \[inlined\]$/, '') === hook);
  return at > 0 ? rows.slice(at) : rows;
}

/** The first `n` hits of `hook`, ours and gdb's (`break hook`), frame names up to main. */
async function bothStacks(argv: string[], hook: string, cwd: string | undefined, n: number): Promise<{ ours: string[][]; gdb: string[][]; hits: number }> {
  const { capture } = await recordWithPtrace(argv, { hooks: [hook], cwd, maxHits: n, stdout: 'pipe' });
  const gdb = gdbPythonStacks(argv, [hook], { maxStops: n, cwd });
  return { ours: expandHits(capture).slice(0, n).map((h) => ourRows(h.frames)), gdb: gdb.map((g) => fromHooked(gdbRows(g), hook)), hits: capture.stats.hits };
}

/** How many times gdb stops at `break spec` over the whole run. */
function gdbHitCount(argv: string[], spec: string, cwd?: string): number {
  const out = runGdbScript(argv, ['set pagination off', 'set breakpoint pending on', `break ${spec}`, 'commands', 'silent', 'continue', 'end', 'run', 'info breakpoints'], { cwd });
  const m = /breakpoint already hit (\d+) time/.exec(out);
  return m ? Number(m[1]) : 0;
}

/** Addresses of every location of gdb's `break spec`, before the program runs (link-time addresses), sorted. */
function gdbLocations(bin: string, spec: string): number[] {
  const out = runGdbScript([bin], ['set breakpoint pending off', `break ${spec}`, 'info breakpoints']);
  const table = out.slice(out.indexOf('Num '));
  return [...new Set([...table.matchAll(/\b0x([0-9a-f]+) in /g)].map((m) => parseInt(m[1], 16)))].sort((a, b) => a - b);
}

/** Our locations as gdb lists them: an entry by gdb's break address past the prologue where the line table marks one. */
function ourLocations(bin: string, spec: string): number[] {
  const plan = planHook(parseHookSpec(spec), [hookModule(bin, ElfFile.open(bin), true)], demangle);
  return plan.locations.map((l) => l.breakAddress ?? l.address).sort((a, b) => a - b);
}

/** The error `record` gives for a spec that matches nothing (its message lists near names). */
function unknownSpecMessage(bin: string, spec: string): string {
  const modules = [hookModule(bin, ElfFile.open(bin), true)];
  expect(planHook(parseHookSpec(spec), modules, demangle).locations).toEqual([]);
  return unknownHookError(parseHookSpec(spec), modules, demangle).message;
}

describe('C++: tinyxml2 xmltest (-O2)', () => {
  let xml: { bin: string; cwd: string };
  beforeAll(() => {
    xml = buildXmltest();
  });

  test.each([
    ['TestUtil::TestParseError', 10],
    ['tinyxml2::XMLElement::FindAttribute', 40],
    ['tinyxml2::MemPoolT<104>::Alloc', 30],
    ['tinyxml2::XMLPrinter::VisitEnter', 30],
    // a local class's virtual methods, called by tinyxml2's Accept
    ['TestUtil::VisitEnter', 20],
    // overloads of a file-level function, inlined copies included
    ['XMLTest', 40],
  ])('%s: the frame names of every hit are gdb\'s', async (hook, n) => {
    const { ours, gdb } = await bothStacks([xml.bin], hook, xml.cwd, n);
    expect(gdb.length).toBeGreaterThan(0);
    expect(ours).toEqual(gdb);
  });

  test.each([
    // a class local to main: gdb names it without main (DWARF scope), a parameter list in any spelling
    ['TestUtil::TestParseError', 1],
    ['TestUtil::TestParseError(const char*, const char *, tinyxml2::XMLError, int)', 1],
    // and by its symbol's demangled name, which gdb also knows
    ['main::TestUtil::TestParseError', 1],
    // an out-of-line entry and 9 inlined copies; a parameter list keeps the inlined copies
    ['tinyxml2::XMLElement::FindAttribute', 10],
    ['tinyxml2::XMLElement::FindAttribute(char const*) const', 10],
    ['tinyxml2::XMLElement::FindAttribute(const char*) const', 10],
    ['tinyxml2::XMLElement::FindAttribute(const char *) const', 10],
    // the list names the method's qualifiers too: without `const` it is another function (none)
    ['tinyxml2::XMLElement::FindAttribute(char const*)', 0],
    ['tinyxml2::XMLElement::IntAttribute(const char*, int) const', 1],
    // overloads: a list picks one
    ['tinyxml2::XMLPrinter::VisitEnter', 4],
    ['tinyxml2::XMLPrinter::VisitEnter(tinyxml2::XMLDocument const&)', 3],
    ['tinyxml2::XMLPrinter::VisitEnter(const tinyxml2::XMLDocument &)', 3],
    // template value arguments; trailing components
    ['tinyxml2::MemPoolT<104>::Alloc', 11],
    ['MemPoolT<104>::Alloc', 11],
    ['MemPoolT<104u>::Alloc()', 0],
    ['TestUtil::VisitEnter', 2],
    ['TestUtil::VisitEnter(const tinyxml2::XMLDocument&)', 1],
    ['XMLTest(const char *, bool, bool, bool, bool)', 176],
  ])("break %s: gdb's location list", (spec, count) => {
    const gdb = gdbLocations(xml.bin, spec);
    expect(gdb.length).toBe(count);
    if (count > 0) expect(ourLocations(xml.bin, spec)).toEqual(gdb);
    else expect(() => ourLocations(xml.bin, spec)).not.toThrow();
  });

  test.each([
    // gdb has no globs in `break`: the union of gdb's locations of every name the glob matches
    ['XMLPrinter::Visit*', ['tinyxml2::XMLPrinter::Visit', 'tinyxml2::XMLPrinter::VisitEnter', 'tinyxml2::XMLPrinter::VisitExit']],
    ['MemPoolT<*>::Alloc', ['tinyxml2::MemPoolT<80>::Alloc', 'tinyxml2::MemPoolT<104>::Alloc', 'tinyxml2::MemPoolT<112>::Alloc', 'tinyxml2::MemPoolT<120>::Alloc']],
  ])('the glob %s matches trailing name components as a plain name does', (glob, names) => {
    const union = [...new Set(names.flatMap((n) => gdbLocations(xml.bin, n)))].sort((a, b) => a - b);
    expect(union.length).toBeGreaterThan(names.length - 1);
    expect(ourLocations(xml.bin, glob)).toEqual(union);
    expect(ourLocations(xml.bin, glob.replace(/^/, 'tinyxml2::'))).toEqual(union);
  });

  test('a parameter list is types, not a glob; a glob name with a list picks by both', () => {
    expect(isGlob('tinyxml2::XMLElement::FindAttribute(const char*) const')).toBe(false);
    const names = ['tinyxml2::XMLPrinter::VisitEnter(tinyxml2::XMLDocument const&)', 'tinyxml2::XMLPrinter::VisitExit(tinyxml2::XMLDocument const&)'];
    const union = [...new Set(names.flatMap((n) => gdbLocations(xml.bin, n)))].sort((a, b) => a - b);
    expect(union.length).toBeGreaterThan(1);
    expect(ourLocations(xml.bin, 'XMLPrinter::Visit*(const tinyxml2::XMLDocument &)')).toEqual(union);
  });

  test("ustack symbols names a local class's methods as gdb's info breakpoints does", () => {
    const cli = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
    const ours = execFileSync('node', [cli, 'symbols', xml.bin, 'TestUtil::VisitEnter'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => /^0x[0-9a-f]+ +\d+ entry +(.*?)  \(_Z/.exec(l)?.[1]);
    const info = runGdbScript([xml.bin], ['break TestUtil::VisitEnter', 'info breakpoints']);
    const gdb = [...info.matchAll(/ in (TestUtil::\S.*?) at /g)].map((m) => m[1]);
    expect(gdb).toHaveLength(2);
    expect(ours).toEqual(gdb);
  });

  test('an unknown C++ name gets near names', () => {
    expect(unknownSpecMessage(xml.bin, 'tinyxml2::XMLElement::FindAtribute')).toMatch(/tinyxml2::XMLElement::FindAttribute\b/);
    expect(unknownSpecMessage(xml.bin, 'XMLPrinter::VistEnter')).toMatch(/tinyxml2::XMLPrinter::VisitEnter\b/);
    expect(unknownSpecMessage(xml.bin, 'TestUtil::TestParseEror')).toMatch(/TestUtil::TestParseError\b/);
  });
});

describe('Rust: rustc-demangle driven by demangle_driver.rs (-O, v0 mangling)', () => {
  let bin: string;
  const args = ['_ZN4test4mainE', '_RNvCs1234_7mycrate3foo', '_RNvMs4_NtCsoxrhTcCEjM_14rustc_demangle2v0NtB5_7Printer10print_path'];
  beforeAll(() => {
    bin = buildDemangleDriver();
  });

  test.each([
    ['rustc_demangle::demangle', 10],
    ['rustc_demangle::v0::Printer::print_path', 20],
    ['std::sys::thread::unix::{impl#2}::new::thread_start', 5],
  ])('%s: the frame names of every hit are gdb\'s', async (hook, n) => {
    const { ours, gdb } = await bothStacks([bin, ...args], hook, undefined, n);
    expect(gdb.length).toBeGreaterThan(0);
    expect(ours).toEqual(gdb);
  });

  test.each([
    ['rustc_demangle::demangle', 1],
    ['rustc_demangle::v0::Printer::print_path', 1],
    ['std::sys::thread::unix::{impl#2}::new::thread_start', 1],
    ['demangle_driver::render_all<demangle_driver::Plain>', 1],
  ])("break %s: gdb's location list (past the prologue, as rustc's line table marks it)", (spec, count) => {
    const gdb = gdbLocations(bin, spec);
    expect(gdb.length).toBe(count);
    expect(ourLocations(bin, spec)).toEqual(gdb);
  });

  test('a function whose prologue ends at an inlined copy of another match is hit once per call (RawVec::grow_one)', async () => {
    const spec = 'alloc::raw_vec::RawVec<usize, alloc::alloc::Global>::grow_one<usize, alloc::alloc::Global>';
    const { capture } = await recordWithPtrace([bin, ...args], { hooks: ['grow_one'] });
    const plan = planHook(parseHookSpec('grow_one'), [hookModule(bin, ElfFile.open(bin), true)], demangle);
    const entry = plan.locations.find((l) => l.kind === 'entry' && l.breakAddress !== undefined && plan.locations.every((o) => o.address !== l.breakAddress))!;
    expect(entry).toBeDefined();
    // the copy of RawVecInner::grow_one inlined where RawVec::grow_one's prologue ends is one location with it, as in gdb
    expect(gdbLocations(bin, 'grow_one')).toContain(entry.breakAddress);
    expect(capture.stats.hits).toBe(gdbHitCount([bin, ...args], 'grow_one'));
    const hits = expandHits(capture).filter((h) => h.frames[0].symbol === spec);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => !h.frames[0].inlined)).toBe(true);
  });

  test('ustack symbols lists a Rust function by its frames\' name, with gdb\'s break address past the prologue', () => {
    const cli = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
    const out = execFileSync('node', [cli, 'symbols', bin, 'rustc_demangle::v0::Printer::print_path'], { encoding: 'utf8' });
    const [gdb] = gdbLocations(bin, 'rustc_demangle::v0::Printer::print_path');
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(out).toMatch(new RegExp(`^0x[0-9a-f]+ +\\d+ entry +rustc_demangle::v0::Printer::print_path  \\(_R\\S+\\)  \\(gdb's break F: 0x${gdb.toString(16)}, past the prologue\\)\\n$`));
  });

  test('specs: DWARF paths, demangled paths, impl blocks, and near names for unknown ones', () => {
    expect(ourLocations(bin, 'demangle_driver::render_all')).toEqual(gdbLocations(bin, 'demangle_driver::render_all<demangle_driver::Plain>').concat(gdbLocations(bin, 'demangle_driver::render_all<demangle_driver::Alternate>')).sort((a, b) => a - b));
    // the demangled spelling of the same function is accepted too, out of line and inlined (a trait impl's method)
    expect(ourLocations(bin, '<rustc_demangle::v0::Printer>::print_path')).toEqual(ourLocations(bin, 'rustc_demangle::v0::Printer::print_path'));
    expect(ourLocations(bin, '<demangle_driver::Plain as demangle_driver::Render>::render')).toEqual(gdbLocations(bin, 'demangle_driver::{impl#0}::render'));
    expect(unknownSpecMessage(bin, 'rustc_demangle::v0::Printer::print_pth')).toMatch(/rustc_demangle::v0::Printer::print_path\b/);
    expect(unknownSpecMessage(bin, 'std::sys::thread::unix::{impl#2}::new::thread_strat')).toMatch(/std::sys::thread::unix::\{impl#2\}::new::thread_start\b/);
  });
});

describe('C++ fixture: template value arguments of other integer types, a local class (template_values.cc -O2)', () => {
  const bin = buildFixture('template_values.cc', { flags: ['-O2', '-g'], variant: 'O2' });

  test.each([
    // gdb prints an unsigned long argument 104ul and finds it by both spellings
    ['Pool<104ul>::Alloc', 'Pool<104ul>::Alloc', 1],
    ['Pool<104>::Alloc', 'Pool<104ul>::Alloc', 1],
    ['scaled<7u>', 'scaled<7u>', 1],
    ['Local::twice', 'Local::twice', 1],
  ])("break %s: gdb's locations, and every hit's frame names", async (spec, frame0, count) => {
    const gdb = gdbLocations(bin, spec);
    expect(gdb.length).toBe(count);
    expect(ourLocations(bin, spec)).toEqual(gdb);
    const { ours, gdb: stacks } = await bothStacks([bin], spec, undefined, 10);
    expect(stacks.length).toBeGreaterThan(0);
    expect(ours).toEqual(stacks);
    expect(ours[0][0]).toBe(frame0);
  });

  test('a suffix gdb would not write for this type matches nothing, as in gdb', () => {
    expect(gdbLocations(bin, 'Pool<104u>::Alloc')).toEqual([]);
    expect(unknownSpecMessage(bin, 'Pool<104u>::Alloc')).toMatch(/Pool<104ul>::Alloc/);
  });
});

describe('C++ fixture: the spellings users write (spec_spellings.cc -O2)', () => {
  const bin = buildFixture('spec_spellings.cc', { flags: ['-O2', '-g'], variant: 'O2' });

  test.each([
    // a typedef in a parameter list, as gdb's linespec expands it, in both cv spellings
    ['shapes::Printer::log(std::string const&)', 'shapes::Printer::log(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&)'],
    ['shapes::Printer::log(const std::string &)', 'shapes::Printer::log(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&)'],
    ['Printer::log(const char *)', 'shapes::Printer::log(char const*)'],
    // template arguments without the demangler's space
    ['shapes::make<shapes::Rect,double,double>', 'shapes::make<shapes::Rect, double, double>'],
  ])("%s has gdb's locations of %s", (spec, gdbSpelling) => {
    const gdb = gdbLocations(bin, gdbSpelling);
    expect(gdb.length).toBeGreaterThan(0);
    expect(ourLocations(bin, spec)).toEqual(gdb);
  });

  test('a glob matches function names, never the parameter types (accept(Visitor&) is not Visit*)', () => {
    const visits = [...gdbLocations(bin, 'shapes::Printer::VisitCircle'), ...gdbLocations(bin, 'shapes::Printer::VisitRect')].sort((a, b) => a - b);
    expect(visits.length).toBeGreaterThanOrEqual(2);
    for (const glob of ['*::Visit*', 'Printer::Visit*', 'Visit*']) expect([glob, ourLocations(bin, glob)]).toEqual([glob, visits]);
  });

  test('a parameter list without its closing parenthesis is an invalid spec, not a glob', () => {
    expect(() => parseHookSpec('shapes::Printer::log(char const*')).toThrow(/Invalid hook "shapes::Printer::log\(char const\*": its parameter list has no closing "\)"/);
    expect(() => parseHookSpec('log)')).toThrow(/a "\)" that closes nothing/);
  });
});

describe('Rust in a library: a cdylib called from C (vec_grow_lib.rs -O)', () => {
  const lib = buildFixture('vec_grow_lib.rs', { flags: ['-O', '-g', '-C', 'symbol-mangling-version=v0'], shared: true, variant: 'O' });
  const host = buildFixture('vec_grow_host.c', { flags: ['-O2', '-g'], variant: 'O2', libs: [lib, `-Wl,-rpath,${path.dirname(lib)}`] });

  test("grow_one is hit once per growth, as many times as gdb's break grow_one stops", async () => {
    const { capture } = await recordWithPtrace([host], { hooks: ['grow_one'] });
    const libHook = capture.hooks[0].resolved.filter((r) => r.module.endsWith(path.basename(lib)));
    expect(libHook.length).toBeGreaterThan(0);
    const gdb = gdbHitCount([host], 'grow_one');
    expect(gdb).toBeGreaterThan(0);
    expect(capture.stats.hits).toBe(gdb);
    const frame0 = new Set(expandHits(capture).map((h) => h.frames[0].symbol));
    expect([...frame0].every((s) => /^alloc::raw_vec::RawVec<usize, alloc::alloc::Global>::grow_one/.test(s ?? ''))).toBe(true);
  });
});
