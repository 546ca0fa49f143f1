// Hit counts of C++ functions whose throw paths GCC moved to `.cold` parts: each call counts once
// (the outer e2e test compares the counts in report.json with gdb's breakpoint hit counts).
import { trace } from 'jest-ustack';

const HOOKS = ['calc::Call::eval', 'calc::BinOp::eval', 'node_alloc'];

test.each(['foo(1)', 'sqrt(0-4)', 'sqr(1/0)', '(1+2)*sqr(3)'])('hit counts on %s', async (input) => {
  const run = await trace(['./build/calc', input], { hooks: HOOKS });
  expect(run).toHaveHit('calc::Call::eval');
  // a plain name matches the qualified C++ function, as gdb's `break node_alloc` does
  expect(run.capture.hooks.find((h) => h.spec === 'node_alloc')?.resolved.map((r) => r.symbol)).toEqual(['_ZN4calc10node_allocEm']);
});
