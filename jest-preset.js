// preset: 'jest-ustack' — the environment, matchers, serializer and reporter (next to Jest's default one).
module.exports = {
  testEnvironment: require.resolve('./environment.js'),
  setupFilesAfterEnv: [require.resolve('./setup.js')],
  snapshotSerializers: [require.resolve('./serializer.js')],
  reporters: ['default', require.resolve('./reporter.js')],
};
