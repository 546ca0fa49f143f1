/**
 * What elfy uses of node:assert (one `assert.equal`), for the bundled CLI: loading node:assert
 * also sets up stderr colours, a few ms of `ustack record`'s start-up (esbuild --alias:assert).
 */
function assert(value: unknown, message?: string): void {
  if (!value) throw new Error(message ?? 'assertion failed');
}
assert.equal = (actual: unknown, expected: unknown, message?: string): void => {
  // eslint-disable-next-line eqeqeq
  if (actual != expected) throw new Error(message ?? `${String(actual)} == ${String(expected)}`);
};
export = assert;
