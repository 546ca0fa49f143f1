/** Backend selection for 'stap' and 'auto': stap only where `ustack doctor` says it can run. */
import { BackendUnavailableError } from './errors';
import type { RecordOptions, RecordResult } from './record-options';

type Recorder = (argv: string[], options: RecordOptions) => Promise<RecordResult>;

export async function recordWithBackendChoice(argv: string[], options: RecordOptions, ptrace: Recorder): Promise<RecordResult> {
  const stap = await import('./stap/stap-backend');
  const diagnosis = await stap.diagnoseStap(argv[0]);
  if (options.backend === 'auto') {
    return diagnosis.canRun ? stap.recordWithStap(argv, options) : ptrace(argv, options);
  }
  if (!diagnosis.canRun) throw new BackendUnavailableError('stap', diagnosis.reasons.join('; '));
  return stap.recordWithStap(argv, options);
}
