import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ElfFile } from '../../src/elf/elf-file';
import { computeBias, LoadedModule, ModuleMap } from '../../src/symbolize/module-map';
import { Mapping, parseProcessMaps, readProcessMaps } from '../../src/symbolize/process-maps';
import { buildFixture } from '../helpers/fixtures';

interface Live {
  child: ChildProcess;
  exited: Promise<number | null>;
}

const started: Live[] = [];

/** Starts `bin`, waits until it printed "ready" (it then blocks on stdin). */
async function startBlocked(bin: string): Promise<Live> {
  const child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const live = { child, exited };
  started.push(live);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${bin} exited early with ${code}`)));
  });
  return live;
}

async function finish(live: Live): Promise<number | null> {
  live.child.stdin!.end('q\n');
  return live.exited;
}

afterAll(async () => {
  for (const live of started) if (live.child.exitCode === null && live.child.signalCode === null) live.child.kill('SIGKILL');
  await Promise.all(started.map((l) => l.exited));
});

function readMem(pid: number, address: number, length: number): Buffer {
  const fd = fs.openSync(`/proc/${pid}/mem`, 'r');
  try {
    const buf = Buffer.alloc(length);
    const n = fs.readSync(fd, buf, 0, length, address);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** The bytes of function `name` in the running process equal the bytes at its file offset. */
function expectCodeMatches(pid: number, mod: LoadedModule, name: string): number {
  const elf = mod.elf!;
  const [sym] = elf.symbols().byName(name);
  expect(sym).toBeDefined();
  const fileOffset = elf.fileOffsetOf(sym.address);
  expect(fileOffset).not.toBeNull();
  const length = Math.min(sym.size || 16, 64);
  const expected = elf.bytes(fileOffset!, length);
  const runtime = sym.address + mod.bias;
  expect(readMem(pid, runtime, length).equals(expected)).toBe(true);
  return runtime;
}

function libFixture(): { lib: string; libs: string[] } {
  const lib = buildFixture('elf_lib.c', { shared: true });
  return { lib, libs: [lib, `-Wl,-rpath,${path.dirname(lib)}`] };
}

describe.each([
  ['PIE', ['-O0', '-g']],
  ['-no-pie', ['-O0', '-g', '-no-pie']],
])('live process, %s executable', (label, flags) => {
  test('module bias maps link-time symbols onto the code in memory', async () => {
    const { lib, libs } = libFixture();
    const bin = buildFixture('elf_blocker.c', { flags, libs, variant: label === 'PIE' ? 'pie' : 'nopie' });
    const live = await startBlocked(bin);
    const pid = live.child.pid!;
    const mappings = readProcessMaps(pid);
    const map = new ModuleMap(mappings);
    const mods = map.modules();
    const exe = mods.find((m) => m.path === fs.realpathSync(bin))!;
    expect(exe).toBeDefined();
    expect(exe.elf).not.toBeNull();
    if (label === '-no-pie') {
      expect(exe.elf!.kind).toBe('EXEC');
      expect(exe.bias).toBe(0);
    } else {
      expect(exe.elf!.kind).toBe('DYN');
      expect(exe.bias).toBeGreaterThan(0);
      expect(exe.bias % 4096).toBe(0);
    }
    const mainPc = expectCodeMatches(pid, exe, 'main');
    expect(map.find(mainPc)).toBe(exe);
    expect(map.find(mainPc + 5)!.elf!.symbols().lookup(mainPc + 5 - exe.bias)!.name).toBe('main');
    expectCodeMatches(pid, exe, 'wait_for_input');

    const libMod = mods.find((m) => m.path === fs.realpathSync(lib))!;
    expect(libMod).toBeDefined();
    const workPc = expectCodeMatches(pid, libMod, 'elf_lib_work');
    expect(map.find(workPc)).toBe(libMod);

    const libc = mods.find((m) => path.basename(m.path) === 'libc.so.6')!;
    expect(libc).toBeDefined();
    const mallocPc = expectCodeMatches(pid, libc, 'malloc');
    expect(map.find(mallocPc)).toBe(libc);
    expect(libc.elf!.symbols().lookup(mallocPc + 7 - libc.bias)!.name).toBe('malloc');

    // Every module's mappings really belong to it, and are in the maps file.
    for (const mod of mods) {
      for (const m of mod.mappings) {
        expect(m.path).toBe(mod.path);
        expect(mappings).toContainEqual(m);
        expect(map.find(m.start)).toBe(mod);
        expect(map.find(m.end - 1)).toBe(mod);
      }
    }
    const vdso = mods.find((m) => m.path === '[vdso]');
    expect(vdso).toBeDefined();
    expect(vdso!.elf).toBeNull();
    // Heap, stack and unmapped addresses belong to no module.
    for (const special of mappings.filter((m) => m.path === '[stack]' || m.path === '[heap]')) expect(map.find(special.start)).toBeNull();
    expect(map.find(0)).toBeNull();
    expect(map.find(2 ** 47 - 4096)).toBeNull();

    expect(await finish(live)).toBe(0);
  });
});

test('process maps keep pseudo paths and paths with spaces; anonymous mappings have path null', async () => {
  const { libs } = libFixture();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jest-ustack-fixtures-maps '));
  const bin = path.join(dir, 'blocker with spaces');
  fs.copyFileSync(buildFixture('elf_blocker.c', { libs, variant: 'pie' }), bin);
  fs.chmodSync(bin, 0o755);
  try {
    const live = await startBlocked(bin);
    const pid = live.child.pid!;
    const text = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
    const mappings = readProcessMaps(pid);
    expect(mappings).toHaveLength(text.trim().split('\n').length);
    expect(parseProcessMaps(text)).toEqual(mappings);
    const paths = new Set(mappings.map((m) => m.path));
    expect(paths).toContain(bin);
    expect(paths).toContain('[stack]');
    expect(paths).toContain('[vdso]');
    expect(paths).toContain(null);
    for (const m of mappings) {
      expect(m.end).toBeGreaterThan(m.start);
      expect(m.perms).toMatch(/^[r-][w-][x-][ps]$/);
      const line = text.split('\n').find((l) => l.startsWith(`${m.start.toString(16)}-`))!;
      expect(line.endsWith(m.path ?? line.slice(-1))).toBe(true);
    }
    const map = new ModuleMap(mappings);
    const exe = map.modules().find((m) => m.path === bin)!;
    expect(exe.elf).toBeInstanceOf(ElfFile);
    expectCodeMatches(pid, exe, 'main');
    expect(await finish(live)).toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a file mapped twice from offset 0 is two modules; non-ELF files get elf null', () => {
  const exe = buildFixture('chain.c');
  const elf = ElfFile.open(exe);
  // Lay out two loads of the same PIE at different bases, the way the kernel maps PT_LOADs.
  const mapsFor = (base: number): Mapping[] =>
    elf.loadSegments.map((seg) => ({
      start: base + seg.vaddr - (seg.vaddr % 4096),
      end: base + seg.vaddr + seg.memsz,
      perms: (seg.flags & 4 ? 'r' : '-') + (seg.flags & 2 ? 'w' : '-') + (seg.flags & 1 ? 'x' : '-') + 'p',
      offset: seg.offset - (seg.offset % 4096),
      path: exe,
    }));
  const notElf = path.resolve(__dirname, '../fixtures/chain.c');
  const mappings = [...mapsFor(0x555500000000), ...mapsFor(0x7f0000000000), { start: 0x7f1000000000, end: 0x7f1000001000, perms: 'r--s', offset: 0, path: notElf }];
  const map = new ModuleMap(mappings);
  const mods = map.modules();
  expect(mods.map((m) => [m.path, m.bias])).toEqual([
    [exe, 0x555500000000],
    [exe, 0x7f0000000000],
    [notElf, 0x7f1000000000],
  ]);
  expect(mods[2].elf).toBeNull();
  const main = elf.symbols().byName('main')[0];
  expect(map.find(0x7f0000000000 + main.address)).toBe(mods[1]);
  expect(map.find(0x555500000000 + main.address)).toBe(mods[0]);
});

test('the [vdso] read from memory parses as ELF, and its bias is its start address', () => {
  const mappings = readProcessMaps(process.pid);
  const vdso = mappings.find((m) => m.path === '[vdso]')!;
  expect(vdso).toBeDefined();
  const image = readMem(process.pid, vdso.start, vdso.end - vdso.start);
  const elf = ElfFile.fromBuffer('[vdso]', image);
  expect(elf.kind).toBe('DYN');
  const map = new ModuleMap(mappings);
  const mod = map.modules().find((m) => m.path === '[vdso]')!;
  expect(mod.bias).toBe(computeBias(elf, [vdso]));
  const [gettime] = elf.symbols().byName('__vdso_clock_gettime');
  expect(gettime).toBeDefined();
  expect(map.find(gettime.address + mod.bias)).toBe(mod);
  expect(elf.symbols().lookup(gettime.address + 1)!.address).toBe(gettime.address);
});
