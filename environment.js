// jest-ustack/environment: Jest loads test environments untransformed, so this points at dist/.
const environment = require('./dist/jest/environment.js');
module.exports = environment.default;
module.exports.default = environment.default;
module.exports.TestEnvironment = environment.default;
