/**
 * Matchers on runs (and call-path lists): toHaveCallPath, toHaveHit, toExitWith, toHaveCrashedIn.
 * Sandbox-side: pure functions over the run's JSON, messages in Jest's style via `this.utils`.
 */
import type { MatcherContext, SyncExpectationResult } from 'expect';
import { alignmentDiffLines, rankClosestPaths } from '../callpath/closest';
import { formatMergedCallPath, parseCallPathLine } from '../callpath/merge';
import { normalizeFrames } from '../callpath/normalize';
import { CallPathPattern, type FrameName } from '../callpath/pattern';
import { InvalidMatcherArgumentError } from '../errors';
import { crashStack, isRun, runCallPaths, runContext, runHitCount, runPathCandidates, type Run } from './run';
import { toHaveCalled } from './call-matchers';

type Result = SyncExpectationResult;

const MAX_LISTED = 12;
const STDERR_LINES = 8;

function hint(ctx: MatcherContext, name: string, received: string, expected: string, secondArgument?: string): string {
  return ctx.utils.matcherHint(name, received, expected, { isNot: ctx.isNot, promise: ctx.promise, secondArgument });
}

function notARun(ctx: MatcherContext, name: string, value: unknown, alsoLists: boolean): Result {
  const what = alsoLists ? 'a run from trace() or a list from run.callPaths()' : 'a run from trace()';
  return {
    pass: false,
    message: () =>
      `${hint(ctx, name, 'received', 'expected')}\n\n` +
      `${ctx.utils.RECEIVED_COLOR('received')} value must be ${what}.\n` +
      ctx.utils.printWithType('Received', value, ctx.utils.printReceived),
  };
}

function indentList(lines: string[], limit = MAX_LISTED): string {
  const shown = lines.slice(0, limit).map((l) => `  ${l}`);
  if (lines.length > limit) shown.push(`  … and ${lines.length - limit} more`);
  return shown.join('\n');
}

function exitText(run: Run): string {
  if (run.timedOut) return `killed when its time ran out${run.exit.signal ? ` (${run.exit.signal})` : ''}`;
  if (run.exit.signal) return `killed by ${run.exit.signal}`;
  return `exit code ${run.exit.code}`;
}

function stderrTail(run: Run): string {
  const text = run.stderr.trimEnd();
  if (!text) return '';
  const lines = text.split('\n');
  return `\n\nstderr${lines.length > STDERR_LINES ? ` (last ${STDERR_LINES} lines)` : ''}:\n${indentList(lines.slice(-STDERR_LINES), STDERR_LINES)}`;
}

function crashText(ctx: MatcherContext, run: Run): string {
  if (!run.crash) return '';
  const where = run.crash.faultAddress ? ` at address ${run.crash.faultAddress}` : '';
  return `\n\nCrash stack (${run.crash.signal}${where}):\n${ctx.utils.RECEIVED_COLOR(indentList(crashStack(run), 40))}`;
}

function hookSummary(run: Run): string {
  const specs = run.capture.hooks;
  if (!specs.length) return 'no hooks were set';
  return specs
    .map((h) => {
      const hits = runHitCount(run, h.spec);
      return `${h.spec} (${h.resolved.length} function${h.resolved.length === 1 ? '' : 's'}, ${hits} hit${hits === 1 ? '' : 's'})`;
    })
    .join(', ');
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** Checks the options object of a matcher: known keys, each with its type. */
function checkOptions<T extends object>(matcher: string, options: unknown, known: Record<string, (v: unknown) => string | null>): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidMatcherArgumentError(matcher, `the options must be an object such as { ${Object.keys(known)[0]}: ... }, got ${describeValue(options)}`);
  }
  for (const [key, value] of Object.entries(options)) {
    const check = known[key];
    if (!check) throw new InvalidMatcherArgumentError(matcher, `unknown option "${key}" (known: ${Object.keys(known).join(', ')})`);
    if (value === undefined) continue;
    const problem = check(value);
    if (problem) throw new InvalidMatcherArgumentError(matcher, `option ${key} ${problem}, got ${describeValue(value)}`);
  }
  return options as T;
}

const aHookSpec = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? null : 'must be a hook spec as passed to trace() (a non-empty string)');
const aCount = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? null : 'must be a non-negative integer');

function checkName(matcher: string, what: string, value: unknown, example: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidMatcherArgumentError(matcher, `${what} must be a non-empty string such as ${JSON.stringify(example)}, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Capture warnings that can explain a result: those about `hooks` (all hook warnings when null),
 * and the others (missing debug information, leftover processes) when `others` says they matter.
 */
function warningsText(run: Run, hooks: string[] | null, others: boolean): string {
  const all = run.capture.warnings ?? [];
  const aboutHook = (w: string) => w.startsWith('Hook "');
  const shown = all.filter((w) => (aboutHook(w) ? hooks === null || hooks.some((h) => w.startsWith(`Hook ${JSON.stringify(h)}`)) : others));
  if (!shown.length) return '';
  return `\n\nWarnings from the trace:\n${indentList(shown.map((w) => `- ${w}`), 6)}`;
}

interface Candidate {
  count: number;
  path: string[];
  variants: FrameName[][];
}

function candidatesOf(received: Run | string[], hook: string | undefined, withArgs: boolean): Candidate[] {
  if (isRun(received)) {
    if (withArgs) return runPathCandidates(received, hook);
    return runCallPaths(received, hook).map(({ count, path }) => ({ count, path, variants: [path] }));
  }
  return received.map((line) => {
    const { count, path } = parseCallPathLine(String(line));
    return { count, path, variants: [path] };
  });
}

function toHaveCallPath(this: MatcherContext, received: unknown, pattern: string, options?: { hook?: string }): Result {
  const name = 'toHaveCallPath';
  if (!isRun(received) && !(Array.isArray(received) && received.every((x) => typeof x === 'string'))) return notARun(this, name, received, true);
  const compiled = new CallPathPattern(pattern);
  const hook = checkOptions<{ hook?: string }>(name, options, { hook: aHookSpec }).hook;
  const candidates = candidatesOf(received, hook, compiled.checksTemplateArgs);
  const matching = candidates.filter((c) => c.variants.some((v) => compiled.matches(v)));
  const pass = matching.length > 0;
  const head = `${hint(this, name, isRun(received) ? 'run' : 'callPaths', 'pattern', hook ? 'options' : undefined)}\n\n`;
  const expectedLine = `Expected pattern: ${this.utils.printExpected(pattern)}${hook ? ` (hook ${this.utils.printExpected(hook)})` : ''}\n`;
  if (pass) {
    return {
      pass,
      message: () =>
        head +
        `Expected no call path to match: ${this.utils.printExpected(pattern)}\n` +
        `Matching call path${matching.length === 1 ? '' : 's'}:\n` +
        this.utils.RECEIVED_COLOR(indentList(matching.map(formatMergedCallPath))),
    };
  }
  return {
    pass,
    message: () => {
      if (!candidates.length) {
        const why = isRun(received)
          ? `no call paths were captured: ${hookSummary(received)}.${warningsText(received, hook ? [hook] : null, true)}${crashText(this, received)}`
          : 'the list of call paths is empty.';
        return head + expectedLine + `Received: ${why}`;
      }
      const [best] = rankClosestPaths(compiled, candidates, (c) => c.variants[0]);
      const lines = alignmentDiffLines(best.alignment);
      const diff = this.utils.diff(lines.expected.join('\n'), lines.received.join('\n'), {
        aAnnotation: 'Pattern',
        bAnnotation: `Closest call path (${best.item.count}×)`,
        expand: true,
      });
      return (
        head +
        expectedLine +
        `Received: none of ${candidates.length} call path${candidates.length === 1 ? '' : 's'} matches.\n\n` +
        `${diff ?? ''}\n\n` +
        `Captured call paths:\n${this.utils.RECEIVED_COLOR(indentList(candidates.map(formatMergedCallPath)))}` +
        // other warnings (no debug info) explain unknown `??` frames
        (isRun(received) ? warningsText(received, hook ? [hook] : null, candidates.some((c) => c.path.includes('??'))) : '')
      );
    },
  };
}

function toHaveHit(this: MatcherContext, received: unknown, hook: string, options?: { times?: number }): Result {
  const name = 'toHaveHit';
  if (!isRun(received)) return notARun(this, name, received, false);
  checkName(name, 'the hook', hook, 'parse_*');
  const times = checkOptions<{ times?: number }>(name, options, { times: aCount }).times;
  const glob = new CallPathPattern(hook).tokens[0];
  const normalize = runContext(received).normalize;
  // true counts from the distinct stacks (also past maxHits)
  let count = 0;
  for (const stack of received.capture.stacks) {
    const frames = stack.hook === hook ? [] : normalizeFrames(stack.frames.slice(0, 1), { ...normalize, startAtMain: false, libraryFrames: 'all' });
    if (stack.hook === hook || (frames.length > 0 && CallPathPattern.tokenAccepts(glob, frames[0]))) count += stack.count;
  }
  const pass = times === undefined ? count > 0 : count === times;
  const expectation = times === undefined ? 'at least once' : `${times} time${times === 1 ? '' : 's'}`;
  const dropped = received.capture.stats.foldedHits
    ? `\n(${received.capture.stats.foldedHits} hits had stacks past the distinct-stack limit; they are counted under their hooked function.)`
    : '';
  return {
    pass,
    message: () =>
      `${hint(this, name, 'run', 'hook', times === undefined ? undefined : 'options')}\n\n` +
      `Expected: ${this.utils.printExpected(hook)} ${this.isNot ? 'not ' : ''}hit ${expectation}\n` +
      `Received: ${this.utils.printReceived(count)} hit${count === 1 ? '' : 's'}\n\n` +
      `Hooks: ${hookSummary(received)}${dropped}` +
      (count > 0 && !pass ? `\n\nCall paths:\n${indentList(runCallPaths(received).map(formatMergedCallPath))}` : '') +
      (pass ? '' : warningsText(received, received.capture.hooks.some((h) => h.spec === hook) ? [hook] : null, false)) +
      crashText(this, received),
  };
}

function signalName(s: string): string {
  const upper = s.trim().toUpperCase();
  return upper.startsWith('SIG') ? upper : `SIG${upper}`;
}

function toExitWith(this: MatcherContext, received: unknown, expected: number | string): Result {
  const name = 'toExitWith';
  if (!isRun(received)) return notARun(this, name, received, false);
  let pass: boolean;
  let want: string;
  if (typeof expected === 'number') {
    if (!Number.isInteger(expected) || expected < 0 || expected > 255) {
      throw new InvalidMatcherArgumentError(name, `an exit code is an integer 0-255, got ${describeValue(expected)}`);
    }
    pass = received.exit.signal === null && received.exit.code === expected && !received.timedOut;
    want = `exit code ${expected}`;
  } else if (typeof expected === 'string') {
    pass = received.exit.signal !== null && signalName(received.exit.signal) === signalName(expected);
    want = `killed by ${signalName(expected)}`;
  } else {
    throw new InvalidMatcherArgumentError(name, `expects an exit code (an integer 0-255) or a signal name such as "SIGSEGV", got ${describeValue(expected)}`);
  }
  return {
    pass,
    message: () =>
      `${hint(this, name, 'run', 'expected')}\n\n` +
      `Expected: ${this.isNot ? 'not ' : ''}${this.utils.EXPECTED_COLOR(want)}\n` +
      `Received: ${this.utils.RECEIVED_COLOR(exitText(received))}` +
      crashText(this, received) +
      stderrTail(received),
  };
}

function toHaveCrashedIn(this: MatcherContext, received: unknown, fn: string): Result {
  const name = 'toHaveCrashedIn';
  if (!isRun(received)) return notARun(this, name, received, false);
  checkName(name, 'the function', fn, 'calc::node_alloc');
  const token = new CallPathPattern(fn).tokens[0];
  const crash = received.crash;
  const names = crash ? normalizeFrames(crash.frames, { ...runContext(received).normalize, startAtMain: false, libraryFrames: 'all' }) : [];
  const pass = names.some((n) => CallPathPattern.tokenAccepts(token, n));
  return {
    pass,
    message: () =>
      `${hint(this, name, 'run', 'function')}\n\n` +
      `Expected: ${this.isNot ? 'no crash in' : 'a crash in'} ${this.utils.printExpected(fn)}\n` +
      (crash
        ? `Received: ${this.utils.RECEIVED_COLOR(`${crash.signal}${pass ? ` in ${fn}` : `, not in ${fn}`}`)}` +
          crashText(this, received) +
          (pass ? '' : warningsText(received, [], names.some((n) => n.name === '??')))
        : `Received: ${this.utils.RECEIVED_COLOR(`no crash (${exitText(received)})`)}` + stderrTail(received)),
  };
}

export const matchers = { toHaveCallPath, toHaveHit, toExitWith, toHaveCrashedIn, toHaveCalled };
