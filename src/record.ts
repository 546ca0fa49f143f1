/** The backend-neutral entry point: trace one program run and return its Capture. */
import { recordWithPtrace } from './ptrace/ptrace-backend';
import type { RecordOptions, RecordResult } from './record-options';
import { UsageError } from './errors';

export type { RecordOptions, RecordResult, BackendName } from './record-options';

export async function record(argv: string[], options: RecordOptions): Promise<RecordResult> {
  const backend = options.backend ?? 'ptrace';
  if (options.args || options.returns) {
    // parameters and returns are read by the ptrace tracer only
    if (backend === 'stap') throw new UsageError('Parameters and return values (--args, --returns) are recorded by the ptrace backend only: drop --backend stap, or the flags.');
    return recordWithPtrace(argv, options);
  }
  if (backend === 'stap' || backend === 'auto') {
    // loaded lazily: the stap backend pulls in execa (ESM) only when used
    const { recordWithBackendChoice } = await import('./backend-choice');
    return recordWithBackendChoice(argv, options, recordWithPtrace);
  }
  return recordWithPtrace(argv, options);
}
