import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { debugLinkCrc, findSeparateDebugFile } from '../../src/elf/debuginfo';
import { ElfFile } from '../../src/elf/elf-file';
import { buildFixture } from '../helpers/fixtures';
import { run } from './oracles';

let tmp: string;
let root: string; // stands in for /usr/lib/debug
let binDir: string;
let full: string;
let stripped: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-debuginfo-'));
  root = path.join(tmp, 'debug-root');
  binDir = path.join(tmp, 'bin');
  fs.mkdirSync(root);
  fs.mkdirSync(binDir);
  full = path.join(binDir, 'chain-full');
  fs.copyFileSync(buildFixture('chain.c'), full);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** objcopy --only-keep-debug + strip + --add-gnu-debuglink, the way distributions split debug info. */
function split(stripMode: '--strip-debug' | '--strip-all', debugName = 'chain.debug'): { debug: string; stripped: string } {
  const debug = path.join(binDir, debugName);
  const out = path.join(binDir, `chain${stripMode}`);
  execFileSync('objcopy', ['--only-keep-debug', full, debug]);
  execFileSync('strip', [stripMode, full, '-o', out]);
  execFileSync('objcopy', [`--add-gnu-debuglink=${debug}`, out]);
  return { debug, stripped: out };
}

test('.gnu_debuglink is read as objcopy wrote it, and its CRC is zlib crc32 of the debug file', () => {
  const { debug, stripped: s } = split('--strip-debug');
  stripped = s;
  const elf = ElfFile.open(stripped);
  const dump = run('readelf', ['--string-dump=.gnu_debuglink', stripped]);
  expect(dump).toContain('chain.debug');
  expect(elf.debugLink).toEqual({ file: 'chain.debug', crc: debugLinkCrc(debug) });
  const raw = run('objdump', ['-s', '-j', '.gnu_debuglink', stripped]);
  // The last 4 bytes of the section, little-endian, are the CRC.
  const words = [...raw.matchAll(/^ [0-9a-f]{4} ((?:[0-9a-f]{8} ?)+)/gm)].flatMap((m) => m[1].trim().split(/\s+/));
  const last = words[words.length - 1];
  expect(parseInt(last.match(/../g)!.reverse().join(''), 16)).toBe(elf.debugLink!.crc);
  expect(elf.hasDebugInfo).toBe(false);
  expect(ElfFile.open(debug).hasDebugInfo).toBe(true);
  expect(ElfFile.open(debug).buildId).toBe(elf.buildId);
  expect(ElfFile.open(full).debugLink).toBeNull();
});

test('debuglink: found next to the binary, then in .debug/, then under <root>/<dir>/', () => {
  const { debug, stripped: s } = split('--strip-all');
  const elf = ElfFile.open(s);
  expect(elf.symbols().functions()).toEqual([]); // --strip-all removed .symtab; nothing else defines functions
  expect(findSeparateDebugFile(elf, { debugRoots: [root] })).toBe(debug);

  const dotDebug = path.join(binDir, '.debug');
  fs.mkdirSync(dotDebug, { recursive: true });
  fs.renameSync(debug, path.join(dotDebug, 'chain.debug'));
  expect(findSeparateDebugFile(elf, { debugRoots: [root] })).toBe(path.join(dotDebug, 'chain.debug'));

  const global = path.join(root, binDir);
  fs.mkdirSync(global, { recursive: true });
  fs.renameSync(path.join(dotDebug, 'chain.debug'), path.join(global, 'chain.debug'));
  expect(findSeparateDebugFile(elf, { debugRoots: [root] })).toBe(path.join(global, 'chain.debug'));
  fs.rmSync(path.join(global, 'chain.debug'));
  expect(findSeparateDebugFile(elf, { debugRoots: [root] })).toBeNull();
});

test('debuglink with a wrong CRC is rejected', () => {
  const { debug, stripped: s } = split('--strip-debug', 'chain-crc.debug');
  const elf = ElfFile.open(s);
  expect(findSeparateDebugFile(elf, { debugRoots: [root] })).toBe(debug);
  fs.appendFileSync(debug, Buffer.from([0]));
  expect(debugLinkCrc(debug)).not.toBe(elf.debugLink!.crc);
  expect(findSeparateDebugFile(elf, { debugRoots: [root] })).toBeNull();
});

test('build-id path wins over debuglink, and a file with another build-id there is ignored', () => {
  const { debug, stripped: s } = split('--strip-debug', 'chain-bid.debug');
  const elf = ElfFile.open(s);
  const id = elf.buildId!;
  expect(id).toMatch(/^[0-9a-f]{40}$/);
  const dir = path.join(root, '.build-id', id.slice(0, 2));
  fs.mkdirSync(dir, { recursive: true });
  const byId = path.join(dir, `${id.slice(2)}.debug`);

  // Another program's debug file under this build-id's name: not ours, fall back to the debuglink.
  const other = buildFixture('libc_calls.c');
  execFileSync('objcopy', ['--only-keep-debug', other, byId]);
  expect(findSeparateDebugFile(elf, { debugRoots: [root] })).toBe(debug);

  fs.copyFileSync(debug, byId);
  expect(findSeparateDebugFile(elf, { debugRoots: [root] })).toBe(byId);
  // Distributions ship the build-id entry as a symlink; it is returned as found.
  fs.rmSync(byId);
  fs.symlinkSync(debug, byId);
  expect(findSeparateDebugFile(elf, { debugRoots: [root] })).toBe(byId);
  fs.rmSync(byId);
});

test('a binary without build-id or debuglink has no separate debug file', () => {
  const noId = path.join(binDir, 'chain-noid');
  execFileSync('gcc', ['-O0', '-Wl,--build-id=none', '-o', noId, path.resolve(__dirname, '../fixtures/chain.c')]);
  const elf = ElfFile.open(noId);
  expect(elf.buildId).toBeNull();
  expect(elf.debugLink).toBeNull();
  expect(findSeparateDebugFile(elf, { debugRoots: [root] })).toBeNull();
  // The default root is the system one; nothing there for this binary either.
  expect(findSeparateDebugFile(elf)).toBeNull();
});
