/**
 * `ustack symbols BIN PATTERN` answers what `ustack record --hook PATTERN -- BIN` hooks: the same
 * locations (entries, split-off parts, inlined copies) through the same resolver, plus the .cold
 * fragments it skipped. Compared with the capture's resolved hooks of a real record run.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { buildFixture } from '../helpers/fixtures';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

function ustack(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Row {
  address: string;
  kind: string;
  symbol: string;
  linkage: string;
  module: string;
}

function symbols(bin: string, pattern: string): Row[] {
  const r = ustack(['symbols', bin, pattern, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Row[];
}

function recorded(argv: string[], hook: string): { module: string; symbol: string; address: string; inlined?: boolean; kind?: string }[] {
  const r = ustack(['record', '--hook', hook, '--format', 'json', '--', ...argv]);
  const capture = JSON.parse(r.stdout.slice(r.stdout.indexOf('{\n')));
  return capture.hooks[0].resolved;
}

const kindOf = (r: { inlined?: boolean; kind?: string }) => (r.inlined ? 'inlined' : (r.kind ?? 'entry'));
const key = (module: string, address: string, kind: string) => `${path.basename(module)} ${address} ${kind}`;

describe.each([
  ['split_body.c', ['-O2', '-g'], 'grow', ['20']],
  ['resolver_calc.cc', ['-O2', '-g'], 'node_alloc', []],
  ['resolver_calc.cc', ['-O2', '-g'], 'calc::make_node*', []],
  ['elf_clones.c', ['-O2', '-g'], 'validate', []],
  ['src_inline.c', ['-O2', '-g'], 'scale', []],
])('%s %j: symbols %s', (source, flags, pattern, args) => {
  const bin = buildFixture(source, { flags, variant: 'O2' });

  test('lists exactly the locations record plants, with their kinds', () => {
    const rows = symbols(bin, pattern);
    const listed = rows.filter((r) => !r.kind.startsWith('skipped')).map((r) => key(r.module, r.address, r.kind));
    expect(listed.length).toBeGreaterThan(0);
    const planted = recorded([bin, ...args], pattern).map((r) => key(r.module, r.address, kindOf(r)));
    expect(listed.sort()).toEqual(planted.sort());
  });
});

test('kinds: the .part.0 body, inlined heads, a skipped .cold fragment', () => {
  const split = symbols(buildFixture('split_body.c', { flags: ['-O2', '-g'], variant: 'O2' }), 'grow');
  expect(split.filter((r) => r.kind === 'part').map((r) => r.symbol)).toEqual(['grow.part.0']);
  expect(split.filter((r) => r.kind === 'inlined').length).toBeGreaterThanOrEqual(2);
  const calc = symbols(buildFixture('resolver_calc.cc', { flags: ['-O2', '-g'], variant: 'O2' }), 'node_alloc');
  expect(calc.map((r) => [r.kind, r.symbol])).toEqual([
    ['entry', 'calc::node_alloc()'],
    ['skipped .cold', 'calc::node_alloc() [clone .cold]'],
  ]);
  // the text form names the kinds too
  const text = ustack(['symbols', buildFixture('resolver_calc.cc', { flags: ['-O2', '-g'], variant: 'O2' }), 'node_alloc']).stdout;
  expect(text).toMatch(/^0x[0-9a-f]+ +\d+ entry +calc::node_alloc\(\) +\(_ZN4calc10node_allocEv\)$/m);
  expect(text).toMatch(/skipped \.cold +calc::node_alloc\(\) \[clone \.cold\]/);
});

test('a typo is the same error as record\'s, with demangled near names', () => {
  const bin = buildFixture('resolver_calc.cc', { flags: ['-O2', '-g'], variant: 'O2' });
  const s = ustack(['symbols', bin, 'calc::Lexer::idnet']);
  const r = ustack(['record', '--hook', 'calc::Lexer::idnet', '--', bin]);
  expect(s.code).toBe(2);
  expect(r.code).toBe(2);
  for (const out of [s.stderr, r.stderr]) expect(out).toMatch(/Did you mean: "calc::Lexer::ident"/);
});

test('a plain name defined in several modules (memcpy: glibc, and ld.so\'s private copy): listed and hooked in each, as gdb\'s break memcpy', () => {
  const bin = buildFixture('chain.c');
  const rows = symbols(bin, 'memcpy');
  const ld = rows.filter((r) => /ld-linux/.test(r.module));
  expect(ld.map((r) => r.kind)).toEqual(['entry']);
  expect(rows.some((r) => /libc\.so/.test(r.module))).toBe(true);
  const r = ustack(['record', '--hook', 'memcpy', '--format', 'json', '--', bin, '1']);
  expect(r.code).toBe(0);
  const capture = JSON.parse(r.stdout.slice(r.stdout.indexOf('{\n')));
  const planted = capture.hooks[0].resolved.filter((x: { module: string }) => /ld-linux/.test(x.module));
  expect(planted.map((x: { address: string }) => x.address)).toEqual([ld[0].address]);
  // the dynamic linker copies with it while it relocates the program, before main
  const inLd = capture.stacks.filter((s: { frames: { module: string | null }[] }) => /ld-linux/.test(s.frames[0].module ?? ''));
  expect(inLd.length).toBeGreaterThan(0);
});

test("the text listing names the module of every row unless all are BIN's own (an address is an offset in its module)", () => {
  const bin = buildFixture('libc_calls.c');
  const inLibc = ustack(['symbols', bin, 'IO_validate_vtable']);
  expect(inLibc.code).toBe(0);
  const lines = inLibc.stdout.trim().split('\n');
  expect(lines.length).toBeGreaterThan(50);
  for (const l of lines) expect(l).toMatch(/^0x[0-9a-f]+ +- inlined +IO_validate_vtable +\[\/\S+\/libc\.so\.6\]$/);
  const own = ustack(['symbols', bin, 'make_items']);
  expect(own.stdout.trim()).toMatch(/^0x[0-9a-f]+ +\d+ entry +make_items$/);
});
