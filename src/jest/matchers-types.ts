/**
 * Types of the jest-ustack matchers for both `@jest/globals` (module 'expect') and `@types/jest`
 * (global namespace jest), and of the global `trace` the environment installs.
 * Loaded by `import ... from 'jest-ustack'`; a project that only uses globals can add
 * `"types": ["jest-ustack"]` to its tsconfig (or `import 'jest-ustack'` once).
 */
import type { trace as traceFunction } from './trace-client';
import type { CalledExpectation } from './call-matchers';

export interface UstackMatchers<R = unknown> {
  /**
   * Some captured call path matches `pattern`: names separated by ` > `, `*` = exactly one frame,
   * `**` = any number of frames, globs inside names (`parse_*`), anchored at both ends. A `>` inside
   * `<...>`/`(...)` or an operator name (`operator>`, `operator->`) does not separate steps. A step
   * with template arguments (`calc::make_node<*>`) is checked against the frame's name with its
   * arguments; one without (`calc::make_node`) matches every instantiation.
   * Received: a run from trace() or a list from `run.callPaths()`. On failure the message shows a
   * diff against the closest captured path and the capture's warnings.
   * @example expect(run).toHaveCallPath('main > cfg_parse > ** > arena_alloc')
   * @example expect(run).toHaveCallPath('main > calc::evaluate > ** > calc::make_node<*> > calc::node_alloc')
   */
  toHaveCallPath(pattern: string, options?: { hook?: string }): R;
  /**
   * The hook was hit (at least once, or exactly `times` times). `hook` is a spec passed to trace(),
   * or a function name / glob matched against the hooked function of each hit.
   */
  toHaveHit(hook: string, options?: { times?: number }): R;
  /** The program exited with this code, or was killed by this signal ("SIGSEGV" or "SEGV"). */
  toExitWith(expected: number | string): R;
  /** The program crashed and the crash stack contains `fn` (a name or glob). */
  toHaveCrashedIn(fn: string): R;
  /**
   * Some recorded call of `hook` had these arguments (`with`: a subset, values or asymmetric
   * matchers), returned `returned`, on a call path matching `path`; `times`: exactly that many such
   * calls. Needs trace() with `args: true` (and `returns: true` for `returned`). A failure lists
   * the closest calls and what differs.
   * @example expect(run).toHaveCalled('xalloc', { with: { n: 32 }, returned: expect.not.stringMatching(/^0x0$/), path: 'main > ** > xalloc' })
   */
  toHaveCalled(hook: string, expected?: CalledExpectation): R;
}

declare module 'expect' {
  // eslint-disable-next-line @typescript-eslint/no-empty-interface
  interface Matchers<R extends void | Promise<void>, T = unknown> extends UstackMatchers<R> {}
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // eslint-disable-next-line @typescript-eslint/no-empty-interface
    interface Matchers<R, T = {}> extends UstackMatchers<R> {}
  }
  /** Set by the jest-ustack environment: the same function as `import { trace } from 'jest-ustack'`. */
  // eslint-disable-next-line no-var
  var trace: typeof traceFunction;
}
