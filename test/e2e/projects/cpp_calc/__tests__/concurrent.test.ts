// Six concurrent tests in two describe blocks, a beforeAll trace at file level and one in a
// describe block: report.json must file each traced run under the test or hook that made it.
import { trace } from 'jest-ustack';

const INPUTS = ['1+2', '2*3', '(4+5)*6', 'sqr(7)', 'sqrt(64)', '8/2-1'];
const VALUES = ['3', '6', '54', '49', '8', '3'];

beforeAll(async () => {
  const run = await trace(['./build/calc', '0+0'], { hooks: ['calc::evaluate'] });
  expect(run).toExitWith(0);
});

describe('arithmetic', () => {
  beforeAll(async () => {
    const run = await trace(['./build/calc', '1*1']);
    expect(run.stdout).toBe('1\n');
  });

  for (const i of [0, 1, 2]) {
    test.concurrent(`evaluates ${INPUTS[i]}`, async () => {
      const run = await trace(['./build/calc', INPUTS[i]], { hooks: ['calc::evaluate'] });
      expect(run.stdout).toBe(`${VALUES[i]}\n`);
      expect(run).toHaveHit('calc::evaluate', { times: 1 });
    });
  }
});

describe('functions', () => {
  describe('calls', () => {
    for (const i of [3, 4, 5]) {
      test.concurrent(`evaluates ${INPUTS[i]}`, async () => {
        const run = await trace(['./build/calc', INPUTS[i]], { hooks: ['calc::evaluate'] });
        expect(run.stdout).toBe(`${VALUES[i]}\n`);
      });
    }
  });
});
