/** Compute threads: an evaluate thread serves the next job; a failed, aborted or timed-out one is ended. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { LocalArtifactStore } from '../../src/artifacts/store.ts';
import { evaluateChunkJobSchema, type EvaluateChunkJob } from '../../src/contracts/jobs.ts';
import { PermanentJobError } from '../../src/jobs/errors.ts';
import { evaluateChunk } from '../../src/jobs/evaluate-chunk.ts';
import { closeIdleThreads, idleThreadCount, JobTimeoutError, runInThread } from '../../src/jobs/run-in-thread.ts';
import type { ThreadInput } from '../../src/jobs/thread.ts';
import { evaluateJobFor, shapesFixture, slowEvaluateJobFor, type ShapesFixture } from './support.ts';

describe('runInThread', () => {
  let f: ShapesFixture;
  before(async () => {
    f = await shapesFixture();
  });
  after(async () => {
    await closeIdleThreads();
    rmSync(f.dir, { recursive: true, force: true });
  });
  const input = (job: EvaluateChunkJob): ThreadInput => ({ stage: 'evaluate', job, store: { kind: 'local', dir: f.artifactDir } });
  const options = (signal = new AbortController().signal, timeoutMs = 60_000) => ({ timeoutMs, signal, onProgress: () => {} });
  const job = (runId: string): EvaluateChunkJob => evaluateChunkJobSchema.parse(evaluateJobFor(f, runId));

  test('two evaluate jobs in a row: the same results as in-process, from one kept thread', async () => {
    await closeIdleThreads();
    const reference = await evaluateChunk(job('r1'), new LocalArtifactStore(f.artifactDir));
    assert.deepEqual(await runInThread(input(job('r1')), options()), reference);
    assert.equal(idleThreadCount(), 1);
    const second = await runInThread(input(job('r2')), options());
    assert.deepEqual(second, { ...reference, runId: 'r2' });
    assert.equal(idleThreadCount(), 1, 'the second job ran in the kept thread instead of a new one');
  });

  test('a failing job rejects with its error and its thread is ended, not kept', async () => {
    const broken = job('r3');
    broken.images[0]!.artifactKey = 'sets/shapes/99_0.png';
    await assert.rejects(runInThread(input(broken), options()), (err: Error) => err instanceof PermanentJobError && /not found/.test(err.message));
    assert.equal(idleThreadCount(), 0);
  });

  test('an aborted or timed-out job rejects and its thread is ended', async () => {
    const slow = evaluateChunkJobSchema.parse(slowEvaluateJobFor(f, 'r4', 400));
    const controller = new AbortController();
    const running = runInThread(input(slow), options(controller.signal));
    setTimeout(() => controller.abort(new Error('stop')), 300);
    await assert.rejects(running, /stop/);
    await assert.rejects(runInThread(input(slow), options(undefined, 200)), (err: Error) => err instanceof JobTimeoutError);
    assert.equal(idleThreadCount(), 0);
    assert.ok(await runInThread(input(job('r5')), options()), 'a fresh thread serves the next job');
  });
});
