/** The project's own tests: unit tests next to nothing (they mirror src/ under test/), e2e under test/e2e. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', diagnostics: { warnOnly: false } }] },
  testTimeout: 120000,
  globalTeardown: '<rootDir>/test/helpers/global-teardown.js',
};
