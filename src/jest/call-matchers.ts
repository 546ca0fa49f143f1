/**
 * toHaveCalled(hook, { with, returned, path, times }): a hooked function was called with these
 * arguments (a subset, each compared with Jest's equality, so asymmetric matchers work), returned
 * this value, on a call path matching this pattern (issue 13). A failure lists the closest calls
 * and what differs in each.
 */
import type { MatcherContext, SyncExpectationResult } from 'expect';
import { CallPathPattern } from '../callpath/pattern';
import { CALL_PATH_SEPARATOR } from '../callpath/merge';
import { callsOf, type Call } from './calls';
import { isRun, runContext } from './run';

export interface CalledExpectation {
  /** Arguments the call must have (others are ignored); values or asymmetric matchers. Or one matcher for the whole args object. */
  with?: Record<string, unknown> | unknown;
  /** The return value (or an asymmetric matcher); the call must have returned. */
  returned?: unknown;
  /** A call-path pattern (`main > ** > parse_array > xalloc`). */
  path?: string;
  /** Exactly this many matching calls (default: at least one). */
  times?: number;
}

const CLOSEST = 3;
const KNOWN = ['with', 'returned', 'path', 'times'];

function isAsymmetric(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { asymmetricMatch?: unknown }).asymmetricMatch === 'function';
}

/** What differs between a call and the expectation: one line per difference (empty: it matches). */
function differences(ctx: MatcherContext, call: Call, want: CalledExpectation, pattern: CallPathPattern | null): string[] {
  const out: string[] = [];
  const u = ctx.utils;
  if (want.with !== undefined) {
    if (isAsymmetric(want.with) || typeof want.with !== 'object' || want.with === null) {
      if (!ctx.equals(call.args, want.with)) out.push(`args: expected ${u.printExpected(want.with)}, received ${u.printReceived(call.args)}`);
    } else {
      for (const [k, v] of Object.entries(want.with as Record<string, unknown>)) {
        if (!(k in call.args)) out.push(`${k}: expected ${u.printExpected(v)}, received no such argument`);
        else if (!ctx.equals(call.args[k], v)) out.push(`${k}: expected ${u.printExpected(v)}, received ${u.printReceived(call.args[k])}`);
      }
    }
  }
  if ('returned' in want) {
    if (!call.returned) out.push(`return: expected ${u.printExpected(want.returned)}, received ${call.noReturn ? `no return (${call.noReturn})` : 'no return recorded'}`);
    else if (!ctx.equals(call.return, want.returned)) out.push(`return: expected ${u.printExpected(want.returned)}, received ${u.printReceived(call.return)}`);
  }
  if (pattern && !pattern.matches(call.path.split(CALL_PATH_SEPARATOR))) out.push(`path: expected ${u.printExpected(pattern.source)}, received ${u.printReceived(call.path)}`);
  return out;
}

function describeCall(ctx: MatcherContext, call: Call): string {
  const args = Object.entries(call.args)
    .map(([k, v]) => `${k}=${ctx.utils.stringify(v)}`)
    .join(', ');
  const ret = call.returned ? ` => ${ctx.utils.stringify(call.return)}` : call.noReturn ? ` => no return (${call.noReturn})` : '';
  return `${call.path} (${args})${ret}`;
}

export function toHaveCalled(this: MatcherContext, received: unknown, hook: string, expectation: CalledExpectation = {}): SyncExpectationResult {
  const name = 'toHaveCalled';
  const u = this.utils;
  const head = `${u.matcherHint(name, 'run', 'hook', { isNot: this.isNot, promise: this.promise, secondArgument: 'expected' })}\n\n`;
  if (!isRun(received)) {
    return { pass: false, message: () => `${head}${u.RECEIVED_COLOR('received')} value must be a run from trace().\n${u.printWithType('Received', received, u.printReceived)}` };
  }
  if (typeof expectation !== 'object' || expectation === null) throw new TypeError('toHaveCalled(hook, expected): expected must be an object { with, returned, path, times }');
  for (const k of Object.keys(expectation)) {
    if (!KNOWN.includes(k)) throw new TypeError(`toHaveCalled: unknown key "${k}" (known: ${KNOWN.join(', ')})`);
  }
  const pattern = expectation.path !== undefined ? new CallPathPattern(expectation.path) : null;
  const calls = callsOf(received.hits, hook, runContext(received).normalize, false);
  const scored = calls.map((call) => ({ call, diff: differences(this, call, expectation, pattern) }));
  const matching = scored.filter((s) => s.diff.length === 0);
  const times = expectation.times;
  const pass = times === undefined ? matching.length > 0 : matching.length === times;
  const wanted = [
    expectation.with !== undefined ? `with ${u.printExpected(expectation.with)}` : '',
    'returned' in expectation ? `returning ${u.printExpected(expectation.returned)}` : '',
    pattern ? `on ${u.printExpected(pattern.source)}` : '',
    times !== undefined ? `${times} time${times === 1 ? '' : 's'}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const expectedLine = `Expected: ${this.isNot ? 'no ' : ''}call of ${u.printExpected(hook)}${wanted ? ' ' + wanted : ''}\n`;
  return {
    pass,
    message: () => {
      if (pass) {
        return head + expectedLine + `Received: ${matching.length} matching call${matching.length === 1 ? '' : 's'}:\n` + matching.slice(0, CLOSEST).map((s) => `  ${u.RECEIVED_COLOR(describeCall(this, s.call))}`).join('\n');
      }
      if (calls.length === 0) {
        const hooks = received.capture.hooks.map((h) => h.spec).join(', ') || 'none';
        return head + expectedLine + `Received: no call of ${u.printReceived(hook)} was recorded (hooks: ${hooks}).`;
      }
      const hints: string[] = [];
      if (expectation.with !== undefined && calls.every((c) => Object.keys(c.args).length === 0) && !calls.some((c) => received.hits.some((h) => h.args))) hints.push('Arguments were not recorded: pass { args: true } to trace().');
      if ('returned' in expectation && calls.every((c) => !c.returned && !c.noReturn)) hints.push('Returns were not recorded: pass { returns: true } to trace().');
      const closest = [...scored].sort((a, b) => a.diff.length - b.diff.length).slice(0, CLOSEST);
      const counted = times !== undefined ? `${matching.length} of ${calls.length} call${calls.length === 1 ? '' : 's'} match` : `none of ${calls.length} call${calls.length === 1 ? '' : 's'} matches`;
      return (
        head +
        expectedLine +
        `Received: ${counted}.\n` +
        (hints.length ? `\n${hints.join('\n')}\n` : '') +
        `\nClosest call${closest.length === 1 ? '' : 's'}:\n` +
        closest
          .map((s) => `  ${u.RECEIVED_COLOR(describeCall(this, s.call))}${s.diff.length ? '\n' + s.diff.map((d) => `      ${d}`).join('\n') : ''}`)
          .join('\n')
      );
    },
  };
}
