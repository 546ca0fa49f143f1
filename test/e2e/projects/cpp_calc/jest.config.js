/**
 * A C++ user's project: ts-jest next to the preset, the calculator (test/fixtures/cpp_calc.cc,
 * -O2 -g) in build/calc. Copied to a temporary folder by test/e2e/cpp-calc.test.ts.
 */
module.exports = {
  preset: 'jest-ustack',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testMatch: ['**/__tests__/**/*.test.ts'],
  reporters: ['default', ['jest-ustack/reporter', { title: 'cpp_calc' }]],
  testTimeout: 30000,
};
