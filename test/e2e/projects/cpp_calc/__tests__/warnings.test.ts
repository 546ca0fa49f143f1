// Capture warnings are printed once for this file on the Jest console (two runs give the same one).
import { trace } from 'jest-ustack';

test.each(['1+2', '3*4'])('a hook in a library the program never loads warns (%s)', async (input) => {
  const run = await trace(['./build/calc', input], { hooks: ['calc::evaluate', 'compress@libz-never-loaded.so.1'] });
  expect(run).toHaveHit('calc::evaluate', { times: 1 });
  expect(run.capture.warnings).toEqual([expect.stringContaining('libz-never-loaded.so.1 was never loaded')]);
});
