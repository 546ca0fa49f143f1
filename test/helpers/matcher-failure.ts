/** The plain text (colors stripped) of the message a failing assertion throws. */
const ANSI = /\u001b\[[0-9;]*m/g;

export function failure(fn: () => void): string {
  try {
    fn();
  } catch (e: any) {
    return String(e.message).replace(ANSI, '');
  }
  throw new Error('expected the assertion to fail');
}
