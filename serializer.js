// jest-ustack/serializer (snapshotSerializers): stable snapshots of runs, call paths and stacks.
module.exports = require('./dist/jest/serializer.js').default;
