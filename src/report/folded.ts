/**
 * stacks.folded: Brendan Gregg's folded format, one line per unique stack, caller first,
 * `frame;frame;frame count`. The first frames are the test file, the test and the hook, so
 * flamegraph.pl, inferno and speedscope draw one subtree per test and hook.
 */
import type { UstackReport } from './model';
import { hitPath } from './stacks';

/** Folded frames cannot hold ';' (separator) or a newline; a trailing " N" would read as a count. */
export function foldedFrame(name: string): string {
  return name.replace(/[;\r\n]+/g, ',').replace(/\s+(\d+)$/, '_$1') || '??';
}

export function testLabel(title: string[], fullName: string): string {
  return title.length ? title.join(' › ') : fullName;
}

export function renderFolded(report: UstackReport): string {
  const counts = new Map<string, number>();
  const add = (frames: string[], n = 1) => {
    const key = frames.map(foldedFrame).join(';');
    counts.set(key, (counts.get(key) ?? 0) + n);
  };
  for (const file of report.files) {
    for (const test of file.tests) {
      const root = [file.path, testLabel(test.title, test.fullName)];
      for (const capture of test.captures) {
        for (const stack of capture.stacks) add([...root, `[hook ${stack.hook}]`, ...hitPath(stack).map((f) => f.name)], stack.count);
        if (capture.crash) add([...root, `[crash ${capture.crash.signal}]`, ...hitPath(capture.crash).map((f) => f.name)]);
      }
    }
  }
  let out = '';
  for (const [stack, n] of counts) out += `${stack} ${n}\n`;
  return out;
}
