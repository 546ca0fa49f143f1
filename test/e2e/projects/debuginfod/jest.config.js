/** Copied to a temporary folder by test/elf/debuginfod.test.ts, next to node_modules/jest-ustack. */
module.exports = {
  preset: 'jest-ustack',
  reporters: ['default'],
  testMatch: ['**/__tests__/**/*.test.js'],
  testTimeout: 60000,
};
