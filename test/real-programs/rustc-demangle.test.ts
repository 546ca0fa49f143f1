/**
 * Real-program lane: the rustc-demangle crate as Debian ships it (librust-rustc-demangle-dev, taken
 * with `apt-get download` + `dpkg -x`, not installed), compiled with `rustc -O -g` with a driver of
 * ours that demangles legacy and v0 symbols. For every hook location (inlined copies included),
 * jest-ustack's hit count equals the kernel uprobe count and gdb's, and every distinct stack
 * equals gdb's.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { cachedBuild, debianBinaryPackage } from '../helpers/debian-source';
import { FIXTURES } from '../helpers/fixtures';
import { gdbTailCallView, type GdbTailCallView } from '../helpers/gdb-tail-calls';
import { compareWithOracles, oracleTests, type LaneResult } from '../helpers/real-program-lane';
import { uprobesUnavailable } from '../helpers/uprobes';

jest.setTimeout(600000);
afterAll(() => shutdownTracer());

const noUprobes = uprobesUnavailable();
const DRIVER = path.join(FIXTURES, 'real-programs', 'demangle_driver.rs');

function buildDriver(): string {
  const root = debianBinaryPackage('librust-rustc-demangle-dev');
  const registry = path.join(root, 'usr', 'share', 'cargo', 'registry');
  const crate = fs.readdirSync(registry).find((d) => d.startsWith('rustc-demangle-'));
  if (!crate) throw new Error(`no rustc-demangle crate under ${registry}`);
  const rustc = execFileSync('rustc', ['--version'], { encoding: 'utf8' }).trim();
  const out = cachedBuild('rustc-demangle', [crate, rustc, fs.readFileSync(DRIVER, 'utf8')], (dir) => {
    const rlib = path.join(dir, 'librustc_demangle.rlib');
    // the crate's Cargo.toml has no edition: 2015
    execFileSync('rustc', ['-O', '-g', '--edition', '2015', '--crate-type', 'rlib', '--crate-name', 'rustc_demangle', '--cap-lints', 'allow', '-o', rlib, path.join(registry, crate, 'src', 'lib.rs')], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('rustc', ['-O', '-g', '--edition', '2021', '--extern', `rustc_demangle=${rlib}`, '-o', path.join(dir, 'driver'), DRIVER], { stdio: ['ignore', 'ignore', 'pipe'] });
  });
  return path.join(out, 'driver');
}

// Parser::integer_62 and Parser::hex_nibbles: inlined copies besides the function; Printer::print_path:
// recursive; Parser::ident and legacy::is_rust_hash: leaves; try_demangle and legacy::demangle: entries.
const HOOKS = [
  'rustc_demangle::try_demangle',
  'rustc_demangle::legacy::demangle',
  'rustc_demangle::legacy::is_rust_hash',
  'rustc_demangle::v0::Parser::ident',
  'rustc_demangle::v0::Parser::integer_62',
  'rustc_demangle::v0::Parser::hex_nibbles',
  'rustc_demangle::v0::Printer::print_path',
];

(noUprobes ? describe.skip : describe)('rustc-demangle from Debian\'s crate package, rustc -O -g', () => {
  let result: LaneResult;
  let tailCalls: GdbTailCallView;

  beforeAll(async () => {
    const driver = buildDriver();
    tailCalls = gdbTailCallView(driver);
    result = await compareWithOracles(driver, [driver, '3'], HOOKS, { asGdbShows: tailCalls.asGdbShows });
  });

  test('the build has several locations per hook (inlined copies)', () => {
    expect(result.hooks.find((h) => h.hook === 'rustc_demangle::v0::Parser::integer_62')!.gdbLocations.length).toBeGreaterThan(1);
  });

  oracleTests(() => ({ result, tailCalls }));
});

if (noUprobes) {
  test.skip(`real-program lane: kernel uprobes unavailable (${noUprobes})`, () => undefined);
}
