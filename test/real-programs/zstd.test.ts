/**
 * Real-program lane: Debian's zstd command-line tool (`apt-get source libzstd`), compiled at -O2 -g
 * with multithreading, compressing 4 MiB in 1 MiB jobs on two worker threads (`-T2`). Hooks in the
 * worker threads and in the main thread: for every location, jest-ustack's hit count equals the
 * kernel uprobe count and gdb's, every distinct stack equals gdb's, and the traced run writes the
 * same compressed file as an untraced one.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { cachedBuild, compileAndLink, debianSource } from '../helpers/debian-source';
import { gdbTailCallView, type GdbTailCallView } from '../helpers/gdb-tail-calls';
import { compareWithOracles, oracleTests, type LaneResult } from '../helpers/real-program-lane';
import { uprobesUnavailable } from '../helpers/uprobes';

jest.setTimeout(600000);
afterAll(() => shutdownTracer());

const noUprobes = uprobesUnavailable();
// the CLI without its benchmark and dictionary builder, the library without legacy formats and
// the assembly Huffman decoder: the multithreaded compressor is all there
const FLAGS = ['-O2', '-g', '-pthread', '-DZSTD_MULTITHREAD', '-DZSTD_NOBENCH', '-DZSTD_NODICT', '-DZSTD_NOTRACE', '-DZSTD_LEGACY_SUPPORT=0', '-DZSTD_DISABLE_ASM'];

function buildZstd(): string {
  const tree = debianSource('libzstd');
  const out = cachedBuild('zstd', [tree, FLAGS], (dir) => {
    const lib = ['common', 'compress', 'decompress'].flatMap((d) =>
      fs.readdirSync(path.join(tree, 'lib', d)).filter((f) => f.endsWith('.c')).map((f) => path.join('lib', d, f)),
    );
    const programs = ['zstdcli.c', 'util.c', 'timefn.c', 'fileio.c', 'fileio_asyncio.c', 'zstdcli_trace.c'].map((f) => path.join('programs', f));
    compileAndLink({ compiler: 'gcc', sources: [...lib, ...programs], flags: [...FLAGS, '-Ilib', '-Ilib/common'], cwd: tree, out: path.join(dir, 'zstd'), link: [] });
  });
  return path.join(out, 'zstd');
}

/** 4 MiB of deterministic words and numbers (compressible, not trivially). */
function writeInput(file: string): void {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'stack', 'frame', 'hook', 'count', 'uprobe', 'thread'];
  let x = 12345;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8;
  const lines: string[] = [];
  let size = 0;
  while (size < 4 * 1024 * 1024) {
    const line = Array.from({ length: 12 }, () => `${words[next() % words.length]}${next() % 1000}`).join(' ') + '\n';
    lines.push(line);
    size += line.length;
  }
  fs.writeFileSync(file, lines.join(''));
}

// ZSTDMT_compressionJob: each job, on a worker thread; ZSTD_compressBlock_fast and
// FSE_buildCTable_wksp: hot, on the workers; ZSTD_entropyCompressSeqStore and HIST_count_wksp:
// inlined copies besides the function; ZSTD_CCtx_setParameter: the main thread setting up, with
// inlined copies. (Not POOL_add or ZSTDMT_createCompressionJob: how often those run depends on
// thread timing, 48 to 50 and 0 to 8 times in untraced runs of this same command.)
const HOOKS = ['ZSTDMT_compressionJob', 'ZSTD_compressBlock_fast', 'FSE_buildCTable_wksp', 'ZSTD_entropyCompressSeqStore', 'HIST_count_wksp', 'ZSTD_CCtx_setParameter'];

(noUprobes ? describe.skip : describe)('zstd -T2 from Debian source, -O2 -g, two worker threads', () => {
  let zstd: string;
  let work: string;
  let result: LaneResult;
  let tailCalls: GdbTailCallView;
  let expected: Buffer;
  let tracedOutput: Buffer;

  beforeAll(async () => {
    zstd = buildZstd();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-zstd-'));
    writeInput(path.join(work, 'in.dat'));
    const argv = [zstd, '-T2', '-1', '--block-size=1MiB', '-q', '-f', '-o', 'out.zst', 'in.dat'];
    execFileSync(argv[0], argv.slice(1), { cwd: work });
    expected = fs.readFileSync(path.join(work, 'out.zst'));
    fs.rmSync(path.join(work, 'out.zst'));
    tailCalls = gdbTailCallView(zstd);
    result = await compareWithOracles(zstd, argv, HOOKS, { cwd: work, asGdbShows: tailCalls.asGdbShows, afterOurRun: () => (tracedOutput = fs.readFileSync(path.join(work, 'out.zst'))) });
  });
  afterAll(() => work && fs.rmSync(work, { recursive: true, force: true }));

  test('the traced run writes the same compressed file as an untraced run', () => {
    expect(tracedOutput.equals(expected)).toBe(true);
  });

  test('hits come from the worker threads and from the main thread', () => {
    const tids = (hook: string) => new Set(result.capture.hits.tid.filter((_, i) => result.capture.hooks[result.capture.hits.hook[i]].spec === hook));
    expect(tids('ZSTDMT_compressionJob').size).toBe(2);
    expect(tids('ZSTDMT_compressionJob').has(result.capture.hits.pid[0])).toBe(false);
    expect([...tids('ZSTD_CCtx_setParameter')]).toEqual([result.capture.hits.pid[0]]);
  });

  test('some hook has several locations (inlined copies)', () => {
    expect(result.hooks.some((h) => h.gdbLocations.length > 1)).toBe(true);
  });

  oracleTests(() => ({ result, tailCalls }));
});

if (noUprobes) {
  test.skip(`real-program lane: kernel uprobes unavailable (${noUprobes})`, () => undefined);
}
