import * as path from 'node:path';
import { tracedRun } from './runs';
import { isCallPathList, isRun, isStackList } from '../../src/jest/run';

describe('Run from a real trace', () => {
  test('callPaths merges per hook with counts in order of first appearance', async () => {
    const run = await tracedRun('chain.c', ['3'], ['leaf', 'mid']);
    expect(isRun(run)).toBe(true);
    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(run.stdout).toMatch(/^total=/);
    expect(run.callPaths('leaf')).toEqual(['6× main > top > mid > leaf']);
    expect(run.callPaths('mid')).toEqual(['6× main > top > mid']);
    expect(run.callPaths()).toEqual(['6× main > top > mid', '6× main > top > mid > leaf']);
    expect(isCallPathList(run.callPaths())).toBe(true);
    expect(run.callPaths('nope')).toEqual([]);
    // the marker is invisible to equality
    expect(run.callPaths('leaf')).toStrictEqual(['6× main > top > mid > leaf']);
  });

  test('stacks are readable, innermost first, with file:line relative to rootDir or basename', async () => {
    const probe = await tracedRun('chain.c', ['1'], ['leaf']);
    const file = probe.hits[0].frames[0].file!;
    const underRoot = await tracedRun('chain.c', ['1'], ['leaf'], { rootDir: path.dirname(path.dirname(file)) });
    const stacks = underRoot.stacks('leaf');
    expect(isStackList(stacks)).toBe(true);
    expect(stacks).toHaveLength(1);
    expect(stacks[0].count).toBe(2);
    expect(stacks[0].frames.map((f) => f.replace(/:\d+\)$/, ')'))).toEqual([
      'leaf (fixtures/chain.c)',
      'mid (fixtures/chain.c)',
      'top (fixtures/chain.c)',
      'main (fixtures/chain.c)',
    ]);
    expect(stacks[0].frames[0]).toBe(`leaf (fixtures/chain.c:${probe.hits[0].frames[0].line})`);
    expect(probe.stacks()[0].frames[0]).toBe(`leaf (chain.c:${probe.hits[0].frames[0].line})`);
  });

  test('a crash is on the run with its stack', async () => {
    const run = await tracedRun('jest_crash.c', ['crash'], []);
    expect(run.exit.signal).toBe('SIGSEGV');
    expect(run.crash?.signal).toBe('SIGSEGV');
    expect(run.crash?.frames.map((f) => f.symbol).slice(0, 3)).toEqual(['read_value', 'walk', 'main']);
    expect(run.callPaths()).toEqual([]);
  });

  test('normalization switches apply to callPaths', async () => {
    const run = await tracedRun('chain.c', ['1'], ['leaf'], { normalize: { startAtMain: false, dropRuntimeFrames: false } });
    const [line] = run.callPaths('leaf');
    expect(line).toMatch(/^2× .*__libc_start_\w+ > main > top > mid > leaf$/);
  });
});

test('Rust: call paths start at the program main / the thread closure (real tracer, legacy demangling)', async () => {
  const run = await tracedRun('jest_rust.rs', ['2'], ['jest_rust::config::alloc_node']);
  const paths = run.callPaths();
  expect(paths).toHaveLength(2);
  // closures named as gdb names them, from DWARF ({closure#N}), not by the legacy symbol's {{closure}}
  expect(paths[0]).toMatch(/^2× jest_rust::main > jest_rust::config::parse_all > .* > jest_rust::config::parse_all::\{closure#0\} > jest_rust::config::parse_value > jest_rust::config::alloc_node$/);
  expect(paths[1]).toMatch(/^1× jest_rust::main::\{closure#\d+\} > jest_rust::config::parse_value > jest_rust::config::alloc_node$/);
  expect(paths.join('\n')).not.toMatch(/::h[0-9a-f]{16}/);
});

test('C++: overloads, templates and clones merge under their plain names (real tracer)', async () => {
  for (const flags of [['-O0', '-g'], ['-O2', '-g']]) {
    const run = await tracedRun('jest_names.cc', ['2'], ['store::Table::get', 'store::Box<long>::open', 'store::twice<int>'], { flags, variant: flags[0] });
    const symbols = new Set(run.hits.map((h) => h.frames[0].symbol));
    // frames carry gdb's names: template arguments, no parameter list (the overloads of get are one name)
    expect([...symbols].sort()).toEqual(['store::Box<long>::open', 'store::Table::get', 'store::twice<int>']);
    expect(run.callPaths()).toEqual(['4× main > store::Table::get', '2× main > store::Box::open', '2× main > store::twice']);
  }
});
