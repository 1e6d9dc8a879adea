/**
 * Runs one job's computation in a worker thread (thread.ts), with a time limit and a way to stop it.
 *
 * Starting a thread costs about a second (tsx and the job modules load again in it), which is most
 * of an evaluate job's time for a small chunk, so a thread that finished an evaluate job is kept for
 * the next one. Generate threads are not kept: their onnxruntime sessions hold model-sized native
 * memory until the thread ends, and a second of start-up is small beside a sampling loop. A thread
 * that timed out, was aborted or failed is terminated, never reused.
 */
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

/** Idle evaluate threads, waiting for the next job; unref'd, so they never keep the process alive. */
const idleEvaluateThreads: Worker[] = [];

function takeThread(stage: ThreadInput['stage']): Worker {
  const idle = stage === 'evaluate' ? idleEvaluateThreads.pop() : undefined;
  if (idle) {
    idle.ref();
    return idle;
  }
  const thread = new Worker(THREAD_ENTRY);
  // An idle thread that dies (it should not) just leaves the pool.
  thread.once('exit', () => {
    const at = idleEvaluateThreads.indexOf(thread);
    if (at >= 0) idleEvaluateThreads.splice(at, 1);
  });
  return thread;
}

function keepThread(thread: Worker): void {
  thread.removeAllListeners('message');
  thread.removeAllListeners('error');
  thread.unref();
  idleEvaluateThreads.push(thread);
}

export function idleThreadCount(): number {
  return idleEvaluateThreads.length;
}

/** Ends the idle threads (a worker shutting down; tests). */
export async function closeIdleThreads(): Promise<void> {
  await Promise.all(idleEvaluateThreads.splice(0).map((thread) => thread.terminate()));
}

export function runInThread(input: ThreadInput, options: RunInThreadOptions): Promise<Result> {
  return new Promise<Result>((resolve, reject) => {
    if (options.signal.aborted) return reject(options.signal.reason);
    const thread = takeThread(input.stage);
    let settled = false;
    const finish = (outcome: () => void, reusable: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      thread.removeListener('exit', onExit);
      if (reusable && input.stage === 'evaluate') {
        keepThread(thread);
        outcome();
      } else {
        thread.removeAllListeners('message');
        void thread.terminate().finally(outcome);
      }
    };
    const onAbort = () => finish(() => reject(options.signal.reason), false);
    const onExit = (code: number) => finish(() => reject(new Error(`the compute thread exited (code ${code}) without a result`)), false);
    const timer = setTimeout(() => finish(() => reject(new JobTimeoutError(`ran past its limit of ${options.timeoutMs / 1000} s`)), false), options.timeoutMs);
    options.signal.addEventListener('abort', onAbort);
    thread.on('message', (message: ThreadMessage) => {
      if (message.kind === 'progress') options.onProgress(message.done, message.total);
      else if (message.kind === 'result') finish(() => resolve(message.message), true);
      else finish(() => reject(message.permanent ? new PermanentJobError(message.reason) : new Error(message.reason)), false);
    });
    thread.on('error', (err) => finish(() => reject(err), false));
    thread.on('exit', onExit);
    thread.postMessage(input);
  });
}
