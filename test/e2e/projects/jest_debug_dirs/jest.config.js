module.exports = {
  preset: 'jest-ustack',
  reporters: ['default'],
  testMatch: ['**/__tests__/**/*.test.js'],
  testTimeout: 30000,
  testEnvironmentOptions: { ustack: { debugDirs: ['dbg'] } },
};
