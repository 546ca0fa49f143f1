/**
 * jest-ustack: capture native call stacks (C, C++, Rust) in Jest tests.
 *
 * ```ts
 * import { trace } from 'jest-ustack';
 * const run = await trace(['./build/app', 'arg'], { hooks: ['arena_alloc'] });
 * expect(run).toHaveCallPath('main > ** > arena_alloc');
 * expect(run.callPaths('arena_alloc')).toMatchSnapshot();
 * ```
 * This entry runs inside Jest's test sandbox: it holds no tracer (that lives in the environment).
 */
export { trace, type TraceOptions } from './jest/trace-client';
export { isRun, type Run, type RunStack } from './jest/run';
export type { Call, CallValue } from './jest/calls';
export type { CalledExpectation } from './jest/call-matchers';
export type { UstackMatchers } from './jest/matchers-types';
export type { UstackEnvironmentOptions } from './jest/options';
export { CallPathPattern } from './callpath/pattern';
export { callPathOf, DEFAULT_NORMALIZE, type NormalizeOptions } from './callpath/normalize';
export type { Capture, Frame, Hit, Stack, HitTable, CrashInfo, ExitStatus, HookResolution, CaptureStats, ArgValue, CStringValue, TextValue, PrintedValue, ReturnInfo, NoReturnReason } from './capture/types';
export { expandHits, hitCount, stacksOf } from './capture/model';
export type { BackendName } from './record-options';
export { UstackError, TraceTimeoutError, InvalidTraceOptionsError, NoTraceEnvironmentError, InvalidCallPathPatternError } from './errors';
