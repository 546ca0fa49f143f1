/**
 * @ustack-backend gdb
 */
test('never runs: the environment rejects the pragma', () => {});
