/**
 * An inlined call whose DW_TAG_inlined_subroutine has no call line (DW_AT_call_line 0, as in the
 * Rust standard library's core::fmt::write around Argument::fmt): the calling frame has no known
 * source location, and gdb shows it without file and line ("Do not pretend to", find_frame_sal).
 * Seen first in the real-program lane (rustc-demangle), where the frame had a file and no line.
 */
import { expandHits } from '../../src/capture/model';
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { buildFixture } from '../helpers/fixtures';
import { gdbPythonStacks } from '../helpers/gdb';

afterAll(() => shutdownTracer());

test('core::fmt::write, the caller of an inlined call without a call line: no file, no line, as gdb shows it', async () => {
  const bin = buildFixture('fmt_callsite.rs', { flags: ['-O', '-g'], variant: 'O' });
  const gdb = gdbPythonStacks([bin], ['degrees_hit'], { maxStops: 3 });
  expect(gdb).toHaveLength(3);
  const gdbWrite = gdb.map((s) => s.find((f) => f.func === 'core::fmt::write'));
  expect(gdbWrite).toEqual(Array(3).fill({ func: 'core::fmt::write', inlined: false, file: null, line: null }));

  const { capture } = await recordWithPtrace([bin], { hooks: ['degrees_hit'] });
  const hits = expandHits(capture);
  expect(hits).toHaveLength(3);
  for (const h of hits) {
    const k = h.frames.findIndex((f) => f.symbol === 'core::fmt::write');
    expect(k).toBeGreaterThan(0);
    // the frame inlined into it is there, with its own line (rt.rs), as gdb shows it
    expect(h.frames[k - 1]).toMatchObject({ inlined: true, line: 152 });
    expect(h.frames[k]).toMatchObject({ inlined: false, file: null, line: null });
  }
});
