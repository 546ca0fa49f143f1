// jest-ustack/setup (setupFilesAfterEnv): call-path matchers and the snapshot serializer.
module.exports = require('./dist/jest/setup.js');
