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
import { hookModule, planHook } from '../../src/symbolize/hook-resolver';
import { parseHookSpec } from '../../src/symbolize/hook-spec';
import { cachedBuild, compileAndLink, debianBinaryPackage, debianSource } from '../helpers/debian-source';
import { FIXTURES } from '../helpers/fixtures';
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

/** The first `n` hits of `hook`, ours and gdb's (`break hook`), frame names up to main. */
async function bothStacks(argv: string[], hook: string, cwd: string | undefined, n: number): Promise<{ ours: string[][]; gdb: string[][] }> {
  const { capture } = await recordWithPtrace(argv, { hooks: [hook], cwd, maxHits: n, stdout: 'pipe' });
  const gdb = gdbPythonStacks(argv, [hook], { maxStops: n, cwd });
  return { ours: expandHits(capture).slice(0, n).map((h) => ourRows(h.frames)), gdb: gdb.map(gdbRows) };
}

/** Addresses of every location of gdb's `break spec`, before the program runs (link-time addresses), sorted. */
function gdbLocations(bin: string, spec: string): number[] {
  const out = runGdbScript([bin], ['set breakpoint pending off', `break ${spec}`, 'info breakpoints']);
  const table = out.slice(out.indexOf('Num '));
  return [...new Set([...table.matchAll(/\b0x([0-9a-f]+) in /g)].map((m) => parseInt(m[1], 16)))].sort((a, b) => a - b);
}

function ourLocations(bin: string, spec: string): number[] {
  const plan = planHook(parseHookSpec(spec), [hookModule(bin, ElfFile.open(bin), true)], demangle);
  return plan.locations.map((l) => l.address).sort((a, b) => a - b);
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
  ])('%s: the frame names of every hit are gdb\'s', async (hook, n) => {
    const { ours, gdb } = await bothStacks([xml.bin], hook, xml.cwd, n);
    expect(gdb.length).toBeGreaterThan(0);
    expect(ours).toEqual(gdb);
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
});
