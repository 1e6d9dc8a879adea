/**
 * Job computations, in a worker thread (run-in-thread.ts starts it): the main thread keeps only
 * BullMQ's bookkeeping, so a long detector or sampling loop can never delay its lock renewal. A
 * thread takes jobs one at a time as messages; each stage's code is loaded on its first job, so an
 * evaluate thread never loads the generation pipeline. An `abort` message stops the running job
 * at its next check (between denoising steps, between images) or onnxruntime call (onnx-gate.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createArtifactStore, type ArtifactStoreConfig } from '../artifacts/config.ts';
import type { EvaluateChunkJob, GenerateChunkJob, ImagesEvaluated, ImagesGenerated } from '../contracts/jobs.ts';
import { PermanentJobError } from './errors.ts';
import { installOnnxGate } from './onnx-gate.ts';

/** What a thread is started with. */
export interface ThreadData {
  /** onnx-gate.ts: the parent ends the thread only once this is closed */
  gate: Int32Array;
}

/** What the thread is given per job: a payload the main thread has already parsed. */
export type ThreadInput = { store: ArtifactStoreConfig; registryFile?: string; detectorRegistryFile?: string } & (
  { stage: 'generate'; job: GenerateChunkJob } | { stage: 'evaluate'; job: EvaluateChunkJob }
);

export type ThreadMessage =
  | { kind: 'progress'; done: number; total: number }
  | { kind: 'result'; message: Omit<ImagesGenerated, 'worker'> | Omit<ImagesEvaluated, 'worker'> }
  | { kind: 'failed'; reason: string; permanent: boolean };

/** What the parent sends: a job, or the order to stop the running one. */
export type ParentMessage = { kind: 'job'; input: ThreadInput } | { kind: 'abort' };

const post = (message: ThreadMessage) => parentPort!.postMessage(message);
const progress = (done: number, total: number) => post({ kind: 'progress', done, total });

/** The running job's; undefined between jobs. */
let running: AbortController | undefined;

async function compute(input: ThreadInput, signal: AbortSignal): Promise<ThreadMessage> {
  try {
    const store = createArtifactStore(input.store);
    if (input.stage === 'evaluate') {
      const { evaluateChunk } = await import('./evaluate-chunk.ts');
      return {
        kind: 'result',
        message: await evaluateChunk(input.job, store, { detectorRegistryFile: input.detectorRegistryFile, onProgress: progress, signal }),
      };
    }
    const { generateChunk } = await import('./generate-chunk.ts');
    return { kind: 'result', message: await generateChunk(input.job, store, { registryFile: input.registryFile, onProgress: progress, signal }) };
  } catch (err) {
    return { kind: 'failed', reason: err instanceof Error ? err.message : String(err), permanent: err instanceof PermanentJobError };
  }
}

installOnnxGate((workerData as ThreadData).gate, () => running?.signal);

parentPort!.on('message', (message: ParentMessage) => {
  if (message.kind === 'abort') {
    running?.abort(new Error('the job was stopped'));
    return;
  }
  const controller = new AbortController();
  running = controller;
  void compute(message.input, controller.signal).then((answer) => {
    running = undefined;
    post(answer);
  });
});
