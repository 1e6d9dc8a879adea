/**
 * Runs one job's computation in a worker thread (thread.ts), with a time limit and a way to stop it.
 *
 * Starting a thread costs about a second (tsx and the job modules load again in it), which is most
 * of an evaluate job's time for a small chunk, so a thread that finished an evaluate job is kept for
 * the next one. Generate threads are not kept: their onnxruntime sessions hold model-sized native
 * memory until the thread ends, and a second of start-up is small beside a sampling loop. A thread
 * that timed out, was aborted or failed is ended, never reused.
 *
 * Stopping a job (abort, time limit) asks the thread to stop: it does at its next check (between
 * denoising steps, between images, before any onnxruntime call), cleaning up as it unwinds. One
 * that has not answered within STOP_GRACE_MS (a long stretch of plain JavaScript, such as building
 * a guided U-Net) is terminated, but only once no onnxruntime call is in flight (onnx-gate.ts):
 * terminating a thread inside one aborts the whole process. The job's promise settles once the
 * thread has stopped, so a stopped job never overlaps the next one in its slot.
 */
import { Worker } from 'node:worker_threads';
import { PermanentJobError } from './errors.ts';
import { closeOnnxGate, createOnnxGate } from './onnx-gate.ts';
import type { ParentMessage, ThreadData, ThreadInput, ThreadMessage } from './thread.ts';

const THREAD_ENTRY = new URL('./thread-entry.mjs', import.meta.url);

/** How long a stopped job's thread has to wind down by itself before it is terminated. */
const STOP_GRACE_MS = 10_000;

/** Past its limit a job fails for good: running the same chunk again would only take as long. */
export class JobTimeoutError extends PermanentJobError {}

export interface RunInThreadOptions {
  timeoutMs: number;
  /** aborting stops the job (see above); the promise rejects with the signal's reason */
  signal: AbortSignal;
  onProgress: (done: number, total: number) => void;
}

type Result = Extract<ThreadMessage, { kind: 'result' }>['message'];

interface ComputeThread {
  worker: Worker;
  gate: Int32Array;
  exited: boolean;
}

/** Idle evaluate threads, waiting for the next job; unref'd, so they never keep the process alive. */
const idleEvaluateThreads: ComputeThread[] = [];

function takeThread(stage: ThreadInput['stage']): ComputeThread {
  const idle = stage === 'evaluate' ? idleEvaluateThreads.pop() : undefined;
  if (idle) {
    idle.worker.ref();
    return idle;
  }
  const gate = createOnnxGate();
  const thread: ComputeThread = { worker: new Worker(THREAD_ENTRY, { workerData: { gate } satisfies ThreadData }), gate, exited: false };
  // An idle thread that dies (it should not) just leaves the pool.
  thread.worker.once('exit', () => {
    thread.exited = true;
    const at = idleEvaluateThreads.indexOf(thread);
    if (at >= 0) idleEvaluateThreads.splice(at, 1);
  });
  return thread;
}

function keepThread(thread: ComputeThread): void {
  thread.worker.removeAllListeners('message');
  thread.worker.removeAllListeners('error');
  thread.worker.unref();
  idleEvaluateThreads.push(thread);
}

/** Terminates a thread once no onnxruntime call of it is in flight (onnx-gate.ts says why). */
async function endThread(thread: ComputeThread): Promise<void> {
  await closeOnnxGate(thread.gate, () => thread.exited);
  await thread.worker.terminate();
}

export function idleThreadCount(): number {
  return idleEvaluateThreads.length;
}

/** Ends the idle threads (a worker shutting down; tests). */
export async function closeIdleThreads(): Promise<void> {
  await Promise.all(idleEvaluateThreads.splice(0).map(endThread));
}

export function runInThread(input: ThreadInput, options: RunInThreadOptions): Promise<Result> {
  return new Promise<Result>((resolve, reject) => {
    if (options.signal.aborted) return reject(options.signal.reason);
    const thread = takeThread(input.stage);
    const { worker } = thread;
    let settled = false;
    let stopReason: unknown;
    let graceTimer: NodeJS.Timeout | undefined;
    const finish = (outcome: () => void, reusable: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      options.signal.removeEventListener('abort', onAbort);
      worker.removeListener('exit', onExit);
      if (reusable && input.stage === 'evaluate') {
        keepThread(thread);
        outcome();
      } else {
        worker.removeAllListeners('message');
        void endThread(thread).finally(outcome);
      }
    };
    const stopped = () => finish(() => reject(stopReason), false);
    const stop = (reason: unknown) => {
      if (settled || graceTimer) return;
      stopReason = reason;
      worker.postMessage({ kind: 'abort' } satisfies ParentMessage);
      graceTimer = setTimeout(stopped, STOP_GRACE_MS);
    };
    const onAbort = () => stop(options.signal.reason);
    const onExit = (code: number) =>
      finish(() => reject(graceTimer ? stopReason : new Error(`the compute thread exited (code ${code}) without a result`)), false);
    const timer = setTimeout(() => stop(new JobTimeoutError(`ran past its limit of ${options.timeoutMs / 1000} s`)), options.timeoutMs);
    options.signal.addEventListener('abort', onAbort);
    worker.on('message', (message: ThreadMessage) => {
      if (message.kind === 'progress') {
        if (!graceTimer) options.onProgress(message.done, message.total);
      } else if (graceTimer)
        stopped(); // whatever it answers once asked to stop, the stop's reason stands
      else if (message.kind === 'result') finish(() => resolve(message.message), true);
      else finish(() => reject(message.permanent ? new PermanentJobError(message.reason) : new Error(message.reason)), false);
    });
    worker.on('error', (err) => finish(() => reject(graceTimer ? stopReason : err), false));
    worker.on('exit', onExit);
    worker.postMessage({ kind: 'job', input } satisfies ParentMessage);
  });
}
