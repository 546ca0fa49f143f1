/** Worker-thread entry: the tracer blocks in waitpid, so it lives off the main thread. */
import { parentPort } from 'node:worker_threads';
import { UstackError } from '../errors';
import { runTrace } from './run-trace';
import type { TraceRequest, WorkerMessage } from './trace-request';

const port = parentPort!;

port.on('message', (req: TraceRequest) => {
  let message: WorkerMessage;
  try {
    const capture = runTrace(req, (pid) => port.postMessage({ type: 'pid', id: req.id, pid } satisfies WorkerMessage));
    message = { type: 'done', id: req.id, capture };
  } catch (e) {
    const err = e as Error & Partial<UstackError> & { suggestions?: string[] };
    message = {
      type: 'error',
      id: req.id,
      error: { name: err.name, code: err.code, message: err.message, exitCode: err.exitCode, stack: err.stack, suggestions: err.suggestions },
    };
  }
  port.postMessage(message);
});
