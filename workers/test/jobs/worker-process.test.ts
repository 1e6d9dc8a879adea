/**
 * The worker as the separate OS process `npm run worker` starts, against a real redis-server:
 * health endpoints, an evaluate job end to end, and what happens to a running job when its worker
 * is killed (SIGKILL: another worker runs it again) or asked to stop (SIGTERM: it finishes, or is
 * put back once the grace period is over).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Queue } from 'bullmq';
import { startRedis, type RedisServer } from '../../../test/support/redis.ts';
import { QUEUES, evaluateJobId, type ImagesEvaluated } from '../../src/contracts/jobs.ts';
import { enqueueEvaluate, openQueue } from '../../src/jobs/queues.ts';
import { assertSameAsCli, evaluateJobFor, evaluateWithCli, shapesFixture, slowEvaluateJobFor, waitForResult, type ShapesFixture } from './support.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

interface WorkerProcess {
  child: ChildProcess;
  /** hostname:pid, as its results name it */
  name: string;
  logs: Array<Record<string, unknown>>;
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

describe('the worker process', () => {
  let redis: RedisServer;
  let f: ShapesFixture;
  let evaluate: Queue;
  let results: Queue;
  const started: WorkerProcess[] = [];

  /** `npm run worker -- --queues evaluate` (the same command line, without npm in between, so that signals reach the worker itself). */
  function startWorker(env: Record<string, string> = {}): WorkerProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/src/jobs/worker-main.ts', '--queues', 'evaluate', '--concurrency', '1', '--device', 'cpu'], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: redis.url, ARTIFACT_DIR: f.artifactDir, WORKER_HEALTH_PORT: '0', WORKER_LOCK_DURATION_MS: '1000', WORKER_STALLED_INTERVAL_MS: '500', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logs: Array<Record<string, unknown>> = [];
    const waiters: Array<() => void> = [];
    let stderr = '';
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.trim()) logs.push(JSON.parse(line));
      waiters.forEach((w) => w());
    });
    child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
    const worker: WorkerProcess = {
      child,
      name: `${hostname()}:${child.pid}`,
      logs,
      exited,
      waitForLog: (msg, timeoutMs = 20_000) =>
        new Promise((found, fail) => {
          const check = () => {
            const line = logs.find((l) => l.msg === msg);
            if (!line) return;
            clearTimeout(timer);
            found(line);
          };
          const timer = setTimeout(() => fail(new Error(`worker ${child.pid}: no log '${msg}' within ${timeoutMs} ms; logs: ${JSON.stringify(logs).slice(-1500)}; stderr: ${stderr.slice(-1000)}`)), timeoutMs);
          waiters.push(check);
          check();
          void exited.then(() => setTimeout(() => fail(new Error(`worker ${child.pid} exited before logging '${msg}'; stderr: ${stderr.slice(-1000)}`)), 50));
        }),
    };
    started.push(worker);
    return worker;
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
    for (const w of started) w.child.kill('SIGKILL');
    await Promise.all(started.map((w) => w.exited));
    await Promise.all([evaluate.close(), results.close()]);
    await redis.stop();
    rmSync(f.dir, { recursive: true, force: true });
  });

  /** Which of the workers logs that it started the run's job first. */
  const whoStarts = async (workers: WorkerProcess[], runId: string) =>
    Promise.any(workers.map(async (w) => {
      for (;;) {
        if (w.logs.some((l) => l.msg === 'job started' && l.runId === runId)) return w;
        await new Promise((r) => setTimeout(r, 20));
      }
    }));

  test('answers /healthz and /readyz, scores an evaluate chunk as the CLI does, and on SIGTERM finishes its running job, then exits 0', async () => {
    const worker = startWorker({ WORKER_SHUTDOWN_GRACE_MS: '60000' });
    const { healthPort } = await worker.waitForLog('worker ready');
    assert.deepEqual(await get(healthPort, '/healthz'), { status: 200, body: { status: 'ok' } });
    assert.deepEqual(await get(healthPort, '/readyz'), { status: 200, body: { status: 'ready', activeJobs: 0 } });
    assert.equal((await get(healthPort, '/other')).status, 404);

    await enqueueEvaluate(evaluate, evaluateJobFor(f, 'proc'));
    const message = await waitForResult<ImagesEvaluated>(results, 'proc.evaluated.0.0');
    assert.equal(message.worker, worker.name);
    assertSameAsCli(message, await evaluateWithCli(f));

    await enqueueEvaluate(evaluate, slowEvaluateJobFor(f, 'finished', 300));
    await whoStarts([worker], 'finished');
    worker.child.kill('SIGTERM');
    await worker.waitForLog('shutting down: finishing running jobs');
    assert.equal((await get(healthPort, '/readyz')).status, 503, 'not ready while shutting down');
    assert.deepEqual(await worker.exited, { code: 0, signal: null });
    assert.equal((await waitForResult<ImagesEvaluated>(results, 'finished.evaluated.0.0', 1000)).worker, worker.name);
    await completed(evaluateJobId('finished', 0));
    assert.ok(worker.logs.every((l) => !JSON.stringify(l).includes('password')), 'no secrets in logs');
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
