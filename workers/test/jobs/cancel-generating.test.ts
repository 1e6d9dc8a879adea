/**
 * Cancelling runs while they generate, against the worker as the separate OS process `npm run
 * worker` starts, on the bundled model: at seeded random moments of sampling (guided and baseline,
 * several step counts and batch sizes). Terminating a compute thread inside an onnxruntime call
 * used to abort the whole process (`terminate called after throwing an instance of 'Napi::Error'`);
 * the worker must stay up, a job of another run running beside the cancelled ones must deliver its
 * result, and the worker must finish another run afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../../../test/support/redis.ts';
import { startWorkerProcess, stopAllWorkers, type WorkerProcess } from '../../../test/support/worker-process.ts';
import { generateJobId, QUEUES, type GenerateChunkJobInput, type ImagesGenerated } from '../../src/contracts/jobs.ts';
import { defaultParams, resolveParams } from '../../src/contracts/method-params.ts';
import { canonicalConfig, configHash } from '../../src/contracts/run-config.ts';
import { readModelFolder } from '../../src/diffusion/model-folder.ts';
import { resolveModel } from '../../src/diffusion/model-registry.ts';
import { markRunCancelled } from '../../src/jobs/cancel.ts';
import { enqueueGenerate, openQueue } from '../../src/jobs/queues.ts';
import { seededRandom } from '../onnx/support/random.ts';
import { waitForResult } from './support.ts';

const CANCELLATIONS = 20;

const TEXTS: Array<[string, string, string, 'left of' | 'right of' | 'above' | 'below']> = [
  ['an apple to the left of a tree', 'apple', 'tree', 'left of'],
  ['a box above a lemon', 'box', 'lemon', 'above'],
  ['a gem to the right of a flower', 'gem', 'flower', 'right of'],
  ['an egg below a tire', 'egg', 'tire', 'below'],
];

describe('cancelling generating runs on a worker process', () => {
  let redis: RedisServer;
  let dir: string;
  let generate: Queue;
  let results: Queue;
  let client: Redis;
  let worker: WorkerProcess;
  const folder = readModelFolder(resolveModel('bundled'));

  function job(runId: string, method: string, steps: number, batchSize: number, prompts: number, imagesPerPrompt: number): GenerateChunkJobInput {
    const params = resolveParams({ ...defaultParams(folder.family), ...folder.defaultParams }, { steps });
    const config = canonicalConfig(method, params);
    return {
      runId,
      chunk: 0,
      model: 'bundled',
      config,
      configHash: configHash(config),
      benchmark: 'visor-shapes',
      prompts: Array.from({ length: prompts }, (_, k) => {
        const [text, a, b, relation] = TEXTS[k % TEXTS.length]!;
        return { promptId: `${runId}-p${k}`, externalId: k, text, objects: [a, b], relation };
      }),
      seed: 42,
      imagesPerPrompt,
      imageSetPrefix: `runs/${runId}/images`,
      device: 'cpu',
      batchSize,
    };
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** Waits until the job reports progress (sampling has begun) or BullMQ has it completed. */
  async function waitUntil(id: string, what: 'sampling' | 'completed', timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await generate.getJob(id);
      if (what === 'sampling' ? typeof found?.progress === 'object' : found && (await found.isCompleted())) return;
      if (worker.child.exitCode !== null || worker.child.signalCode !== null)
        throw new Error(`the worker exited while job ${id} was to be ${what}: ${worker.stderr()}`);
      if (Date.now() > deadline) throw new Error(`job ${id}: not ${what} within ${timeoutMs} ms; worker stderr: ${worker.stderr()}`);
      await sleep(20);
    }
  }

  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'cancel-generating-'));
    [generate, results] = [openQueue(QUEUES.generate, redis.url), openQueue(QUEUES.results, redis.url)];
    client = new Redis(redis.url);
    // Two jobs at once: the cancelled ones in one slot, a job of another run beside them.
    worker = startWorkerProcess({
      redisUrl: redis.url,
      artifactDir: join(dir, 'artifacts'),
      queues: 'generate',
      concurrency: 2,
      env: { WORKER_CANCEL_POLL_MS: '50', INFSPLIGN_CACHE: join(dir, 'cache') },
    });
    await worker.waitForLog('worker ready');
  });
  after(async () => {
    await stopAllWorkers();
    await Promise.all([generate.close(), results.close(), client.quit()]);
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`${CANCELLATIONS} runs cancelled at random moments of sampling: the worker stays up, the job beside them and a later run finish`, async () => {
    const random = seededRandom(14);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random.uniform() * items.length)]!;
    // Long enough to run beside several of the cancellations.
    await enqueueGenerate(generate, job('beside', 'infsplign', 20, 4, 4, 6));
    await waitUntil(generateJobId('beside', 0), 'sampling');

    // Until CANCELLATIONS runs were stopped mid-run: one that ends before its marker is seen finishes normally.
    const cancelledAt: number[] = [];
    for (let i = 0; cancelledAt.length < CANCELLATIONS; i++) {
      assert.ok(i < CANCELLATIONS + 10, `only ${cancelledAt.length} of ${i} runs were stopped mid-run`);
      const runId = `cancel${i}`;
      const steps = pick([6, 10, 14, 20]);
      const batchSize = pick([1, 2, 3, 4]);
      await enqueueGenerate(generate, job(runId, i % 4 === 3 ? 'baseline' : 'infsplign', steps, batchSize, 4, pick([3, 4, 5])));
      await waitUntil(generateJobId(runId, 0), 'sampling');
      await sleep(Math.floor(random.uniform() * 300));
      await markRunCancelled(client, runId);
      await waitUntil(generateJobId(runId, 0), 'completed');
      const outcome = (await generate.getJob(generateJobId(runId, 0)))!.returnvalue as unknown;
      if (JSON.stringify(outcome) === JSON.stringify({ cancelled: true })) cancelledAt.push(i);
      else assert.ok(await results.getJob(`${runId}.generated.0.0`), `run ${runId} neither cancelled nor finished: ${JSON.stringify(outcome)}`);
      assert.equal(worker.child.exitCode, null, `the worker died after cancelling run ${runId}: ${worker.stderr()}`);
    }
    assert.equal(worker.logs.filter((l) => l.msg === 'run cancelled: job stopped').length, cancelledAt.length);
    for (const i of cancelledAt) assert.equal(await results.getJob(`cancel${i}.generated.0.0`), undefined, `cancelled run cancel${i} sent no images`);

    const beside = await waitForResult<ImagesGenerated>(results, 'beside.generated.0.0', 120_000);
    assert.equal(beside.images.length, 24, 'the job beside the cancelled ones delivered every image');
    const started = worker.logs.find((l) => l.msg === 'job started' && l.runId === 'beside')!.time as number;
    const firstStop = worker.logs.find((l) => l.msg === 'run cancelled: job stopped')!.time as number;
    assert.ok(firstStop > started, 'a cancellation happened while it ran');

    await enqueueGenerate(generate, job('afterwards', 'infsplign', 6, 2, 2, 2));
    const afterwards = await waitForResult<ImagesGenerated>(results, 'afterwards.generated.0.0', 60_000);
    assert.equal(afterwards.images.length, 4);
    assert.ok(afterwards.images.every((image) => image.guidance?.loss.length === 6));
    assert.equal(worker.child.exitCode, null);
    assert.doesNotMatch(worker.stderr(), /terminate called|Napi::Error/);
  });
});
