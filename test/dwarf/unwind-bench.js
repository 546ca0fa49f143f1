#!/usr/bin/env node
/**
 * Rough micro-benchmark of the unwinder (not a test): stops test/fixtures/chain.c (-O2, no frame
 * pointers) in `leaf` under gdb, takes the core, and unwinds that thread over and over with a
 * copy of its stack as memory. Prints the cost per stack with rows cached (the per-hit case) and
 * the cost of the first unwind (rows compiled). Run: node test/dwarf/unwind-bench.js [iterations]
 */
const fs = require('node:fs');
const ts = require('typescript');

// load the TypeScript sources directly (transpile only)
require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: filename,
  });
  module._compile(out.outputText, filename);
};

const { buildFixture } = require('../helpers/fixtures.ts');
const { stopUnderGdb, loadModules, moduleLookup } = require('./unwind-scenario.ts');
const { Unwinder } = require('../../src/dwarf/unwinder.ts');
const { BufferMemory } = require('../../src/dwarf/memory.ts');
const { REG_RIP, REG_RSP } = require('../../src/dwarf/registers.ts');

const iterations = Number(process.argv[2] ?? 1_000_000);
const only = process.argv[3];
for (const [label, flags, target] of [
  ['chain.c -O2 -fomit-frame-pointer, stop in leaf', ['-O2', '-fomit-frame-pointer', '-g'], 'leaf'],
  ['libc_calls.c -O2, comparator inside glibc qsort', ['-O2', '-fomit-frame-pointer', '-g'], 'by_value'],
]) {
  const src = label.split(' ')[0];
  if (only && !src.startsWith(only)) continue;
  const stop = stopUnderGdb([buildFixture(src, { flags })], target);
  const thread = stop.core.threads.find((t) => t.regs[REG_RIP] === stop.pc && t.regs[REG_RSP] === stop.sp);
  // a 16 KiB stack snapshot from rsp, as a tracer would read it through /proc/PID/mem
  const rsp = thread.regs[REG_RSP];
  const stack = Buffer.alloc(16384);
  stop.core.copy(rsp, stack);
  const mem = new BufferMemory(stack, rsp);
  const unwinder = new Unwinder(moduleLookup(loadModules(stop.core)));
  const regs = new Float64Array(17);
  const pcs = new Float64Array(64);
  const flagsOut = new Uint8Array(64);

  regs.set(thread.regs);
  let t0 = process.hrtime.bigint();
  const n = unwinder.unwind(regs, mem, pcs, flagsOut, 64);
  const cold = Number(process.hrtime.bigint() - t0) / 1000;

  for (let i = 0; i < 10000; i++) { regs.set(thread.regs); unwinder.unwind(regs, mem, pcs, flagsOut, 64); }
  // CPU time rather than wall time: the 2-core VM is often shared with other work
  const c0 = process.cpuUsage();
  for (let i = 0; i < iterations; i++) { regs.set(thread.regs); unwinder.unwind(regs, mem, pcs, flagsOut, 64); }
  const c1 = process.cpuUsage(c0);
  const ns = ((c1.user + c1.system) * 1000) / iterations;
  console.log(`${label}: ${n} frames; first unwind (rows compiled) ${cold.toFixed(1)} µs; cached ${(ns / 1000).toFixed(3)} µs per stack, ${(ns / n).toFixed(0)} ns per frame`);
}
