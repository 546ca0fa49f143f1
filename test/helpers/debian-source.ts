/**
 * Third-party programs as test subjects, built by the tests from Debian's own packages (never
 * copied into this repository): `apt-get source` for C/C++ sources, `apt-get download` + `dpkg -x`
 * for packages that ship sources as files (librust-*-dev crates), and a build cache, all under
 * build/debian/ (gitignored). Every step is cached and guarded by a lock, so test files in parallel
 * Jest workers (or two checkouts' worktrees on one machine) share one download and one build.
 *
 * `apt-get source` needs a `deb-src` entry: when the machine has none, one is written for the
 * archive its `deb` entries already use (same URIs, suites and components), then `apt-get update`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const DEBIAN_CACHE = path.resolve(__dirname, '..', '..', 'build', 'debian');
const SOURCES_DIR = '/etc/apt/sources.list.d';
const OUR_SOURCES = path.join(SOURCES_DIR, 'jest-ustack-deb-src.sources');
const APT_QUIET = ['-qq', '-o', 'APT::Sandbox::User=root'];

/** A Debian source or binary package could not be fetched; the message says what to do. */
export class DebianSourceError extends Error {
  readonly code = 'USTACK_TEST_DEBIAN_SOURCE';
  constructor(message: string) {
    super(message);
    this.name = 'DebianSourceError';
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `fn` holding a lock directory (with the holder's pid; a dead holder's lock is taken over). */
export function withLock<T>(name: string, fn: () => T, timeoutMs = 600000): T {
  fs.mkdirSync(path.join(DEBIAN_CACHE, 'locks'), { recursive: true });
  const lock = path.join(DEBIAN_CACHE, 'locks', name.replace(/[^\w.+-]/g, '_'));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {
        // the holder has made the directory but not yet written its pid
      }
      if (Number.isInteger(holder) && holder > 0 && !alive(holder)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new DebianSourceError(`timed out waiting for the lock ${lock} (held by pid ${holder}); remove it if that process is gone`);
      sleepMs(200);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new DebianSourceError(`\`${cmd} ${args.join(' ')}\` failed${cwd ? ` in ${cwd}` : ''}: ${(err.stderr || err.message).trim().slice(-2000)}`);
  }
}

function hasSourceRecord(pkg: string): boolean {
  try {
    return /^Package:/m.test(execFileSync('apt-cache', ['showsrc', '--only-source', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    return false;
  }
}

interface AptEntry {
  uris: string;
  suites: string;
  components: string;
  signedBy: string | null;
}

/** The machine's enabled `deb` entries (deb822 .sources files and one-line sources.list files). */
export function aptDebEntries(): AptEntry[] {
  const entries: AptEntry[] = [];
  const files = ['/etc/apt/sources.list', ...(fs.existsSync(SOURCES_DIR) ? fs.readdirSync(SOURCES_DIR).map((f) => path.join(SOURCES_DIR, f)) : [])];
  for (const file of files) {
    if (!fs.existsSync(file) || file === OUR_SOURCES) continue;
    const text = fs.readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'mi').exec(stanza)?.[1].trim() ?? null;
        if (!(field('Types') ?? '').split(/\s+/).includes('deb') || field('Enabled') === 'no') continue;
        const uris = field('URIs');
        const suites = field('Suites');
        if (uris && suites) entries.push({ uris, suites, components: field('Components') ?? 'main', signedBy: field('Signed-By') });
      }
    } else if (file.endsWith('.list')) {
      for (const line of text.split('\n')) {
        const m = /^\s*deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s+(.+)$/.exec(line);
        if (!m) continue;
        const signedBy = /signed-by=(\S+)/.exec(m[1] ?? '')?.[1] ?? null;
        entries.push({ uris: m[2], suites: m[3], components: m[4].trim(), signedBy });
      }
    }
  }
  // only Debian's own archive: third-party repositories (vendor tools) have no sources to offer
  return entries.filter((e) => /(^|\/\/)(deb|security|snapshot)\.debian\.org\//.test(e.uris) || /debian/.test(e.uris));
}

/**
 * Makes `apt-get source PKG` work: when apt knows no source record for PKG, writes a deb-src entry
 * for the same archive the machine's deb entries use and runs `apt-get update`. Needs root for that.
 */
export function ensureSourceRecord(pkg: string): void {
  if (hasSourceRecord(pkg)) return;
  withLock('apt', () => {
    if (hasSourceRecord(pkg)) return;
    const entries = aptDebEntries();
    if (!entries.length) throw new DebianSourceError(`apt has no Debian "deb" entry to derive a deb-src entry from; add a deb-src line for your Debian archive and run apt-get update`);
    if (!fs.existsSync(OUR_SOURCES)) {
      if (process.getuid?.() !== 0) {
        throw new DebianSourceError(`apt knows no source package "${pkg}" and this test is not root: add a "deb-src" entry for ${entries[0].uris} ${entries[0].suites}, run \`apt-get update\`, then rerun`);
      }
      const stanzas = entries.map((e) =>
        ['Types: deb-src', `URIs: ${e.uris}`, `Suites: ${e.suites}`, `Components: ${e.components}`, ...(e.signedBy ? [`Signed-By: ${e.signedBy}`] : [])].join('\n'),
      );
      fs.writeFileSync(OUR_SOURCES, `# written by jest-ustack's tests (test/helpers/debian-source.ts): sources of the archive this machine uses\n${stanzas.join('\n\n')}\n`);
    }
    run('apt-get', [...APT_QUIET, 'update']);
    if (!hasSourceRecord(pkg)) throw new DebianSourceError(`apt-get update ran with a deb-src entry, and still no source package "${pkg}" is known: check the name (apt-cache showsrc ${pkg})`);
  });
}

/** The versions apt offers for a package, newest first (an archive may list a version it no longer serves). */
function versions(pkg: string, source: boolean): string[] {
  const out = source
    ? execFileSync('apt-cache', ['showsrc', '--only-source', pkg], { encoding: 'utf8' })
    : execFileSync('apt-cache', ['show', pkg], { encoding: 'utf8' });
  const all = [...new Set([...out.matchAll(/^Version:\s*(\S+)/gm)].map((m) => m[1]))];
  if (!all.length) throw new DebianSourceError(`apt-cache knows no version of ${pkg}`);
  const newer = (a: string, b: string) => {
    try {
      execFileSync('dpkg', ['--compare-versions', a, 'gt', b], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  return all.sort((a, b) => (a === b ? 0 : newer(a, b) ? -1 : 1));
}

/** Runs `fetch(version)` for the newest version first, then older ones while the archive answers 404. */
function firstAvailable<T>(pkg: string, all: string[], fetch: (version: string) => T): T {
  let last: unknown;
  for (const v of all) {
    try {
      return fetch(v);
    } catch (e) {
      last = e;
      // a mirror that dropped a superseded security update still serves the release's version
      if (!/404|Failed to fetch|Unable to find/.test(String((e as Error).message))) throw e;
    }
  }
  throw last instanceof Error ? last : new DebianSourceError(`no version of ${pkg} could be fetched`);
}

/** `apt-get source PKG`, unpacked (with Debian's patches applied) once; returns the source tree. */
export function debianSource(pkg: string): string {
  ensureSourceRecord(pkg);
  const all = versions(pkg, true);
  const done = all.map((v) => path.join(DEBIAN_CACHE, 'src', `${pkg}_${v.replace(/[:~]/g, '_')}`)).find((d) => fs.existsSync(path.join(d, '.ustack-complete')));
  if (done) return path.join(done, 'tree');
  return withLock(`src-${pkg}`, () =>
    firstAvailable(pkg, all, (ver) => {
      const dir = path.join(DEBIAN_CACHE, 'src', `${pkg}_${ver.replace(/[:~]/g, '_')}`);
      if (fs.existsSync(path.join(dir, '.ustack-complete'))) return path.join(dir, 'tree');
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      if (!fs.existsSync('/usr/bin/dpkg-source')) throw new DebianSourceError('apt-get source needs dpkg-source: apt-get install dpkg-dev');
      try {
        run('apt-get', [...APT_QUIET, 'source', '--only-source', `${pkg}=${ver}`], dir);
      } catch (e) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw e;
      }
      const trees = fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory());
      if (trees.length !== 1) throw new DebianSourceError(`apt-get source ${pkg} unpacked ${trees.length} folders in ${dir}, expected one`);
      fs.renameSync(path.join(dir, trees[0].name), path.join(dir, 'tree'));
      fs.writeFileSync(path.join(dir, '.ustack-complete'), ver + '\n');
      return path.join(dir, 'tree');
    }),
  );
}

/** `apt-get download PKG` + `dpkg -x`, once, without installing it; returns the unpacked root. */
export function debianBinaryPackage(pkg: string): string {
  const all = versions(pkg, false);
  const done = all.map((v) => path.join(DEBIAN_CACHE, 'deb', `${pkg}_${v.replace(/[:~]/g, '_')}`)).find((d) => fs.existsSync(path.join(d, '.ustack-complete')));
  if (done) return path.join(done, 'root');
  return withLock(`deb-${pkg}`, () =>
    firstAvailable(pkg, all, (ver) => {
      const dir = path.join(DEBIAN_CACHE, 'deb', `${pkg}_${ver.replace(/[:~]/g, '_')}`);
      if (fs.existsSync(path.join(dir, '.ustack-complete'))) return path.join(dir, 'root');
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      try {
        run('apt-get', [...APT_QUIET, 'download', `${pkg}=${ver}`], dir);
      } catch (e) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw e;
      }
      const deb = fs.readdirSync(dir).find((f) => f.endsWith('.deb'));
      if (!deb) throw new DebianSourceError(`apt-get download ${pkg} left no .deb in ${dir}`);
      run('dpkg', ['-x', path.join(dir, deb), path.join(dir, 'root')]);
      fs.writeFileSync(path.join(dir, '.ustack-complete'), ver + '\n');
      return path.join(dir, 'root');
    }),
  );
}

/**
 * Runs `build(out)` once for `name` and `inputs` (anything that changes the result: the source
 * tree, flags, the build recipe) and returns the output folder. A build that throws leaves nothing.
 */
export function cachedBuild(name: string, inputs: unknown[], build: (out: string) => void): string {
  const key = createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 12);
  const out = path.join(DEBIAN_CACHE, 'build', `${name}-${key}`);
  if (fs.existsSync(path.join(out, '.ustack-complete'))) return out;
  return withLock(`build-${name}-${key}`, () => {
    if (fs.existsSync(path.join(out, '.ustack-complete'))) return out;
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    try {
      build(out);
    } catch (e) {
      fs.rmSync(out, { recursive: true, force: true });
      throw e;
    }
    fs.writeFileSync(path.join(out, '.ustack-complete'), '');
    return out;
  });
}

/** Compiles each source to an object in parallel (`jobs` at a time), then links them with `link`. */
export function compileAndLink(opts: {
  compiler: string;
  sources: string[];
  flags: string[];
  out: string;
  cwd: string;
  link: string[];
  jobs?: number;
}): void {
  const objDir = path.join(path.dirname(opts.out), 'obj');
  fs.mkdirSync(objDir, { recursive: true });
  const objects = opts.sources.map((s) => path.join(objDir, path.basename(s).replace(/\.\w+$/, '.o')));
  // one make process gives parallel compilation without an async API here
  const rules = opts.sources.map((s, i) => `${objects[i]}: ${path.resolve(opts.cwd, s)}\n\t${opts.compiler} ${opts.flags.join(' ')} -c -o $@ $<\n`);
  const makefile = path.join(objDir, 'Makefile');
  fs.writeFileSync(makefile, `all: ${opts.out}\n${opts.out}: ${objects.join(' ')}\n\t${opts.compiler} ${opts.flags.join(' ')} -o $@ $^ ${opts.link.join(' ')}\n${rules.join('')}`);
  run('make', ['-s', '-f', makefile, `-j${opts.jobs ?? 2}`], opts.cwd);
}
