// Jest loads reporters untransformed: point it at the compiled reporter in dist/.
module.exports = require('./dist/jest/reporter.js').default;
