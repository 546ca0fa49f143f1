const { trace } = require('jest-ustack');

test('a stripped program whose debug file is not in the debug directories', async () => {
  await trace(['./build/chain-stripped', '1'], { hooks: ['leaf'] });
});
