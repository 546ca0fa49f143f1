const fs = require('node:fs');
const { trace } = require('jest-ustack');

// The stripped program of test/elf/debuginfod.test.ts; its debug info comes from the debuginfod
// server in DEBUGINFOD_URLS. The capture goes to a file for the test to compare with the unstripped build.
test('trace() of a stripped program and library', async () => {
  const run = await trace([process.env.DEBUGINFOD_TEST_APP], { hooks: ['lib_leaf', 'app_helper'] });
  expect(run).toExitWith(0);
  expect(run).toHaveCallPath('main > app_inline > app_helper > lib_entry > lib_mid > lib_leaf');
  fs.writeFileSync(process.env.DEBUGINFOD_TEST_OUT, JSON.stringify(run.capture));
});

test('a second trace() of the same file: no second download announcement', async () => {
  const run = await trace([process.env.DEBUGINFOD_TEST_APP], { hooks: ['lib_leaf'] });
  expect(run).toExitWith(0);
});
