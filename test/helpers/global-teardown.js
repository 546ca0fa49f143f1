// Fails the run if a process started by the tests outlived them (issue: never leak a traced process).
// Only this run's processes count: jest.config.js stamps USTACK_TEST_RUN into the environment every
// child inherits; a process started with a cleared environment counts when it is in this session.
// Other runs on the same machine (another checkout's Jest, a CI job beside it) are not ours.
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');

function sessionOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
  } catch {
    return -1;
  }
}

module.exports = async function globalTeardown() {
  const marker = path.join(os.tmpdir(), 'jest-ustack-fixtures');
  const token = `USTACK_TEST_RUN=${process.env.USTACK_TEST_RUN}`;
  const ownSession = sessionOf(process.pid);
  const leftovers = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let args, env;
    try {
      args = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      env = fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (!args.includes(marker)) continue;
    const run = env.find((e) => e.startsWith('USTACK_TEST_RUN='));
    if (run === token || (run === undefined && sessionOf(name) === ownSession)) leftovers.push(`${name} ${args}`);
  }
  if (leftovers.length) {
    throw new Error(`Processes started by the tests are still running:\n${leftovers.join('\n')}`);
  }
};
