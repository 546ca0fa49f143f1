import { applyPragmas, fileHookOrigins, parseEnvironmentOptions } from '../../src/jest/options';
import { InvalidTraceOptionsError } from '../../src/errors';

describe('environment options', () => {
  test('valid options pass through', () => {
    expect(parseEnvironmentOptions({ backend: 'stap', hooks: ['a', 'b@libc.so.6'], maxFrames: 32, maxHits: 5, timeout: 2000, normalize: { stripCppParams: false } })).toEqual({
      backend: 'stap',
      hooks: ['a', 'b@libc.so.6'],
      maxFrames: 32,
      maxHits: 5,
      timeout: 2000,
      timeoutMargin: undefined,
      normalize: { stripCppParams: false },
    });
    expect(parseEnvironmentOptions(undefined)).toEqual({});
  });

  test.each([
    [{ backend: 'gdb' }, /backend must be one of "ptrace", "stap", "auto"/],
    [{ hooks: 'leaf' }, /hooks must be an array/],
    [{ maxFrames: -1 }, /maxFrames must be a positive integer/],
    [{ timeout: 1.5 }, /timeout must be a positive integer/],
    [{ normalize: { startAtMian: false } }, /unknown normalize switch "startAtMian"/],
    [{ hook: ['a'] }, /unknown option "hook"/],
    [{ warmUp: 'no' }, /warmUp must be true or false/],
  ])('%j is rejected with a clear message', (raw, message) => {
    expect(() => parseEnvironmentOptions(raw)).toThrow(InvalidTraceOptionsError);
    expect(() => parseEnvironmentOptions(raw)).toThrow(message);
  });

  test('docblock pragmas override and extend', () => {
    const base = parseEnvironmentOptions({ hooks: ['a'], backend: 'ptrace' });
    expect(applyPragmas(base, { 'ustack-backend': 'stap', 'ustack-hooks': ['b,c', 'd'], 'ustack-timeout': '1500', 'jest-environment': 'x' })).toEqual({
      ...base,
      backend: 'stap',
      hooks: ['a', 'b', 'c', 'd'],
      timeout: 1500,
    });
    expect(() => applyPragmas({}, { 'ustack-hook': 'x' })).toThrow(/unknown pragma.*@ustack-hooks/);
    expect(() => applyPragmas({}, { 'ustack-max-hits': 'many' })).toThrow(/maxHits must be a positive integer/);
  });

  test('warmUp switch; file-level hooks remember whether the config or the pragma gave them', () => {
    expect(parseEnvironmentOptions({ warmUp: false })).toMatchObject({ warmUp: false });
    const configured = parseEnvironmentOptions({ hooks: ['a'] });
    const effective = applyPragmas(configured, { 'ustack-hooks': 'b' });
    expect([...fileHookOrigins(configured, effective)]).toEqual([
      ['a', 'testEnvironmentOptions.ustack.hooks'],
      ['b', 'the @ustack-hooks docblock pragma'],
    ]);
  });
});
