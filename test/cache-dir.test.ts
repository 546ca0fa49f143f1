/**
 * The cache folder: $XDG_CACHE_HOME/jest-ustack (else ~/.cache/jest-ustack), only when this user
 * owns it and nobody else can write it, because what is read back from it steers the tracer
 * (inlined-copy indexes) or runs as us (the CLI's compiled code, the native helper).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { trustedDir, userCacheDir, writeAtomically } from '../src/cache-dir';
import { buildFixture } from './helpers/fixtures';

const saved = process.env.XDG_CACHE_HOME;
afterEach(() => {
  if (saved === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = saved;
});

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-cache-'));
}

test('$XDG_CACHE_HOME/jest-ustack, created with mode 0700', () => {
  const base = tmp();
  process.env.XDG_CACHE_HOME = base;
  expect(userCacheDir(true)).toBe(path.join(base, 'jest-ustack'));
  expect(fs.statSync(path.join(base, 'jest-ustack')).mode & 0o777).toBe(0o700);
});

test('a relative $XDG_CACHE_HOME is ignored (the XDG rule): a per-user folder in the temporary folder', () => {
  process.env.XDG_CACHE_HOME = 'relative/cache';
  expect(userCacheDir(true)).toBe(path.join(os.tmpdir(), `jest-ustack-${process.getuid!()}`));
});

test('a folder others can write is not used', () => {
  const dir = tmp();
  fs.chmodSync(dir, 0o777);
  expect(trustedDir(dir, false)).toBeNull();
  fs.chmodSync(dir, 0o755);
  expect(trustedDir(dir, false)).toBe(dir);
});

// only root can give a folder away
(process.getuid?.() === 0 ? test : test.skip)('a folder another user owns is not used', () => {
  const dir = tmp();
  fs.chownSync(dir, 12345, 12345);
  expect(trustedDir(dir, false)).toBeNull();
});

test('a symbolic link to a folder is not used (lstat)', () => {
  const dir = tmp();
  const link = `${dir}-link`;
  fs.symlinkSync(dir, link);
  expect(trustedDir(link, false)).toBeNull();
});

test('writeAtomically leaves the whole content and no temporary file', () => {
  const dir = tmp();
  const file = path.join(dir, 'a.json');
  writeAtomically(file, 'x'.repeat(100000));
  expect(fs.readFileSync(file, 'utf8')).toHaveLength(100000);
  expect(fs.readdirSync(dir)).toEqual(['a.json']);
  expect(() => writeAtomically(path.join(dir, 'missing', 'b.json'), 'x')).toThrow();
  expect(fs.readdirSync(dir)).toEqual(['a.json']);
});

test("the CLI's compiled-code cache keeps the newest three files: its own and the two most recent others", () => {
  const base = tmp();
  const dir = path.join(base, 'jest-ustack');
  fs.mkdirSync(dir, { mode: 0o700 });
  // caches of earlier builds of the bundle (each rebuild names a new file), oldest first
  const old = Array.from({ length: 12 }, (_, i) => `cli-${1000 + i}-${1700000000000 + i}-${process.version}-${process.arch}.v8cache`);
  old.forEach((f, i) => {
    fs.writeFileSync(path.join(dir, f), 'stale');
    fs.utimesSync(path.join(dir, f), 1_700_000_000 + i, 1_700_000_000 + i);
  });
  fs.writeFileSync(path.join(dir, 'other.json'), '{}'); // not the CLI's: left alone
  const cli = path.resolve(__dirname, '..', 'dist', 'cli.js');
  const chain = buildFixture('chain.c');
  const r = spawnSync(process.execPath, [cli, 'record', '--hook', 'leaf', '--', chain], { env: { ...process.env, XDG_CACHE_HOME: base }, encoding: 'utf8' });
  expect(r.status).toBe(0);
  const bundle = fs.statSync(path.resolve(__dirname, '..', 'dist', 'cli-bundle.js'));
  const own = `cli-${bundle.size}-${Math.floor(bundle.mtimeMs)}-${process.version}-${process.arch}.v8cache`;
  const left = fs.readdirSync(dir).filter((f) => f.endsWith('.v8cache')).sort();
  expect(left).toEqual([old[10], old[11], own].sort());
  expect(fs.existsSync(path.join(dir, 'other.json'))).toBe(true);
  // the README's size: under half a megabyte per file
  expect(fs.statSync(path.join(dir, own)).size).toBeLessThan(512 * 1024);
});
