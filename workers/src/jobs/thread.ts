/**
 * One job's computation, in a worker thread of its own (run-in-thread.ts starts it): the main
 * thread keeps only BullMQ's bookkeeping, so a long detector or sampling loop can never delay its
 * lock renewal, and a job past its limit is stopped by terminating the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createArtifactStore, type ArtifactStoreConfig } from '../artifacts/config.ts';
import type { EvaluateChunkJob, GenerateChunkJob, ImagesEvaluated, ImagesGenerated } from '../contracts/jobs.ts';
import { PermanentJobError } from './errors.ts';
import { evaluateChunk } from './evaluate-chunk.ts';
import { generateChunk } from './generate-chunk.ts';

/** What the thread is given: a payload the main thread has already parsed. */
export type ThreadInput = { store: ArtifactStoreConfig; registryFile?: string } & ({ stage: 'generate'; job: GenerateChunkJob } | { stage: 'evaluate'; job: EvaluateChunkJob });

export type ThreadMessage =
  | { kind: 'progress'; done: number; total: number }
  | { kind: 'result'; message: Omit<ImagesGenerated, 'worker'> | Omit<ImagesEvaluated, 'worker'> }
  | { kind: 'failed'; reason: string; permanent: boolean };

const input = workerData as ThreadInput;
const post = (message: ThreadMessage) => parentPort!.postMessage(message);
const progress = (done: number, total: number) => post({ kind: 'progress', done, total });

try {
  const store = createArtifactStore(input.store);
  const message = input.stage === 'evaluate' ? await evaluateChunk(input.job, store, progress) : await generateChunk(input.job, store, { registryFile: input.registryFile, onProgress: progress });
  post({ kind: 'result', message });
} catch (err) {
  post({ kind: 'failed', reason: err instanceof Error ? err.message : String(err), permanent: err instanceof PermanentJobError });
}
