/** Copied into a temporary folder by test/e2e/report.test.ts, next to node_modules/jest-ustack (a symlink to the repository). */
module.exports = {
  preset: 'jest-ustack',
  testMatch: ['**/__tests__/**/*.test.js'],
  reporters: ['default', ['jest-ustack/reporter', { title: 'e2e report', maxStacksPerHook: 10 }]],
  testTimeout: 60000,
};
