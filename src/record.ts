/** The backend-neutral entry point: trace one program run and return its Capture. */
import { recordWithPtrace } from './ptrace/ptrace-backend';
import type { RecordOptions, RecordResult } from './record-options';

export type { RecordOptions, RecordResult, BackendName } from './record-options';

export async function record(argv: string[], options: RecordOptions): Promise<RecordResult> {
  const backend = options.backend ?? 'ptrace';
  if (backend === 'stap' || backend === 'auto') {
    // loaded lazily: the stap backend pulls in execa (ESM) only when used
    const { recordWithBackendChoice } = await import('./backend-choice');
    return recordWithBackendChoice(argv, options, recordWithPtrace);
  }
  return recordWithPtrace(argv, options);
}
