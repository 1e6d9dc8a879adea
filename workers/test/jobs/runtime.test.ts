/**
 * The worker runtime in this process against a real redis-server: jobs through the queues, each
 * computed in a thread, results on `results`. (worker-process.test.ts runs it as its own process.)
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { sampleValue } from '../../../test/support/prometheus.ts';
import { startRedis, type RedisServer } from '../../../test/support/redis.ts';
import { LocalArtifactStore } from '../../src/artifacts/store.ts';
import { QUEUES, evaluateJobId, type ChunkFailed, type ImagesEvaluated, type ImagesGenerated } from '../../src/contracts/jobs.ts';
import { defaultParams, resolveParams } from '../../src/contracts/method-params.ts';
import { canonicalConfig, configHash } from '../../src/contracts/run-config.ts';
import { readModelFolder } from '../../src/diffusion/model-folder.ts';
import { markRunCancelled } from '../../src/jobs/cancel.ts';
import { enqueueEvaluate, enqueueGenerate, openQueue } from '../../src/jobs/queues.ts';
import { WorkerRuntime, type WorkerRuntimeOptions } from '../../src/jobs/runtime.ts';
import { runCli } from '../cli/run-cli.ts';
import { buildTinyModelFolder } from '../support/tiny-model.ts';
import { assertSameAsCli, evaluateJobFor, evaluateWithCli, shapesFixture, slowEvaluateJobFor, waitForResult, type ShapesFixture } from './support.ts';

describe('the worker runtime, in process, with real Redis', () => {
  let redis: RedisServer;
  let f: ShapesFixture;
  let runtime: WorkerRuntime;
  let evaluate: Queue;
  let generate: Queue;
  let results: Queue;
  const logger = pino({ level: 'silent' });
  const options = (extra: Partial<WorkerRuntimeOptions> = {}): WorkerRuntimeOptions => ({
    redisUrl: redis.url,
    stages: ['evaluate', 'generate'],
    concurrency: 2,
    device: 'cpu',
    artifactDir: f.artifactDir,
    logger,
    cancelPollMs: 100,
    ...extra,
  });

  before(async () => {
    [redis, f] = await Promise.all([startRedis(), shapesFixture()]);
    buildTinyModelFolder(join(f.dir, 'tiny'));
    writeFileSync(join(f.dir, 'registry.json'), JSON.stringify({ tiny: join(f.dir, 'tiny') }));
    writeFileSync(join(f.dir, 'detectors.json'), JSON.stringify({ broken: 'coco:/nonexistent/detector.onnx' }));
    runtime = new WorkerRuntime(options({ registryFile: join(f.dir, 'registry.json'), detectorRegistryFile: join(f.dir, 'detectors.json') }));
    await runtime.waitUntilReady();
    [evaluate, generate, results] = [openQueue(QUEUES.evaluate, redis.url), openQueue(QUEUES.generate, redis.url), openQueue(QUEUES.results, redis.url)];
  });
  after(async () => {
    await runtime.close();
    await Promise.all([evaluate.close(), generate.close(), results.close()]);
    await redis.stop();
    rmSync(f.dir, { recursive: true, force: true });
  });

  test("an evaluate chunk sends ImagesEvaluated whose per-image scores are the CLI's; enqueueing it again adds nothing", async () => {
    await enqueueEvaluate(evaluate, evaluateJobFor(f, 'e2e'));
    const message = await waitForResult<ImagesEvaluated>(results, 'e2e.evaluated.0.0');
    assert.equal(message.worker, runtime.name);
    assertSameAsCli(message, await evaluateWithCli(f));
    await enqueueEvaluate(evaluate, evaluateJobFor(f, 'e2e'));
    assert.equal((await evaluate.getJobs(['waiting', 'active', 'completed'])).filter((j) => j.id === evaluateJobId('e2e', 0)).length, 1);
    assert.equal(await evaluate.getJobCountByTypes('waiting', 'active'), 0);
  });

  test('a job that cannot succeed fails at once with ChunkFailed; one that fails each time is retried, then reported', async () => {
    const missing = evaluateJobFor(f, 'missing');
    missing.images[0]!.artifactKey = 'sets/shapes/99_0.png';
    await enqueueEvaluate(evaluate, missing);
    const permanent = await waitForResult<ChunkFailed>(results, 'missing.failed-evaluate.0.0');
    assert.deepEqual(
      { ...permanent, reason: permanent.reason.replace(/ in local:.*/, '') },
      {
        type: 'ChunkFailed',
        runId: 'missing',
        chunk: 0,
        round: 0,
        stage: 'evaluate',
        reason: 'image 0 of prompt p0: artifact sets/shapes/99_0.png not found',
        attempt: 1,
        attempts: 3,
      },
    );

    // a detector this worker does not know can never load here; a registered one whose files are missing might, elsewhere
    await enqueueEvaluate(evaluate, evaluateJobFor(f, 'unknown', { detector: 'owlvit' }));
    const unknown = await waitForResult<ChunkFailed>(results, 'unknown.failed-evaluate.0.0');
    assert.deepEqual([unknown.reason, unknown.attempt], ["unknown detector 'owlvit': not in this worker's detector registry (it has: shapes, broken)", 1]);
    await enqueueEvaluate(evaluate, evaluateJobFor(f, 'flaky', { detector: 'broken' }), { attempts: 2, backoff: { type: 'exponential', delay: 50 } });
    const retried = await waitForResult<ChunkFailed>(results, 'flaky.failed-evaluate.0.0');
    assert.deepEqual([retried.attempt, retried.attempts], [2, 2]);
    assert.match(retried.reason, /^detector 'broken' is registered on this worker but could not be loaded: .*nonexistent/);
  });

  test('a job past its time limit is stopped and fails with the reason', async () => {
    await enqueueEvaluate(evaluate, { ...slowEvaluateJobFor(f, 'slow', 3000), timeoutMs: 1000 });
    const failed = await waitForResult<ChunkFailed>(results, 'slow.failed-evaluate.0.0');
    assert.deepEqual([failed.reason, failed.attempt], ['ran past its limit of 1 s', 1]);
  });

  test('its metrics count the jobs so far: completed, and failed attempts by reason category, final or to be retried', async () => {
    const text = await runtime.metrics.registry.metrics();
    assert.equal(sampleValue(text, 'infsplign_worker_jobs_completed_total', { queue: 'evaluate' }), 1);
    assert.equal(sampleValue(text, 'infsplign_worker_images_evaluated_total'), evaluateJobFor(f, 'e2e').images.length);
    assert.equal(sampleValue(text, 'infsplign_worker_jobs_failed_total', { queue: 'evaluate', reason: 'permanent', final: 'true' }), 2);
    assert.equal(sampleValue(text, 'infsplign_worker_jobs_failed_total', { queue: 'evaluate', reason: 'error', final: 'false' }), 1);
    assert.equal(sampleValue(text, 'infsplign_worker_jobs_failed_total', { queue: 'evaluate', reason: 'error', final: 'true' }), 1);
    assert.equal(sampleValue(text, 'infsplign_worker_jobs_failed_total', { queue: 'evaluate', reason: 'timeout', final: 'true' }), 1);
    assert.equal(sampleValue(text, 'infsplign_worker_job_duration_seconds_count', { queue: 'evaluate', outcome: 'completed' }), 1);
    assert.equal(sampleValue(text, 'infsplign_worker_job_duration_seconds_count', { queue: 'evaluate', outcome: 'failed' }), 5);
    assert.ok(sampleValue(text, 'infsplign_worker_job_duration_seconds_sum', { queue: 'evaluate', outcome: 'failed' })! >= 1, 'the timed-out attempt ran 1 s');
    assert.equal(sampleValue(text, 'infsplign_worker_active_jobs'), 0);
  });

  test('cancelling a run stops its running job and skips its waiting ones, sending nothing', async () => {
    // 20,000 images (tens of seconds): stopping within 8 s tells a cancelled job from a finished one even on a loaded machine.
    await enqueueEvaluate(evaluate, slowEvaluateJobFor(f, 'cancelled', 20_000));
    const job = (await evaluate.getJob(evaluateJobId('cancelled', 0)))!;
    while ((await job.getState()) !== 'active') await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    const client = new Redis(redis.url);
    await markRunCancelled(client, 'cancelled');
    await client.quit();
    while (!(await job.isCompleted())) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual((await evaluate.getJob(job.id!))!.returnvalue, { cancelled: true });
    assert.ok(Date.now() - started < 8000, `stopped well before the job would have ended (after ${Date.now() - started} ms)`);
    await enqueueEvaluate(evaluate, { ...evaluateJobFor(f, 'cancelled'), chunk: 1 });
    const skipped = (await evaluate.getJob(evaluateJobId('cancelled', 1)))!;
    while (!(await skipped.isCompleted())) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await results.getJob('cancelled.evaluated.0.0'), undefined);
    assert.equal(await results.getJob('cancelled.evaluated.1.0'), undefined);
  });

  test('a generate chunk uploads under its prefix the very PNGs `infsplign generate` writes, and sends ImagesGenerated', async () => {
    const folder = readModelFolder(join(f.dir, 'tiny'));
    const config = canonicalConfig('baseline', resolveParams({ ...defaultParams(folder.family), ...folder.defaultParams }, { steps: 3 }));
    const prompts = [{ promptId: 'g0', externalId: 0, text: 'an apple to the left of a box', objects: ['apple', 'box'], relation: 'left of' as const }];
    await enqueueGenerate(generate, {
      runId: 'gen',
      chunk: 0,
      model: 'tiny',
      config,
      configHash: configHash(config),
      benchmark: 'visor-shapes',
      prompts,
      seed: 7,
      imagesPerPrompt: 2,
      imageSetPrefix: 'runs/gen/images',
      device: 'cpu',
    });
    const message = await waitForResult<ImagesGenerated>(results, 'gen.generated.0.0', 60_000);
    assert.deepEqual(
      message.images.map((i) => [i.promptId, i.imageIndex, i.artifactKey]),
      [
        ['g0', 0, 'runs/gen/images/0_0.png'],
        ['g0', 1, 'runs/gen/images/0_1.png'],
      ],
    );
    assert.deepEqual(message.failures, []);
    assert.deepEqual(
      message.images.map((i) => [i.width, i.height]),
      [
        [8, 8],
        [8, 8],
      ],
    );
    assert.deepEqual(
      message.images.map((i) => i.guidance),
      [null, null],
      "a baseline's images have no guidance trace",
    );
    const store = new LocalArtifactStore(f.artifactDir);
    assert.deepEqual(await store.list('runs/gen'), ['runs/gen/images/0_0.png', 'runs/gen/images/0_1.png']);
    const out = join(f.dir, 'cli-generated');
    const cli = await runCli([
      'generate',
      '--model',
      join(f.dir, 'tiny'),
      '--benchmark',
      'visor-shapes',
      '--prompts',
      f.promptsFile,
      '--limit',
      '1',
      '--method',
      'baseline',
      '--params',
      '{"steps":3}',
      '--seed',
      '7',
      '--images-per-prompt',
      '2',
      '--out',
      out,
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    for (const name of ['0_0.png', '0_1.png']) assert.deepEqual(await store.get(`runs/gen/images/${name}`), readFileSync(join(out, name)), name);
  });

  test('a generate job for another device is left for other workers, without using an attempt', async () => {
    const folder = readModelFolder(join(f.dir, 'tiny'));
    const config = canonicalConfig('baseline', resolveParams({ ...defaultParams(folder.family), ...folder.defaultParams }, {}));
    const prompts = [{ promptId: 'g0', externalId: 0, text: 'a circle', objects: ['circle'], relation: null }];
    await enqueueGenerate(generate, {
      runId: 'gpu',
      chunk: 0,
      model: 'tiny',
      config,
      configHash: configHash(config),
      benchmark: 'visor-shapes',
      prompts,
      seed: 7,
      imagesPerPrompt: 1,
      imageSetPrefix: 'runs/gpu/images',
      device: 'cuda',
    });
    const job = (await generate.getJob('gpu.generate.0.0'))!;
    while ((await job.getState()) !== 'delayed') await new Promise((r) => setTimeout(r, 20));
    assert.equal((await generate.getJob('gpu.generate.0.0'))!.attemptsMade, 0);
    await job.remove();
  });
});

describe('the worker runtime when Redis crashes mid-job', () => {
  test('redis-server killed with SIGKILL and restarted (append-only file on): the running job still delivers its result', async () => {
    const [redis, f] = await Promise.all([startRedis({ appendonly: true }), shapesFixture()]);
    const runtime = new WorkerRuntime({
      redisUrl: redis.url,
      stages: ['evaluate'],
      concurrency: 1,
      device: 'cpu',
      artifactDir: f.artifactDir,
      logger: pino({ level: 'silent' }),
      lockDurationMs: 5000,
    });
    const [evaluate, results] = [openQueue(QUEUES.evaluate, redis.url), openQueue(QUEUES.results, redis.url)];
    try {
      await runtime.waitUntilReady();
      await enqueueEvaluate(evaluate, slowEvaluateJobFor(f, 'crash', 600));
      while ((await evaluate.getJobState(evaluateJobId('crash', 0))) !== 'active') await new Promise((r) => setTimeout(r, 20));
      await redis.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 500));
      await redis.restart();
      const message = await waitForResult<ImagesEvaluated>(results, 'crash.evaluated.0.0', 30_000);
      assert.equal(message.images.length, 600);
      const deadline = Date.now() + 10_000;
      while ((await evaluate.getJobState(evaluateJobId('crash', 0))) !== 'completed') {
        assert.ok(Date.now() < deadline, 'the job is marked completed');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await runtime.close();
      await Promise.all([evaluate.close(), results.close()]);
      await redis.stop();
      rmSync(f.dir, { recursive: true, force: true });
    }
  });
});
