const { trace } = require('jest-ustack');

const app = process.env.REPORT_APP;

test('the crash is caught in explode', async () => {
  const run = await trace([app, 'crash'], { hooks: [] });
  expect(run).toExitWith('SIGSEGV');
  expect(run).toHaveCrashedIn('explode');
});

test('deliberately wrong: expects a clean exit from a crashing program', async () => {
  const run = await trace([app, 'crash'], { hooks: ['detonate'] });
  expect(run).toExitWith(0);
});

test.skip('skipped', () => {});
