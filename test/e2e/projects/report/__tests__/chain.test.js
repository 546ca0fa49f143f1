const { trace } = require('jest-ustack');

const app = process.env.REPORT_APP;

describe('chain', () => {
  test('leaf is reached through top and mid', async () => {
    const run = await trace([app, 'chain', '3'], { hooks: ['leaf', 'mid'] });
    expect(run).toExitWith(0);
    expect(run).toHaveCallPath('main > top > mid > leaf');
    expect(run).toHaveHit('leaf', { times: 3 });
  });

  test('side calls leaf too', async () => {
    const run = await trace([app, 'both', '2'], { hooks: ['leaf'] });
    expect(run).toHaveCallPath('main > side > leaf');
  });

  test.todo('more shapes');
});
