/** The environment's `args` / `returns` switches (issue 13): config values and docblock pragmas. */
import { applyPragmas, parseEnvironmentOptions } from '../../src/jest/options';
import { InvalidTraceOptionsError } from '../../src/errors';

test('testEnvironmentOptions.ustack takes args and returns as booleans', () => {
  expect(parseEnvironmentOptions({ args: true, returns: false })).toEqual({ args: true, returns: false });
  expect(() => parseEnvironmentOptions({ args: 'yes' })).toThrow(InvalidTraceOptionsError);
  expect(() => parseEnvironmentOptions({ args: 'yes' })).toThrow('args must be true or false, got "yes"');
});

test('@ustack-args and @ustack-returns pragmas: bare means true, "false" turns a configured switch off', () => {
  expect(applyPragmas({}, { 'ustack-args': '', 'ustack-returns': 'true' })).toEqual({ args: true, returns: true });
  expect(applyPragmas({ args: true }, { 'ustack-args': 'false' })).toEqual({ args: false });
  expect(() => applyPragmas({}, { 'ustack-returns': 'often' })).toThrow('the @ustack-returns docblock pragma');
});
