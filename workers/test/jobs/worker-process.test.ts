/**
 * The worker as the separate OS process `npm run worker` starts, against a real redis-server:
 * health endpoints and metrics, an evaluate job end to end, and what happens to a running job when its worker
 * is killed (SIGKILL: another worker runs it again) or asked to stop (SIGTERM: it finishes, or is
 * put back once the grace period is over).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Queue } from 'bullmq';
import { sampleValue, scrape } from '../../../test/support/prometheus.ts';
import { startRedis, type RedisServer } from '../../../test/support/redis.ts';
import { startWorkerProcess, stopAllWorkers, type WorkerProcess } from '../../../test/support/worker-process.ts';
import { QUEUES, evaluateJobId, type ImagesEvaluated } from '../../src/contracts/jobs.ts';
import { enqueueEvaluate, openQueue } from '../../src/jobs/queues.ts';
import { assertSameAsCli, evaluateJobFor, evaluateWithCli, shapesFixture, slowEvaluateJobFor, waitForResult, type ShapesFixture } from './support.ts';

describe('the worker process', () => {
  let redis: RedisServer;
  let f: ShapesFixture;
  let evaluate: Queue;
  let results: Queue;

  /** `npm run worker -- --queues evaluate`, with short lock times so that a dead worker's job is taken over within a second or two. */
  function startWorker(env: Record<string, string> = {}): WorkerProcess {
    return startWorkerProcess({
      redisUrl: redis.url,
      artifactDir: f.artifactDir,
      env: { WORKER_LOCK_DURATION_MS: '1000', WORKER_STALLED_INTERVAL_MS: '500', ...env },
    });
  }

  const get = async (port: unknown, path: string) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, body: await response.json() };
  };

  /** The job once it is completed (the result is sent just before the job is marked so). */
  const completed = async (id: string) => {
    const deadline = Date.now() + 5000;
    while ((await evaluate.getJobState(id)) !== 'completed') {
      if (Date.now() > deadline) throw new Error(`job ${id} is ${await evaluate.getJobState(id)}, not completed`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return (await evaluate.getJob(id))!;
  };

  before(async () => {
    [redis, f] = await Promise.all([startRedis(), shapesFixture()]);
    [evaluate, results] = [openQueue(QUEUES.evaluate, redis.url), openQueue(QUEUES.results, redis.url)];
  });
  after(async () => {
    await stopAllWorkers();
    await Promise.all([evaluate.close(), results.close()]);
    await redis.stop();
    rmSync(f.dir, { recursive: true, force: true });
  });

  /** Which of the workers logs that it started the run's job first. */
  const whoStarts = async (workers: WorkerProcess[], runId: string) =>
    Promise.any(
      workers.map(async (w) => {
        for (;;) {
          if (w.logs.some((l) => l.msg === 'job started' && l.runId === runId)) return w;
          await new Promise((r) => setTimeout(r, 20));
        }
      }),
    );

  test('answers /healthz and /readyz, scores an evaluate chunk as the CLI does, and on SIGTERM finishes its running job, then exits 0', async () => {
    const worker = startWorker({ WORKER_SHUTDOWN_GRACE_MS: '60000' });
    const { healthPort } = await worker.waitForLog('worker ready');
    assert.deepEqual(await get(healthPort, '/healthz'), { status: 200, body: { status: 'ok' } });
    assert.deepEqual(await get(healthPort, '/readyz'), { status: 200, body: { status: 'ready', activeJobs: 0 } });
    assert.equal((await get(healthPort, '/other')).status, 404);
    assert.equal(worker.logs.find((l) => l.msg === 'worker starting')?.nice, 10, 'batch work: below the default CPU priority (WORKER_NICE)');

    await enqueueEvaluate(evaluate, evaluateJobFor(f, 'proc'));
    const message = await waitForResult<ImagesEvaluated>(results, 'proc.evaluated.0.0');
    assert.equal(message.worker, worker.name);
    assertSameAsCli(message, await evaluateWithCli(f));

    // The counters move just after the result is sent.
    await completed(evaluateJobId('proc', 0));
    const metrics = await scrape(`http://127.0.0.1:${healthPort}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.contentType ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal(sampleValue(metrics.text, 'infsplign_worker_jobs_completed_total', { queue: 'evaluate' }), 1);
    assert.equal(sampleValue(metrics.text, 'infsplign_worker_images_evaluated_total'), message.images.length);
    assert.equal(sampleValue(metrics.text, 'infsplign_worker_images_generated_total'), 0);
    assert.equal(sampleValue(metrics.text, 'infsplign_worker_job_duration_seconds_count', { queue: 'evaluate', outcome: 'completed' }), 1);
    assert.equal(sampleValue(metrics.text, 'infsplign_worker_job_duration_seconds_bucket', { queue: 'evaluate', outcome: 'completed', le: '+Inf' }), 1);
    assert.equal(sampleValue(metrics.text, 'infsplign_worker_active_jobs'), 0);
    if (process.platform === 'linux') {
      // Nice is per thread on Linux: the compute thread that scored the job runs at the process's too.
      const niceOf = (stat: string) => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      const tasks = readdirSync(`/proc/${worker.child.pid}/task`).map((tid) => niceOf(readFileSync(`/proc/${worker.child.pid}/task/${tid}/stat`, 'utf8')));
      assert.ok(tasks.filter((nice) => nice === 10).length >= 2, `threads' nice values: ${tasks.join(' ')}`);
    }
    assert.ok((sampleValue(metrics.text, 'process_resident_memory_bytes') ?? 0) > 0, 'process metrics');

    await enqueueEvaluate(evaluate, slowEvaluateJobFor(f, 'finished', 300));
    await whoStarts([worker], 'finished');
    assert.equal(sampleValue((await scrape(`http://127.0.0.1:${healthPort}/metrics`)).text, 'infsplign_worker_active_jobs'), 1);
    worker.child.kill('SIGTERM');
    await worker.waitForLog('shutting down: finishing running jobs');
    assert.equal((await get(healthPort, '/readyz')).status, 503, 'not ready while shutting down');
    assert.deepEqual(await worker.exited, { code: 0, signal: null });
    assert.equal((await waitForResult<ImagesEvaluated>(results, 'finished.evaluated.0.0', 1000)).worker, worker.name);
    await completed(evaluateJobId('finished', 0));
    assert.ok(
      worker.logs.every((l) => !JSON.stringify(l).includes('password')),
      'no secrets in logs',
    );
  });

  test('killed with SIGKILL mid-job, its job is taken over by another worker once the lock expires, and produces its result once', async () => {
    const workers = [startWorker(), startWorker()];
    await Promise.all(workers.map((w) => w.waitForLog('worker ready')));
    await enqueueEvaluate(evaluate, slowEvaluateJobFor(f, 'killed', 300));
    const victim = await whoStarts(workers, 'killed');
    const survivor = workers.find((w) => w !== victim)!;
    await new Promise((r) => setTimeout(r, 300));
    victim.child.kill('SIGKILL');
    await victim.exited;

    const message = await waitForResult<ImagesEvaluated>(results, 'killed.evaluated.0.0', 30_000);
    assert.equal(message.worker, survivor.name);
    assert.equal(message.images.length, 300);
    const job = await completed(evaluateJobId('killed', 0));
    assert.equal(job.attemptsMade, 1, 'the stalled attempt is not counted as a failure');
    assert.equal((await results.getJobs(['waiting', 'active', 'completed', 'delayed'])).filter((r) => r.data.runId === 'killed').length, 1);
    survivor.child.kill('SIGTERM');
    await survivor.exited;
  });

  test('SIGTERM past the grace period puts the running job back to wait, unspent, for another worker', async () => {
    const workers = [startWorker({ WORKER_SHUTDOWN_GRACE_MS: '0' }), startWorker({ WORKER_SHUTDOWN_GRACE_MS: '0' })];
    await Promise.all(workers.map((w) => w.waitForLog('worker ready')));
    await enqueueEvaluate(evaluate, slowEvaluateJobFor(f, 'released', 300));
    const stopped = await whoStarts(workers, 'released');
    const other = workers.find((w) => w !== stopped)!;
    const stopping = Date.now();
    stopped.child.kill('SIGTERM');
    assert.deepEqual(await stopped.exited, { code: 0, signal: null });
    assert.ok(Date.now() - stopping < 3000, 'did not wait for the job');
    assert.ok(stopped.logs.some((l) => l.msg === 'job released back to wait'));

    const message = await waitForResult<ImagesEvaluated>(results, 'released.evaluated.0.0', 30_000);
    assert.equal(message.worker, other.name);
    assert.equal((await completed(evaluateJobId('released', 0))).attemptsMade, 1, 'the released attempt is not counted');
    other.child.kill('SIGTERM');
    await other.exited;
  });
});
