// Runs Jest from this project's node_modules when installed, else from the repository's.
const path = require('node:path');

let bin;
for (const base of [path.join(__dirname, '..'), path.join(__dirname, '..', '..')]) {
  try {
    bin = require.resolve('jest/bin/jest', { paths: [base] });
    break;
  } catch {
    // try the next one
  }
}
if (!bin) {
  console.error('jest is not installed: run `npm install` here (or `npm ci` in the jest-ustack repository).');
  process.exit(1);
}
process.chdir(path.join(__dirname, '..'));
require(bin);
