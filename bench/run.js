#!/usr/bin/env node
/**
 * `npm run bench`: what a captured stack costs with jest-ustack, next to the C ptrace floor,
 * gdb, bpftrace and perf, on binaries it builds itself. Writes bench/results.md and prints it.
 *
 * µs per captured stack = ((tool wall time with N hits) - (tool wall time with 0 hits)
 *                          - (untraced time with N) + (untraced time with 0)) / hits
 * so start-up (node, gdb reading DWARF, bpftrace compiling) is taken out of the per-hit figure
 * and reported on its own. Every tool runs once per round on every binary, rounds interleaved,
 * so load on a shared machine hits all rows alike; min and median are over the rounds.
 *
 * Environment: BENCH_HITS (50000), BENCH_GDB_HITS (1000), BENCH_RUNS (3),
 * BENCH_MEMORY_HITS (1000000), BENCH_SKIP (comma list of row keys: cli,cliMaxHits,api,runTrace,floor,gdb,bpftrace,perf,
 * memory,resolve,symbolize,frames,startup), BENCH_OUTPUT (where the results go, default bench/results.md: a trial run
 * with a small BENCH_HITS should not replace the recorded one).
 */
'use strict';
const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const BUILD = path.join(__dirname, 'build');
const CLI = path.join(DIST, 'cli.js');

const HITS = intEnv('BENCH_HITS', 50000);
const GDB_HITS = intEnv('BENCH_GDB_HITS', 1000);
const RUNS = Math.max(1, intEnv('BENCH_RUNS', 3));
const MEMORY_HITS = intEnv('BENCH_MEMORY_HITS', 1000000);
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));
const OUTPUT = path.resolve(process.env.BENCH_OUTPUT || path.join(__dirname, 'results.md'));
const HOOK = 'leaf';

function intEnv(name, dflt) {
  const v = process.env[name];
  return v && /^\d+$/.test(v) ? Number(v) : dflt;
}

// ---------- small helpers ----------

function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

function which(cmd) {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(dir || '.', cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function min(xs) {
  return xs.length ? Math.min(...xs) : NaN;
}

function fmt(x, digits = 1) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (Math.abs(x) >= 100) return x.toFixed(0);
  return x.toFixed(digits);
}

/** Runs a command to completion; returns wall milliseconds and its output. */
function timed(cmd, args, opts = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  return { ms, stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status, signal: r.signal };
}

function mustSucceed(r, what) {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}${r.signal ? ', ' + r.signal : ''}):\n${r.stderr.slice(-2000)}`);
  return r;
}

// ---------- binaries ----------

const BINARIES = [
  { name: 'chain-O0', source: 'chain.c', flags: ['-O0', '-g'], perCall: 2, note: '-O0, frame pointers, `push %rbp` entry' },
  { name: 'chain-O2', source: 'chain.c', flags: ['-O2', '-fomit-frame-pointer', '-g'], perCall: 2, note: '-O2 -fomit-frame-pointer, `mov disp(%rip)` entry' },
  { name: 'chain-cet', source: 'chain.c', flags: ['-O0', '-g', '-fcf-protection=full'], perCall: 2, note: '-O0 -fcf-protection=full, `endbr64` entry' },
  { name: 'threads', source: 'threads.c', flags: ['-O0', '-g', '-pthread'], perCall: 4, note: '4 threads, -O0' },
];

function build() {
  fs.mkdirSync(BUILD, { recursive: true });
  for (const b of BINARIES) {
    b.path = path.join(BUILD, b.name);
    execFileSync('gcc', [...b.flags, '-o', b.path, path.join(ROOT, 'test', 'fixtures', b.source)], { stdio: 'inherit' });
  }
  const floor = path.join(BUILD, 'floor');
  execFileSync('gcc', ['-O2', '-Wall', '-o', floor, path.join(__dirname, 'floor.c')], { stdio: 'inherit' });
  return floor;
}

/** argv[1] for the binary so that HOOK runs `hits` times. */
function argFor(bin, hits) {
  return String(Math.max(0, Math.round(hits / bin.perCall)));
}

// ---------- oracle: gdb's names for the first stop at HOOK ----------

function gdbNames(bin) {
  const r = timed('gdb', ['-batch', '-nx', '-ex', `break ${HOOK}`, '-ex', 'run', '-ex', 'bt', '--args', bin.path, '1']);
  return parseGdbFrames(r.stdout).slice(0, 64);
}

function parseGdbFrames(text) {
  const names = [];
  for (const line of text.split('\n')) {
    const m = /^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \(/.exec(line);
    if (m) {
      if (m[1] === '0' && names.length) break; // only the first backtrace
      names.push(m[2]);
    }
  }
  return names;
}

/** Names under ASLR-free addresses, as gdb resolves them in the same binary (ASLR is off under gdb too). */
function gdbSymbolize(bin, addresses) {
  const args = ['-batch', '-nx', '-ex', `break ${HOOK}`, '-ex', 'run'];
  for (const a of addresses) args.push('-ex', `info symbol ${a}`);
  args.push('--args', bin.path, '1');
  const r = timed('gdb', args);
  const names = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^(\S+)(?: \+ \d+)? in section /.exec(line);
    if (m) names.push(m[1]);
    else if (/^No symbol matches/.test(line)) names.push('??');
  }
  return names;
}

function compareFrames(got, oracle) {
  if (!got || !oracle || oracle.length === 0) return { ok: null, text: '–' };
  let matched = 0;
  while (matched < oracle.length && got[matched] === oracle[matched]) matched++;
  return matched === oracle.length ? { ok: true, text: 'yes' } : { ok: false, text: `no (${matched} of ${oracle.length})` };
}

// ---------- rows ----------

/** Frame names of the first hit (capture schema 2: hits refer to the distinct stacks). */
function namesOfCapture(capture) {
  const stack = capture.hits.length ? capture.stacks[capture.hits.stack[0]] : capture.stacks[0];
  return stack ? stack.frames.map((f) => f.symbol ?? '??') : [];
}

function makeRows(floorPath, tools) {
  const rows = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-bench-'));

  const cliRow = (key, tool, note, extra) => ({
    key,
    tool,
    note,
    hits: HITS,
    run(bin, n) {
      const out = path.join(tmp, `${key}.json`);
      const r = mustSucceed(timed(process.execPath, [CLI, 'record', '--hook', HOOK, ...extra, '--format', 'json', '--output', out, '--', bin.path, n]), 'ustack record');
      const bytes = fs.statSync(out).size;
      const capture = JSON.parse(fs.readFileSync(out, 'utf8'));
      return { ms: r.ms, hits: capture.stats.hits, names: namesOfCapture(capture), bytes };
    },
  });
  // the default: every hit recorded (each distinct stack symbolized once, every hit a row of the JSON)
  rows.push(cliRow('cli', 'jest-ustack: `ustack record` CLI, every hit recorded (default)', 'every hit unwound and written as a JSON row', []));
  rows.push(cliRow('cliMaxHits', 'jest-ustack: `ustack record --max-hits 100` CLI', 'every hit unwound and counted; the first 100 kept as rows', ['--max-hits', '100']));

  let ptrace = null;
  const api = () => (ptrace ??= require(path.join(DIST, 'ptrace', 'ptrace-backend.js')));
  rows.push({
    key: 'api',
    tool: 'jest-ustack: recordWithPtrace (worker thread, as in the Jest environment)',
    note: 'every hit unwound and returned as a row, each distinct stack symbolized once; warm worker',
    hits: HITS,
    async run(bin, n) {
      const t0 = performance.now();
      const { capture } = await api().recordWithPtrace([bin.path, n], { hooks: [HOOK], stdout: 'pipe', stderr: 'pipe', timeout: 600000 });
      const ms = performance.now() - t0;
      return { ms, hits: capture.stats.hits, names: namesOfCapture(capture) };
    },
  });

  let runTraceModule = null;
  rows.push({
    key: 'runTrace',
    tool: 'jest-ustack: runTrace (main thread, synchronous)',
    note: 'every hit unwound and returned as a row, each distinct stack symbolized once',
    hits: HITS,
    run(bin, n) {
      runTraceModule ??= require(path.join(DIST, 'ptrace', 'run-trace.js'));
      const env = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
      const req = {
        id: 1,
        file: bin.path,
        argv: [bin.path, n],
        cwd: process.cwd(),
        env,
        stdin: '/dev/null',
        stdout: path.join(tmp, 'rt.out'),
        stderr: path.join(tmp, 'rt.err'),
        newProcessGroup: true,
        hooks: [HOOK],
        maxFrames: 64,
        maxHits: Infinity,
        followChildren: true,
        pinCpu: true,
        stopFlag: new SharedArrayBuffer(4),
      };
      const t0 = performance.now();
      const capture = runTraceModule.runTrace(req, () => {});
      const ms = performance.now() - t0;
      return { ms, hits: capture.stats.hits, names: namesOfCapture(capture) };
    },
  });

  rows.push({
    key: 'floor',
    tool: 'C ptrace floor (bench/floor.c)',
    note: 'int3, GETREGS, 16 KiB stack read, emulated step-over; no unwinding',
    hits: HITS,
    run(bin, n) {
      const r = mustSucceed(timed(floorPath, [HOOK, bin.path, n]), 'floor');
      const m = /floor: hits=(\d+)/.exec(r.stderr);
      return { ms: r.ms, hits: m ? Number(m[1]) : NaN, names: null };
    },
  });

  if (tools.gdb.ok) {
    const cmdFile = path.join(tmp, 'gdb.cmd');
    fs.writeFileSync(cmdFile, `set pagination off\nset confirm off\nbreak ${HOOK}\ncommands\nsilent\nbt\ncontinue\nend\nrun\n`);
    rows.push({
      key: 'gdb',
      tool: 'gdb -batch (`break`, `bt`, `continue`)',
      note: 'bt printed at every hit',
      hits: GDB_HITS,
      run(bin, n) {
        const r = mustSucceed(timed('gdb', ['-batch', '-nx', '-x', cmdFile, '--args', bin.path, n]), 'gdb');
        const hits = (r.stdout.match(/^#0 /gm) ?? []).length;
        return { ms: r.ms, hits, names: null };
      },
      oracle: true,
    });
  }

  if (tools.bpftrace.ok) {
    rows.push({
      key: 'bpftrace',
      tool: 'bpftrace `@[ustack] = count()`',
      note: 'stacks aggregated in the kernel, printed at exit',
      hits: HITS,
      run(bin, n) {
        const prog = `uprobe:${bin.path}:${HOOK} { @[ustack] = count(); }`;
        const r = mustSucceed(timed('bpftrace', ['-e', prog, '-c', `${bin.path} ${n}`]), 'bpftrace');
        let hits = 0;
        for (const m of r.stdout.matchAll(/\]: (\d+)/g)) hits += Number(m[1]);
        return { ms: r.ms, hits, names: null };
      },
      frames(bin) {
        // bpftrace 0.17 symbolizes user stacks only while the process lives (and aborts when it is
        // gone), so the program lingers 500 ms. It runs with ASLR off, and any address bpftrace
        // leaves raw is named by gdb in the same ASLR-free layout.
        const prog = `uprobe:${bin.path}:${HOOK} { printf("STACK%s\\nEND\\n", ustack); }`;
        const r = timed('bpftrace', ['-e', prog, '-c', `${tools.setarch} -R ${bin.path} 1 500`]);
        const m = /STACK([\s\S]*?)END/.exec(r.stdout);
        if (!m) return null;
        const lines = m[1].split('\n').map((s) => s.trim()).filter(Boolean);
        const addrs = lines.filter((s) => /^0x[0-9a-f]+$/.test(s));
        const named = addrs.length ? gdbSymbolize(bin, addrs) : [];
        let k = 0;
        return lines.map((s) => (/^0x[0-9a-f]+$/.test(s) ? named[k++] ?? '??' : s.replace(/\+\d+$/, '')));
      },
    });
  }

  if (tools.perf.ok) {
    rows.push({
      key: 'perf',
      tool: '`perf probe` + `perf record -g` + `perf script`',
      note: 'frame-pointer call chains, symbolized by perf script',
      hits: HITS,
      setup(bin) {
        bin.perfEvent = `ubench:${bin.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
        spawnSync('perf', ['probe', '-q', '-d', bin.perfEvent], { stdio: 'ignore' });
        mustSucceed(timed('perf', ['probe', '-q', '-x', bin.path, '-a', `${bin.perfEvent}=${HOOK}`]), 'perf probe');
      },
      cleanup(bin) {
        if (bin.perfEvent) spawnSync('perf', ['probe', '-q', '-d', bin.perfEvent], { stdio: 'ignore' });
      },
      run(bin, n) {
        const data = path.join(tmp, 'perf.data');
        const rec = mustSucceed(timed('perf', ['record', '-q', '-e', bin.perfEvent, '-g', '-o', data, '--', bin.path, n]), 'perf record');
        const scr = mustSucceed(timed('perf', ['script', '-i', data]), 'perf script');
        const samples = scr.stdout.split('\n\n').filter((s) => s.includes(bin.perfEvent));
        const names = samples.length ? parsePerfStack(samples[0]) : null;
        return { ms: rec.ms + scr.ms, hits: samples.length, names };
      },
    });
  }
  return { rows, tmp };
}

function parsePerfStack(sample) {
  const names = [];
  for (const line of sample.split('\n').slice(1)) {
    const m = /^\s+[0-9a-f]+ (\S+?)(?:\+0x[0-9a-f]+)? \(/.exec(line);
    if (m) names.push(m[1] === '[unknown]' ? '??' : m[1]);
  }
  return names;
}

// ---------- tool availability ----------

function checkTools() {
  const tools = {};
  tools.gdb = which('gdb') ? { ok: true } : { ok: false, reason: 'gdb is not installed (apt-get install -y gdb)' };
  tools.setarch = which('setarch') ?? '/usr/bin/setarch';

  const tracefs = '/sys/kernel/tracing';
  let tracefsNote = '';
  if (!fs.existsSync(path.join(tracefs, 'uprobe_events'))) {
    if (process.getuid && process.getuid() === 0) {
      const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', tracefs], { encoding: 'utf8' });
      tracefsNote = r.status === 0 ? `mounted tracefs on ${tracefs} for perf probe` : `could not mount tracefs: ${(r.stderr || '').trim()}`;
    } else tracefsNote = `tracefs is not mounted at ${tracefs} and we are not root`;
  }
  const uprobes = fs.existsSync(path.join(tracefs, 'uprobe_events'));

  if (!which('bpftrace')) tools.bpftrace = { ok: false, reason: 'bpftrace is not installed (apt-get install -y bpftrace)' };
  else {
    const probe = spawnSync('bpftrace', ['-e', `uprobe:${process.execPath}:main { exit(); } BEGIN { exit(); }`], { encoding: 'utf8', timeout: 60000 });
    tools.bpftrace = probe.status === 0 ? { ok: true } : { ok: false, reason: `bpftrace cannot attach uprobes here: ${(probe.stderr || '').trim().split('\n').filter((l) => !/RLIMIT_MEMLOCK/.test(l)).slice(-1)[0] ?? 'unknown error'}` };
  }

  if (!which('perf')) tools.perf = { ok: false, reason: 'perf is not installed (apt-get install -y linux-perf)' };
  else if (!uprobes) tools.perf = { ok: false, reason: `perf probe needs uprobe_events in tracefs: ${tracefsNote || 'not available'}` };
  else {
    const v = spawnSync('perf', ['--version'], { encoding: 'utf8' });
    tools.perf = v.status === 0 ? { ok: true, note: tracefsNote } : { ok: false, reason: `perf does not run: ${(v.stderr || '').trim()}` };
  }
  tools.time = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
  return tools;
}

// ---------- extra measurements ----------

function startupOverhead(bin) {
  const bare = [];
  const cli = [];
  for (let i = 0; i < Math.max(5, RUNS); i++) {
    bare.push(timed(bin.path, ['0']).ms);
    cli.push(mustSucceed(timed(process.execPath, [CLI, 'record', '--hook', HOOK, '--', bin.path, '0']), 'ustack record').ms);
  }
  const nodeBare = [];
  for (let i = 0; i < Math.max(5, RUNS); i++) nodeBare.push(timed(process.execPath, ['-e', '0']).ms);
  // a machine's first run: an empty cache folder (no compiled CLI code, no index of glibc's inlined copies)
  const cold = [];
  for (let i = 0; i < 3; i++) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ustack-bench-cache-'));
    cold.push(mustSucceed(timed(process.execPath, [CLI, 'record', '--hook', HOOK, '--', bin.path, '0'], { env: { ...process.env, XDG_CACHE_HOME: home } }), 'ustack record').ms);
    fs.rmSync(home, { recursive: true, force: true });
  }
  return { bare, cli, nodeBare, cold, overhead: cli.map((c) => c - median(bare)) };
}

async function warmLatency(bin) {
  const { recordWithPtrace } = require(path.join(DIST, 'ptrace', 'ptrace-backend.js'));
  const ms = [];
  await recordWithPtrace([bin.path, '0'], { hooks: [HOOK] }); // the first run starts the worker
  for (let i = 0; i < Math.max(5, RUNS); i++) {
    const t0 = performance.now();
    await recordWithPtrace([bin.path, '0'], { hooks: [HOOK] });
    ms.push(performance.now() - t0);
  }
  return ms;
}

function hookResolution() {
  const target = process.execPath;
  const script = `
    const t0 = performance.now();
    const { ElfFile } = require(${JSON.stringify(path.join(DIST, 'elf', 'elf-file.js'))});
    const { resolveHook } = require(${JSON.stringify(path.join(DIST, 'symbolize', 'hook-resolver.js'))});
    const { parseHookSpec } = require(${JSON.stringify(path.join(DIST, 'symbolize', 'hook-spec.js'))});
    const { demangle } = require(${JSON.stringify(path.join(DIST, 'symbolize', 'demangle.js'))});
    const t1 = performance.now();
    const elf = ElfFile.open(${JSON.stringify(target)});
    const t2 = performance.now();
    const one = resolveHook({ ...parseHookSpec('uv_run'), module: null }, [{ path: elf.path, elf }], demangle);
    const t3 = performance.now();
    const glob = resolveHook({ ...parseHookSpec('uv_*'), module: null }, [{ path: elf.path, elf }], demangle);
    const t4 = performance.now();
    console.log(JSON.stringify({ load: t1 - t0, open: t2 - t1, one: t3 - t2, oneCount: one.length, glob: t4 - t3, globCount: glob.length }));
  `;
  const api = JSON.parse(mustSucceed(timed(process.execPath, ['-e', script]), 'hook resolution').stdout.trim());
  const cli = timed(process.execPath, [CLI, 'symbols', target, 'uv_*']);
  mustSucceed(cli, 'ustack symbols');
  return { target, size: fs.statSync(target).size, api, cliMs: cli.ms, cliCount: cli.stdout.trim().split('\n').length };
}

/** Issue 3: symbolizing 10,000 unique pcs in a large binary (the node executable), cold then cached. */
function symbolizeCost() {
  const target = process.execPath;
  const script = `
    const { ElfFile } = require(${JSON.stringify(path.join(DIST, 'elf', 'elf-file.js'))});
    const { ModuleMap } = require(${JSON.stringify(path.join(DIST, 'symbolize', 'module-map.js'))});
    const { Symbolizer } = require(${JSON.stringify(path.join(DIST, 'symbolize', 'symbolizer.js'))});
    const t0 = performance.now();
    const elf = ElfFile.open(${JSON.stringify(target)});
    // map every PT_LOAD at its link-time address: bias 0, as for a non-PIE executable
    const maps = elf.loadSegments.map((s) => ({ start: s.vaddr - (s.vaddr % 4096), end: s.vaddr + s.memsz, perms: 'r-xp', offset: s.offset - (s.offset % 4096), path: elf.path }));
    const modules = new ModuleMap(maps, { openElf: () => elf });
    const funcs = elf.symbols().functions().filter((f) => f.size > 8);
    const pcs = [];
    for (let i = 0; pcs.length < 10000 && i < funcs.length; i++) pcs.push(funcs[Math.floor((i * funcs.length) / 10000)].address + 4);
    const t1 = performance.now();
    const sym = new Symbolizer();
    let named = 0;
    for (const pc of pcs) if (sym.frames(pc, false, modules)[0].symbol) named++;
    const t2 = performance.now();
    for (const pc of pcs) sym.frames(pc, false, modules);
    const t3 = performance.now();
    console.log(JSON.stringify({ open: t1 - t0, cold: t2 - t1, warm: t3 - t2, pcs: new Set(pcs).size, named }));
  `;
  const r = JSON.parse(mustSucceed(timed(process.execPath, ['-e', script]), 'symbolization').stdout.trim());
  return { target, ...r };
}

/**
 * What a frame costs (issue 19, the --max-frames default): deep.c recurses DEPTH levels with a hook
 * on every level, so the hits' stacks are 5..DEPTH+5 frames deep and all distinct. Traced in-process
 * (recordInThisThread: unwind, count, symbolize each distinct stack once; no output written) with
 * --max-frames 64 and 1024; the time difference over the frame difference is the cost of one frame.
 */
function deepStackCost() {
  const bin = path.join(BUILD, 'deep');
  execFileSync('gcc', ['-O0', '-g', '-o', bin, path.join(ROOT, 'test', 'fixtures', 'deep.c')], { stdio: 'inherit' });
  const depth = 1000;
  const script = `
    const { recordInThisThread } = require(${JSON.stringify(path.join(DIST, 'ptrace', 'ptrace-backend.js'))});
    const out = {};
    for (const maxFrames of [64, 1024, 64, 1024, 64, 1024]) {
      const t0 = performance.now();
      const { capture } = recordInThisThread([${JSON.stringify(bin)}, '${depth}'], { hooks: ['descend'], maxFrames, maxHits: 0 });
      const ms = performance.now() - t0;
      const frames = capture.stacks.reduce((n, s) => n + s.count * s.frames.filter((f) => !f.inlined).length, 0);
      (out[maxFrames] ??= []).push({ ms, frames, hits: capture.stats.hits, truncated: capture.stats.truncatedStacks ?? 0 });
    }
    console.log(JSON.stringify(out));
  `;
  const r = JSON.parse(mustSucceed(timed(process.execPath, ['-e', script]), 'deep stacks').stdout.trim());
  const best = (runs) => runs.reduce((a, b) => (b.ms < a.ms ? b : a));
  const small = best(r[64]);
  const big = best(r[1024]);
  return { depth, small, big, usPerFrame: ((big.ms - small.ms) * 1000) / (big.frames - small.frames) };
}

function peakRss(bin, tools) {
  if (!tools.time) return { skipped: '/usr/bin/time is not installed (apt-get install -y time)' };
  const measure = (hits) => {
    // the default: every hit recorded and written as JSON
    const out = path.join(os.tmpdir(), `ustack-bench-memory-${process.pid}.json`);
    const r = mustSucceed(
      timed(tools.time, ['-f', 'USTACK_MAXRSS_KB=%M', process.execPath, CLI, 'record', '--hook', HOOK, '--format', 'json', '--output', out, '--', bin.path, argFor(bin, hits)]),
      'ustack record (memory)',
    );
    const bytes = fs.statSync(out).size;
    fs.rmSync(out, { force: true });
    const m = /USTACK_MAXRSS_KB=(\d+)/.exec(r.stderr);
    return { hits, kb: m ? Number(m[1]) : NaN, ms: r.ms, bytes };
  };
  const small = measure(Math.max(1000, Math.round(MEMORY_HITS / 10)));
  const big = measure(MEMORY_HITS);
  const growthBytesPerHit = ((big.kb - small.kb) * 1024) / (big.hits - small.hits);
  return { small, big, growthBytesPerHit };
}

// ---------- main ----------

function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    cpu: model,
    cores: os.cpus().length,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    date: new Date().toISOString(),
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

async function main() {
  const started = performance.now();
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run bench does).`);
  const info = machine();
  log(`building fixtures and the C floor in ${path.relative(ROOT, BUILD)}/`);
  const floorPath = build();
  const tools = checkTools();
  const { rows: allRows, tmp } = makeRows(floorPath, tools);
  const rows = allRows.filter((r) => !SKIP.has(r.key));
  const skippedRows = [];
  for (const k of ['gdb', 'bpftrace', 'perf']) if (!tools[k].ok) skippedRows.push({ tool: k, reason: tools[k].reason });

  log('gdb oracle: names of the first stack at the hook');
  const oracle = new Map(BINARIES.map((b) => [b.name, tools.gdb.ok ? gdbNames(b) : null]));

  // results[row.key][bin.name] = { perHit: [], hits: [], wallN: [], wall0: [] , names }
  const results = {};
  const bare = {};
  for (const row of rows) results[row.key] = {};
  try {
    for (const bin of BINARIES) {
      bare[bin.name] = {};
      for (const row of rows) {
        row.setup?.(bin);
        results[row.key][bin.name] = { wall0: [], wall1: [], hits1: [], wallN: [], hits: [], names: null };
      }
    }
    // one discarded run per row: starts the tracer worker, fills the page cache
    log('warm-up');
    for (const row of rows) {
      try {
        await row.run(BINARIES[0], '1');
      } catch {
        /* reported by the timed runs */
      }
    }
    const hitCounts = [...new Set(rows.map((r) => r.hits))];
    for (let round = 0; round < RUNS; round++) {
      for (const bin of BINARIES) {
        log(`round ${round + 1}/${RUNS}: ${bin.name}`);
        for (const h of [0, bin.perCall, ...hitCounts]) {
          const n = argFor(bin, h);
          (bare[bin.name][h] ??= []).push(timed(bin.path, [n]).ms);
        }
        for (const row of rows) {
          const res = results[row.key][bin.name];
          const n = argFor(bin, row.hits);
          try {
            res.wall0.push((await row.run(bin, '0')).ms);
            const one = await row.run(bin, '1');
            res.wall1.push(one.ms);
            res.hits1.push(one.hits);
            const r = await row.run(bin, n);
            res.wallN.push(r.ms);
            res.hits.push(r.hits);
            if (r.bytes !== undefined) (res.bytes ??= []).push(r.bytes);
            if (!res.names && r.names) res.names = r.names;
          } catch (e) {
            res.error = String(e.message ?? e).split('\n')[0];
            log(`${row.key} on ${bin.name}: ${res.error}`);
          }
        }
      }
    }
    for (const row of rows) {
      if (!row.frames) continue;
      for (const bin of BINARIES) {
        try {
          results[row.key][bin.name].names = row.frames(bin);
        } catch (e) {
          log(`${row.key} frames on ${bin.name}: ${e.message}`);
        }
      }
    }
  } finally {
    for (const bin of BINARIES) for (const row of rows) row.cleanup?.(bin);
  }

  // per-hit figures
  for (const row of rows) {
    for (const bin of BINARIES) {
      const res = results[row.key][bin.name];
      // per hit: against a run of one iteration, which already pays the fixed costs (start-up, and
      // symbolizing its distinct stacks: the same ones as the long run's, often glibc's DWARF)
      const bareDelta = median(bare[bin.name][row.hits]) - median(bare[bin.name][bin.perCall]);
      const base = median(res.wall1);
      const hits1 = median(res.hits1);
      res.perHit = res.wallN.map((w, i) => ((w - base - bareDelta) * 1000) / ((res.hits[i] || row.hits) - hits1));
      // the same against a run with no hit at all: the fixed cost of the first stacks spread over the hits
      const bareDelta0 = median(bare[bin.name][row.hits]) - median(bare[bin.name][0]);
      res.perHitFrom0 = res.wallN.map((w, i) => ((w - median(res.wall0) - bareDelta0) * 1000) / (res.hits[i] || row.hits));
      res.expected = Number(argFor(bin, row.hits)) * bin.perCall;
      res.frames = row.oracle ? { ok: true, text: 'oracle' } : res.names ? compareFrames(res.names, oracle.get(bin.name)) : { ok: null, text: 'n/a' };
    }
  }

  const chain = BINARIES[0];
  let startup = null;
  let warm = null;
  if (!SKIP.has('startup')) {
    log('start-up overhead');
    startup = startupOverhead(chain);
    warm = await warmLatency(chain);
  }
  let resolution = null;
  if (!SKIP.has('resolve')) {
    log(`hook resolution on ${process.execPath}`);
    resolution = hookResolution();
  }
  let symbolization = null;
  if (!SKIP.has('symbolize')) {
    log(`symbolizing 10,000 unique pcs in ${process.execPath}`);
    symbolization = symbolizeCost();
  }
  let frames = null;
  if (!SKIP.has('frames')) {
    log('cost of a frame: a 1000-deep recursion at --max-frames 64 and 1024');
    frames = deepStackCost();
  }
  let memory = null;
  if (!SKIP.has('memory')) {
    log(`peak RSS of the tracer for ${MEMORY_HITS} hits`);
    memory = peakRss(chain, tools);
  }
  try {
    await require(path.join(DIST, 'ptrace', 'ptrace-backend.js')).shutdownTracer();
  } catch {
    /* not loaded */
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  info.loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  info.totalS = (performance.now() - started) / 1000;

  const md = report({ info, tools, rows, results, oracle, startup, warm, resolution, symbolization, frames, memory, skippedRows });
  fs.writeFileSync(OUTPUT, md);
  process.stdout.write(md);
}

// ---------- report ----------

function report({ info, tools, rows, results, oracle, startup, warm, resolution, symbolization, frames, memory, skippedRows }) {
  const L = [];
  L.push('# jest-ustack benchmark results', '');
  L.push(`- Date: ${info.date}`);
  L.push(`- CPU: ${info.cpu}, ${info.cores} cores; kernel ${info.kernel}; node ${info.node}`);
  L.push(`- Load average at start: ${info.load}; at end: ${info.loadEnd} (a busy machine inflates every row)`);
  L.push(`- Rounds: ${RUNS}; hits per run: ${HITS} (gdb: ${GDB_HITS}); whole run ${info.totalS.toFixed(0)} s`);
  L.push('- µs per stack = (tool wall time at N hits − tool wall time at one iteration of the program (2 hits) − untraced time difference) / (N − 2): what one more hit costs. Fixed costs are outside it: start-up (below), and symbolizing the distinct stacks once, which a one-iteration run already does (for these programs: reading glibc\'s separate DWARF).');
  L.push('- µs per stack from 0 hits = the same against a run with no hit at all, so the one-time symbolization is spread over the N hits: what a run of N hits costs per hit in all.');
  L.push('');
  L.push('| tool | binary | hits | µs/stack min | µs/stack median | µs/stack from 0 hits (median) | wall ms (median) | wall ms at 0 hits | wall ms at 2 hits | frames correct |');
  L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const row of rows) {
    for (const bin of BINARIES) {
      const r = results[row.key][bin.name];
      if (r.error && r.perHit.length === 0) {
        L.push(`| ${row.tool} | ${bin.name} | – | – | – | – | – | – | – | failed: ${r.error.replace(/\|/g, '\\|')} |`);
        continue;
      }
      const lo = min(r.hits);
      const hi = Math.max(...r.hits);
      const hits = lo === hi ? String(lo) : `${lo}–${hi}`;
      const flag = r.hits.every((h) => h === r.expected) ? '' : ` (expected ${r.expected})`;
      L.push(`| ${row.tool} | ${bin.name} | ${hits}${flag} | ${fmt(min(r.perHit))} | ${fmt(median(r.perHit))} | ${fmt(median(r.perHitFrom0))} | ${fmt(median(r.wallN))} | ${fmt(median(r.wall0))} | ${fmt(median(r.wall1))} | ${r.frames.text} |`);
    }
  }
  for (const s of skippedRows) L.push(`| ${s.tool} | all | – | – | – | – | – | – | – | skipped: ${s.reason} |`);
  L.push('');

  // ratios
  const perBin = (key, bin) => (results[key]?.[bin.name] ? median(results[key][bin.name].perHit) : NaN);
  L.push('## Ratios and targets', '');
  const perBin0 = (key, bin) => (results[key]?.[bin.name] ? median(results[key][bin.name].perHitFrom0) : NaN);
  L.push('| binary | recordWithPtrace / floor | `ustack record` (every hit) / floor | the same from 0 hits (incl. first symbolization) | `ustack record --max-hits 100` / floor | runTrace / floor | gdb / recordWithPtrace |');
  L.push('|---|---:|---:|---:|---:|---:|---:|');
  const apiFloor = [];
  const cliFloor = [];
  const cliFloor0 = [];
  const gdbApi = [];
  for (const bin of BINARIES) {
    const f = perBin('floor', bin);
    const a = perBin('api', bin);
    const c = perBin('cli', bin);
    const g = perBin('gdb', bin);
    apiFloor.push(a / f);
    cliFloor.push(c / f);
    cliFloor0.push(perBin0('cli', bin) / perBin0('floor', bin));
    gdbApi.push(g / a);
    L.push(`| ${bin.name} | ${fmt(a / f, 2)}x | ${fmt(c / f, 2)}x | ${fmt(perBin0('cli', bin) / perBin0('floor', bin), 2)}x | ${fmt(perBin('cliMaxHits', bin) / f, 2)}x | ${fmt(perBin('runTrace', bin) / f, 2)}x | ${fmt(g / a, 1)}x |`);
  }
  L.push('');
  const sizes = BINARIES.map((bin) => {
    const r = results.cli?.[bin.name];
    return r?.bytes?.length ? `${bin.name} ${fmt(median(r.bytes) / median(r.hits), 1)}` : null;
  }).filter(Boolean);
  if (sizes.length) L.push(`JSON written by \`ustack record --format json\` (every hit), bytes per hit including the stack table: ${sizes.join(', ')}.`, '');
  const met = (ok) => (ok === null || Number.isNaN(ok) ? 'not measured' : ok ? '**met**' : '**not met**');
  const worstFloor = Math.max(...apiFloor.filter((x) => !Number.isNaN(x)));
  const worstCliFloor = Math.max(...cliFloor.filter((x) => !Number.isNaN(x)));
  const worstCliFloor0 = Math.max(...cliFloor0.filter((x) => !Number.isNaN(x)));
  const worstGdb = Math.min(...gdbApi.filter((x) => !Number.isNaN(x)));
  const framesOk = rows.filter((r) => ['cli', 'cliMaxHits', 'api', 'runTrace'].includes(r.key)).every((r) => BINARIES.every((b) => results[r.key][b.name].frames.ok !== false));
  const lost = rows
    .filter((r) => ['bpftrace', 'perf'].includes(r.key))
    .flatMap((r) => BINARIES.filter((b) => results[r.key][b.name].frames.ok === false).map((b) => `${r.key} on ${b.name}`));
  L.push('| target | measured | |');
  L.push('|---|---|---|');
  L.push(`| every hit recorded, ≤ 1.5x the C floor per hit: \`ustack record --format json\` (worst binary) | ${fmt(worstCliFloor, 2)}x (from 0 hits, the one-time symbolization spread over ${HITS} hits: ${fmt(worstCliFloor0, 2)}x) | ${met(Number.isFinite(worstCliFloor) ? worstCliFloor <= 1.5 : null)} |`);
  L.push(`| every hit recorded, ≤ 1.5x the C floor: in-process API, recordWithPtrace (worst binary) | ${fmt(worstFloor, 2)}x | ${met(Number.isFinite(worstFloor) ? worstFloor <= 1.5 : null)} |`);
  L.push(`| ≥ 30x faster than gdb (worst binary) | ${fmt(worstGdb, 1)}x | ${met(Number.isFinite(worstGdb) ? worstGdb >= 30 : null)} |`);
  L.push(`| complete stacks where bpftrace/perf lose frames | jest-ustack frames ${framesOk ? 'all match gdb' : 'differ from gdb somewhere'}; lost frames: ${lost.length ? lost.join(', ') : 'none seen'} | ${met(framesOk)} |`);
  if (startup) {
    const o = median(startup.overhead);
    L.push(`| start-up overhead ≤ 150 ms over the bare program (\`ustack record\`, one hook, program exits at once) | ${fmt(o)} ms median (min ${fmt(min(startup.overhead))}) | ${met(o <= 150)} |`);
  }
  if (resolution) {
    L.push(`| hook resolution on node < 1 s (cold \`ustack symbols node 'uv_*'\`) | ${fmt(resolution.cliMs)} ms | ${met(resolution.cliMs < 1000)} |`);
  }
  if (memory && !memory.skipped) {
    L.push(`| ${memory.big.hits} hits on one path, every hit recorded: peak RSS < 150 MiB | ${fmt(memory.big.kb / 1024)} MiB (${fmt(memory.small.kb / 1024)} MiB at ${memory.small.hits} hits) | ${met(memory.big.kb / 1024 < 150)} |`);
    L.push(`| ${memory.big.hits} hits on one path: JSON < 40 MB | ${fmt(memory.big.bytes / 1e6)} MB | ${met(memory.big.bytes < 40e6)} |`);
  }
  L.push('');

  if (startup) {
    L.push('## Start-up', '');
    L.push(`- untraced \`${BINARIES[0].name} 0\`: median ${fmt(median(startup.bare))} ms`);
    L.push(`- \`node -e 0\`: median ${fmt(median(startup.nodeBare))} ms (part of every CLI run)`);
    L.push(`- \`ustack record --hook ${HOOK} -- ${BINARIES[0].name} 0\`: min ${fmt(min(startup.cli))} ms, median ${fmt(median(startup.cli))} ms; overhead over the bare program: min ${fmt(min(startup.overhead))} ms, median ${fmt(median(startup.overhead))} ms`);
    L.push(`- the same on a machine's first run (empty cache folder: no compiled CLI code, no index of the libraries' inlined copies, so glibc's DWARF is walked once): median ${fmt(median(startup.cold))} ms, overhead ${fmt(median(startup.cold) - median(startup.bare))} ms; later runs read the index`);
    const cli = results.cli?.[BINARIES[0].name];
    if (cli?.wall1.length) L.push(`- the first hits' fixed cost in \`ustack record\` (\`${BINARIES[0].name} 1\`, 2 hits, against 0 hits): median ${fmt(median(cli.wall1) - median(cli.wall0))} ms, mostly symbolizing their two distinct stacks once (glibc's separate DWARF: read, inflated, parsed)`);
    if (warm) L.push(`- recordWithPtrace, warm worker, same program: min ${fmt(min(warm))} ms, median ${fmt(median(warm))} ms per run`);
    L.push('');
  }
  if (resolution) {
    const a = resolution.api;
    L.push('## Hook resolution on a large binary', '');
    L.push(`- ${resolution.target} (${(resolution.size / 1048576).toFixed(0)} MiB), cold process each time`);
    L.push(`- \`ustack symbols ${resolution.target} 'uv_*'\`: ${fmt(resolution.cliMs)} ms wall (${resolution.cliCount} functions)`);
    L.push(`- in-process: loading modules ${fmt(a.load)} ms, ElfFile.open ${fmt(a.open)} ms, resolve \`uv_run\` ${fmt(a.one)} ms (${a.oneCount} target), then \`uv_*\` ${fmt(a.glob)} ms (${a.globCount} targets)`);
    L.push('');
  }
  if (symbolization) {
    const z = symbolization;
    L.push('## Symbolization on a large binary', '');
    L.push(`- ${z.pcs} unique pcs in ${z.target} (${z.named} named): ElfFile.open ${fmt(z.open)} ms; first pass (builds the symbol table, looks for DWARF) ${fmt(z.cold)} ms = ${fmt((z.cold * 1000) / z.pcs, 2)} µs per pc; cached pass ${fmt(z.warm)} ms = ${fmt((z.warm * 1000) / z.pcs, 2)} µs per pc`);
    L.push('');
  }
  if (frames) {
    const f = frames;
    L.push('## Deep stacks (the --max-frames default)', '');
    L.push(`- deep.c, a hook on each of ${f.depth + 1} recursion levels (every stack distinct), traced in-process, best of 3: --max-frames 64: ${fmt(f.small.ms)} ms for ${f.small.frames} frames (${f.small.truncated} stacks marked truncated); --max-frames 1024: ${fmt(f.big.ms)} ms for ${f.big.frames} frames (${f.big.truncated} truncated)`);
    L.push(`- one more frame costs ${fmt(f.usPerFrame, 2)} µs (unwound, and symbolized once in its distinct stack): a hit 1000 frames deep about ${fmt(f.usPerFrame, 1)} ms (1000 frames × the µs above), and only stacks that deep pay it`);
    L.push('');
  }
  if (memory) {
    L.push('## Tracer memory', '');
    if (memory.skipped) L.push(`- skipped: ${memory.skipped}`);
    else {
      L.push(`- \`ustack record --format json --output FILE\`, every hit recorded (peak RSS of the node process, /usr/bin/time): ${memory.small.hits} hits ${fmt(memory.small.kb / 1024)} MiB, JSON ${fmt(memory.small.bytes / 1e6)} MB in ${fmt(memory.small.ms / 1000)} s; ${memory.big.hits} hits ${fmt(memory.big.kb / 1024)} MiB, JSON ${fmt(memory.big.bytes / 1e6)} MB in ${fmt(memory.big.ms / 1000)} s`);
      L.push(`- growth: ${fmt(memory.growthBytesPerHit, 2)} bytes of RSS per extra hit (the hit rows; distinct stacks are stored once)`);
    }
    L.push('');
  }

  L.push('## Frames (first stack at the hook, innermost first)', '');
  for (const bin of BINARIES) {
    L.push(`- ${bin.name} (${bin.note}): gdb \`${(oracle.get(bin.name) ?? []).join(' < ')}\``);
    for (const row of rows) {
      const r = results[row.key][bin.name];
      if (r.names && !row.oracle) L.push(`  - ${row.key}: \`${r.names.slice(0, 8).join(' < ')}\`${r.frames.ok === false ? ' ← differs' : ''}`);
    }
  }
  L.push('');
  L.push('## Rows', '');
  for (const row of rows) L.push(`- ${row.tool}: ${row.note}`);
  if (tools.perf.ok && tools.perf.note) L.push(`- note: ${tools.perf.note}`);
  L.push('- bpftrace frames come from one `printf("%s", ustack)` hit with ASLR off (`setarch -R`); addresses it leaves raw are named by gdb in the same layout.');
  L.push('');
  return L.join('\n');
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench failed: ${e.stack ?? e}\n`);
    process.exit(1);
  },
);
