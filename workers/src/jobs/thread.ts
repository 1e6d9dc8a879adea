/**
 * Job computations, in a worker thread (run-in-thread.ts starts it): the main thread keeps only
 * BullMQ's bookkeeping, so a long detector or sampling loop can never delay its lock renewal, and a
 * job past its limit is stopped by terminating the thread. A thread takes jobs one at a time as
 * messages; each stage's code is loaded on its first job, so an evaluate thread never loads the
 * generation pipeline.
 */
import { parentPort } from 'node:worker_threads';
import { createArtifactStore, type ArtifactStoreConfig } from '../artifacts/config.ts';
import type { EvaluateChunkJob, GenerateChunkJob, ImagesEvaluated, ImagesGenerated } from '../contracts/jobs.ts';
import { PermanentJobError } from './errors.ts';

/** What the thread is given per job: a payload the main thread has already parsed. */
export type ThreadInput = { store: ArtifactStoreConfig; registryFile?: string } & ({ stage: 'generate'; job: GenerateChunkJob } | { stage: 'evaluate'; job: EvaluateChunkJob });

export type ThreadMessage =
  | { kind: 'progress'; done: number; total: number }
  | { kind: 'result'; message: Omit<ImagesGenerated, 'worker'> | Omit<ImagesEvaluated, 'worker'> }
  | { kind: 'failed'; reason: string; permanent: boolean };

const post = (message: ThreadMessage) => parentPort!.postMessage(message);
const progress = (done: number, total: number) => post({ kind: 'progress', done, total });

async function compute(input: ThreadInput): Promise<ThreadMessage> {
  try {
    const store = createArtifactStore(input.store);
    if (input.stage === 'evaluate') {
      const { evaluateChunk } = await import('./evaluate-chunk.ts');
      return { kind: 'result', message: await evaluateChunk(input.job, store, progress) };
    }
    const { generateChunk } = await import('./generate-chunk.ts');
    return { kind: 'result', message: await generateChunk(input.job, store, { registryFile: input.registryFile, onProgress: progress }) };
  } catch (err) {
    return { kind: 'failed', reason: err instanceof Error ? err.message : String(err), permanent: err instanceof PermanentJobError };
  }
}

parentPort!.on('message', (input: ThreadInput) => {
  void compute(input).then(post);
});
