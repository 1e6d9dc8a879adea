/**
 * Ending a compute thread without taking the process down. `Worker.terminate()` stops a thread's
 * JavaScript wherever it is; when that is inside onnxruntime-node (whose InferenceSession.run
 * executes the whole graph synchronously on the calling thread), the binding's next N-API call
 * fails, node-addon-api throws a C++ `Napi::Error` nobody catches, and the whole worker process
 * aborts (`terminate called after throwing an instance of 'Napi::Error'`).
 *
 * So a compute thread's onnxruntime calls pass a gate: a counter, in memory shared with the parent,
 * of calls in flight. The parent closes it (-1) only while it is 0 and terminates the thread only
 * once it is closed; a call that finds it closed throws instead of starting. A call also refuses to
 * start once the thread's job is aborted, which is how an aborted job stops at its next model call
 * (unwinding normally, so its `finally` blocks clean up) even where its code has no abort checks.
 */
import * as ort from 'onnxruntime-node';

const CLOSED = -1;

/** A fresh, open gate: one Int32 in shared memory. */
export function createOnnxGate(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
}

/** onnxruntime calls in flight behind the gate (-1 once closed). */
export function callsInFlight(gate: Int32Array): number {
  return Atomics.load(gate, 0);
}

/**
 * The parent's side: resolves once the gate is closed, which waits for the calls in flight to
 * return, or once `gone()` says the thread has exited by itself (mid-call, its count stays up).
 */
export async function closeOnnxGate(gate: Int32Array, gone: () => boolean, pollMs = 5): Promise<void> {
  while (!gone() && Atomics.compareExchange(gate, 0, 0, CLOSED) > 0) await new Promise((resolve) => setTimeout(resolve, pollMs));
}

export class ThreadClosingError extends Error {}

function enter(gate: Int32Array, signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
  for (;;) {
    const calls = Atomics.load(gate, 0);
    if (calls === CLOSED) throw new ThreadClosingError('the compute thread is being ended');
    if (Atomics.compareExchange(gate, 0, calls, calls + 1) === calls) return;
  }
}

function leave(gate: Int32Array): void {
  Atomics.sub(gate, 0, 1);
}

interface SessionClass {
  prototype: { run: (...args: unknown[]) => Promise<unknown>; release: () => Promise<void> };
  create: (...args: unknown[]) => Promise<unknown>;
}

/**
 * The thread's side: routes every InferenceSession.create, run and release of this thread through
 * the gate (the one place all of them pass, whichever module opened the session). `signal()` gives
 * the running job's abort signal. Called once, when the thread starts.
 */
export function installOnnxGate(gate: Int32Array, signal: () => AbortSignal | undefined): void {
  const sessions = ort.InferenceSession as unknown as SessionClass;
  // release() is clean-up: an aborted job must still be able to free its sessions
  const gated = <A extends unknown[], R>(call: (this: unknown, ...args: A) => Promise<R>, checkAbort = true) =>
    async function (this: unknown, ...args: A): Promise<R> {
      enter(gate, checkAbort ? signal() : undefined);
      try {
        return await call.apply(this, args);
      } finally {
        leave(gate);
      }
    };
  sessions.prototype.run = gated(sessions.prototype.run);
  sessions.prototype.release = gated(sessions.prototype.release, false);
  const create = sessions.create;
  sessions.create = gated((...args: unknown[]) => create.apply(sessions, args));
}
