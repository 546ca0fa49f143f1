/** Copied to a temporary folder by test/e2e/jest-calls.test.ts, next to node_modules/jest-ustack. */
module.exports = {
  preset: 'jest-ustack',
  reporters: ['default'],
  testMatch: ['**/__tests__/**/*.test.js'],
  testTimeout: 30000,
};
