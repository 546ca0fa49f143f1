/** Run inside the stap lane's guest by test/stap/stap-e2e.test.ts (copied next to node_modules/jest-ustack). */
module.exports = {
  preset: 'jest-ustack',
  reporters: ['default'],
  testMatch: ['**/__tests__/**/*.test.js'],
  // a qemu guest under software emulation is slow
  testTimeout: 300000,
};
