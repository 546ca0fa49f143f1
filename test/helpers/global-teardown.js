// Fails the run if a process started by the tests outlived them (issue: never leak a traced process).
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const os = require('node:os');

module.exports = async function globalTeardown() {
  const marker = path.join(os.tmpdir(), 'jest-ustack-fixtures');
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  const leftovers = out
    .split('\n')
    .filter((line) => line.includes(marker) && !line.includes('ps -eo'));
  if (leftovers.length) {
    throw new Error(`Processes started by the tests are still running:\n${leftovers.join('\n')}`);
  }
};
