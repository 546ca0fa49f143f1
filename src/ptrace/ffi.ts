/**
 * ffi-rs, loaded once for the tracer. ffi-rs tells glibc from musl with
 * process.report.getReport(), which builds a whole diagnostic report (about 10 ms, a tenth of
 * `ustack record`'s start-up); where the glibc dynamic loader is present the answer is known,
 * so the report is skipped while ffi-rs loads.
 */
import * as fs from 'node:fs';

type Ffi = typeof import('ffi-rs');

function load(): Ffi {
  const report = process.report as { getReport?: unknown } | undefined;
  const glibc = !!report && typeof report.getReport === 'function' && fs.existsSync('/lib64/ld-linux-x86-64.so.2') && !fs.existsSync('/lib/ld-musl-x86_64.so.1');
  if (!glibc) return require('ffi-rs') as Ffi;
  const original = report!.getReport;
  report!.getReport = () => ({ header: { glibcVersionRuntime: 'present' } });
  try {
    return require('ffi-rs') as Ffi;
  } finally {
    report!.getReport = original;
  }
}

export const ffi: Ffi = load();
