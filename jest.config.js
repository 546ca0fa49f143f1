// Every process the tests start inherits this mark; the global teardown finds this run's leftovers by it.
process.env.USTACK_TEST_RUN ??= `${process.pid}-${Date.now()}`;

/** The project's own tests: unit tests next to nothing (they mirror src/ under test/), e2e under test/e2e. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // fixture projects under test/e2e/projects are run by the e2e tests with their own Jest config
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/projects/'],
  modulePathIgnorePatterns: ['<rootDir>/test/e2e/projects/', '<rootDir>/example-project/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', diagnostics: { warnOnly: false } }] },
  testTimeout: 120000,
  globalTeardown: '<rootDir>/test/helpers/global-teardown.js',
};
