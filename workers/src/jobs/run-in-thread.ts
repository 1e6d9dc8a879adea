/** Runs one job's computation in a fresh worker thread (thread.ts), with a time limit and a way to stop it. */
import { Worker } from 'node:worker_threads';
import { PermanentJobError } from './errors.ts';
import type { ThreadInput, ThreadMessage } from './thread.ts';

const THREAD_ENTRY = new URL('./thread-entry.mjs', import.meta.url);

/** Past its limit a job fails for good: running the same chunk again would only take as long. */
export class JobTimeoutError extends PermanentJobError {}

export interface RunInThreadOptions {
  timeoutMs: number;
  /** aborting terminates the thread; the promise rejects with the signal's reason */
  signal: AbortSignal;
  onProgress: (done: number, total: number) => void;
}

type Result = Extract<ThreadMessage, { kind: 'result' }>['message'];

export function runInThread(input: ThreadInput, options: RunInThreadOptions): Promise<Result> {
  return new Promise<Result>((resolve, reject) => {
    const thread = new Worker(THREAD_ENTRY, { workerData: input });
    let settled = false;
    // Every way out ends the thread: a finished job's native sessions must not keep it alive.
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      void thread.terminate().finally(outcome);
    };
    const onAbort = () => finish(() => reject(options.signal.reason));
    const timer = setTimeout(() => finish(() => reject(new JobTimeoutError(`ran past its limit of ${options.timeoutMs / 1000} s`))), options.timeoutMs);
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort);

    thread.on('message', (message: ThreadMessage) => {
      if (message.kind === 'progress') options.onProgress(message.done, message.total);
      else if (message.kind === 'result') finish(() => resolve(message.message));
      else finish(() => reject(message.permanent ? new PermanentJobError(message.reason) : new Error(message.reason)));
    });
    thread.on('error', (err) => finish(() => reject(err)));
    thread.on('exit', (code) => finish(() => reject(new Error(`the compute thread exited (code ${code}) without a result`))));
  });
}
