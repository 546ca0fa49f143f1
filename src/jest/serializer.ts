/**
 * jest-ustack/serializer: prints runs, call-path lists and stack lists without addresses, pids or
 * absolute paths, so snapshots stay the same across rebuilds, ASLR and machines.
 */
import type { NewPlugin } from 'pretty-format';
import { formatMergedCallPath } from '../callpath/merge';
import { displayPath } from '../callpath/stack-format';
import { crashStack, isCallPathList, isRun, isStackList, runCallPaths, runContext, type Run } from './run';

/** The stable view of a run that its snapshot shows. */
export function runSnapshotView(run: Run): Record<string, unknown> {
  const { rootDir } = runContext(run);
  const hits: Record<string, number> = {};
  for (const h of run.capture.hooks) hits[h.spec] = 0;
  for (const stack of run.capture.stacks) hits[stack.hook] = (hits[stack.hook] ?? 0) + stack.count;
  return {
    command: run.command.map((arg) => (arg.startsWith('/') ? displayPath(arg, rootDir) : arg)),
    exit: run.timedOut ? 'timed out' : run.exit.signal ?? run.exit.code,
    hits,
    callPaths: runCallPaths(run).map(formatMergedCallPath),
    crash: run.crash ? { signal: run.crash.signal, stack: crashStack(run) } : null,
  };
}

const serializer: NewPlugin = {
  test(val: unknown): boolean {
    return isRun(val) || isCallPathList(val) || isStackList(val);
  },
  serialize(val, config, indentation, depth, refs, printer): string {
    if (isRun(val)) return `UstackRun ${printer(runSnapshotView(val), config, indentation, depth, refs)}`;
    if (isStackList(val)) return printer(val.map((s) => ({ hook: s.hook, count: s.count, frames: [...s.frames] })), config, indentation, depth, refs);
    return printer([...(val as string[])], config, indentation, depth, refs);
  },
};

export default serializer;
export const { test, serialize } = serializer;
