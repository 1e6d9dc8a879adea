import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { LocalArtifactStore } from '../../src/artifacts/store.ts';
import { evaluateChunkJobSchema, type EvaluateChunkJob } from '../../src/contracts/jobs.ts';
import { PermanentJobError } from '../../src/jobs/errors.ts';
import { evaluateChunk } from '../../src/jobs/evaluate-chunk.ts';
import { assertSameAsCli, evaluateJobFor, evaluateWithCli, shapesFixture, type ShapesFixture } from './support.ts';

describe('evaluateChunk', () => {
  let f: ShapesFixture;
  let store: LocalArtifactStore;
  before(async () => {
    f = await shapesFixture();
    store = new LocalArtifactStore(f.artifactDir);
  });
  after(() => rmSync(f.dir, { recursive: true, force: true }));
  const job = (extra = {}): EvaluateChunkJob => evaluateChunkJobSchema.parse(evaluateJobFor(f, 'run1', extra));

  test('scores each image exactly as `infsplign evaluate` does, with its detections; "and" prompts unscored with the reason', async () => {
    const message = await evaluateChunk(job(), store);
    assertSameAsCli({ ...message, worker: 'test' }, await evaluateWithCli(f));
    assert.deepEqual(
      [message.type, message.runId, message.chunk, message.round, message.detector, message.threshold, message.scorerVersion],
      ['ImagesEvaluated', 'run1', 0, 0, 'shapes', 0.1, 'visor/1'],
    );
    const and = message.images.find((i) => i.promptId === 'p8')!;
    assert.deepEqual(and.score, {
      scored: false,
      correct: null,
      value: null,
      reason: 'VISOR scores only prompts that state a spatial relation (not "and" or single-object prompts)',
      details: {},
    });
    assert.deepEqual(
      message.images.map((i) => i.score.correct),
      [true, false, false, false, true, null],
    );
  });

  test('another threshold gives the CLI numbers for that threshold', async () => {
    const message = await evaluateChunk(job({ threshold: 0.6 }), store);
    assertSameAsCli({ ...message, worker: 'test' }, await evaluateWithCli(f, 0.6));
  });

  test('a missing image, or a prompt whose record disagrees with the job, fails for good', async () => {
    const missing = job();
    missing.images[0]!.artifactKey = 'sets/shapes/99_0.png';
    await assert.rejects(
      evaluateChunk(missing, store),
      (err: Error) => err instanceof PermanentJobError && /artifact sets\/shapes\/99_0.png not found/.test(err.message),
    );
    const inconsistent = job();
    inconsistent.prompts[0]!.objects = ['box', 'apple'];
    await assert.rejects(
      evaluateChunk(inconsistent, store),
      (err: Error) => err instanceof PermanentJobError && /prompt p0: the job gives .* but its visor-shapes record reads as/.test(err.message),
    );
  });
});
