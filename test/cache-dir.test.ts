/**
 * The cache folder: $XDG_CACHE_HOME/jest-ustack (else ~/.cache/jest-ustack), only when this user
 * owns it and nobody else can write it, because what is read back from it steers the tracer
 * (inlined-copy indexes) or runs as us (the CLI's compiled code, the native helper).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { trustedDir, userCacheDir, writeAtomically } from '../src/cache-dir';

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
