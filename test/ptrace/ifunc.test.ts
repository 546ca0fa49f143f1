/**
 * IFUNC hooks: `memcpy` in glibc is an IFUNC, a resolver the dynamic linker calls to pick the
 * implementation for this CPU. A hook on it plants on what the resolver returned during the run.
 *
 * gdb 13 is demonstrably wrong here, so the test asserts the machine's truth instead: gdb's
 * `break memcpy` plants on the compat symbol memcpy@GLIBC_2.2.5 and on ld.so's private memcpy,
 * reports a stop inside the resolver as a hit, and never stops in the implementation the
 * program's own calls go to (its copy_block calls are not hit at all). The truth is read from the
 * process itself: after the first call, the executable's memcpy GOT slot holds the implementation.
 */
import { expandHits } from '../../src/capture/model';
import { recordWithPtrace, shutdownTracer } from '../../src/ptrace/ptrace-backend';
import { buildFixture } from '../helpers/fixtures';
import { runGdbScript } from '../helpers/gdb';

afterAll(() => shutdownTracer());
jest.setTimeout(120000);

const bin = buildFixture('ifunc_memcpy.c', { flags: ['-O1', '-g'] });

/** The function memcpy@got.plt points to once the program has called memcpy (lazy binding done). */
function boundImplementation(): string {
  const out = runGdbScript([bin, '2'], ['set pagination off', 'break copy_block', 'run', 'finish', "info symbol *(void**)&'memcpy@got.plt'"]);
  const m = /^(\S+) in section \.text of \S*libc\.so\.6$/m.exec(out);
  if (!m) throw new Error(`gdb did not show the bound memcpy:\n${out}`);
  return m[1];
}

test('memcpy hooks the implementation the resolver chose on this CPU, and every call of the program hits it', async () => {
  const truth = boundImplementation();
  const { capture } = await recordWithPtrace([bin, '3'], { hooks: ['memcpy'] });
  const ifunc = capture.hooks[0].resolved.filter((r) => r.kind === 'ifunc');
  expect(ifunc.length).toBeGreaterThan(0);
  expect(ifunc.every((r) => r.ifunc === 'memcpy' && /libc\.so\.6$/.test(r.module))).toBe(true);
  // the implementation the GOT slot points to is among the hooked ones (aliases share an address)
  const { capture: again } = await recordWithPtrace([bin, '1'], { hooks: [truth] });
  expect(ifunc.map((r) => r.address)).toContain(again.hooks[0].resolved[0].address);
  // the program's three copy_block calls, each stopped in that implementation
  const fromProgram = expandHits(capture).filter((h) => h.frames[1]?.symbol === 'copy_block');
  expect(fromProgram).toHaveLength(3);
  for (const h of fromProgram) {
    expect(h.frames[2].symbol).toBe('main');
    expect(h.frames[0].offset).toBe(again.hooks[0].resolved[0].address);
  }
  expect(capture.warnings ?? []).not.toContainEqual(expect.stringMatching(/IFUNC/));
});

test('the resolver itself is not a hit (gdb reports one there)', async () => {
  const { capture } = await recordWithPtrace([bin, '2'], { hooks: ['memcpy'] });
  for (const h of expandHits(capture)) expect(h.frames[0].symbol).not.toMatch(/ifunc|selector/);
  expect(expandHits(capture).filter((h) => h.frames[1]?.symbol === 'copy_block')).toHaveLength(2);
});
