/**
 * The worker runtime: one BullMQ Worker per stage queue, each job's computation in a thread of its
 * own (run-in-thread.ts), results onto `results`. worker-main.ts wraps it in a process with signals,
 * logs and health endpoints; tests run it in-process too.
 *
 * Failure handling:
 * - a job that throws is retried by BullMQ with backoff (the attempts set at enqueue, queues.ts);
 *   one that can never succeed (invalid payload, PermanentJobError, past its time limit) fails at once;
 * - a job whose failure is final is reported as ChunkFailed from the `failed` event, which also sees
 *   jobs BullMQ fails itself (stalled more often than allowed);
 * - a worker that dies mid-job leaves the job's lock to expire; another worker's stalled check puts
 *   it back to wait and it runs again;
 * - on shutdown a running job either finishes or, once `releaseActive()` is called, is stopped and
 *   put back to wait at once, without using up an attempt.
 */
import { hostname } from 'node:os';
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  dbIdSchema,
  evaluateChunkJobSchema,
  generateChunkJobSchema,
  parsePayload,
  QUEUES,
  type JobDevice,
  type ResultMessage,
  type Stage,
} from '../contracts/jobs.ts';
import { storeConfigFromOptions, type ArtifactStoreConfig } from '../artifacts/config.ts';
import { isRunCancelled } from './cancel.ts';
import { failureCategory, PermanentJobError } from './errors.ts';
import { createWorkerMetrics, type JobOutcome, type WorkerMetrics } from './metrics.ts';
import { openQueue, openRedisClient, redisConnection, sendResult } from './queues.ts';
import { closeIdleThreads, runInThread } from './run-in-thread.ts';
import type { ThreadInput } from './thread.ts';

export interface WorkerRuntimeOptions {
  redisUrl: string;
  stages: readonly Stage[];
  /** jobs run at once per queue, each in its own thread */
  concurrency: number;
  /** what this worker computes on; generate jobs for another device are left to other workers */
  device: JobDevice;
  /** the artifact store the job threads use (plain data: it is handed to each thread) */
  store?: ArtifactStoreConfig;
  /** shorthand for a local store in this directory, when `store` is not given */
  artifactDir?: string;
  /** the model registry generate jobs resolve names in (default models/registry.json) */
  registryFile?: string;
  /** the detector registry evaluate jobs resolve names in (default models/detectors.json) */
  detectorRegistryFile?: string;
  logger: Logger;
  /** BullMQ's lock duration: how long a dead worker's job stays locked before it counts as stalled (default 30 s) */
  lockDurationMs?: number;
  /** how often this worker looks for stalled jobs (default 30 s) */
  stalledIntervalMs?: number;
  /** how often a running job checks whether its run was cancelled (default 2 s) */
  cancelPollMs?: number;
}

/** A generate job for another device waits this long before another worker may take it. */
const RELEASE_DELAY_MS = 5000;

class ReleasedError extends Error {}
class RunCancelledError extends Error {}

/** What a failed job's payload must still have for its failure to be reported. */
const chunkRefSchema = z.object({ runId: dbIdSchema, chunk: z.number().int().min(0), round: z.number().int().min(0).default(0) });

export class WorkerRuntime {
  /** hostname:pid, recorded with results */
  readonly name = `${hostname()}:${process.pid}`;
  /** this runtime's metrics (worker-main.ts serves them on /metrics) */
  readonly metrics: WorkerMetrics = createWorkerMetrics(() => this.active.size);
  private readonly workers: Worker[] = [];
  private readonly results: Queue;
  /** for cancel markers; its status is part of readiness */
  private readonly redis: Redis;
  private readonly store: ArtifactStoreConfig;
  private readonly active = new Map<string, AbortController>();
  private readonly sending = new Set<Promise<void>>();
  private closing = false;
  private releasing = false;

  constructor(private readonly options: WorkerRuntimeOptions) {
    this.store = storeConfigFromOptions(options, 'WorkerRuntime');
    this.results = openQueue(QUEUES.results, options.redisUrl);
    // Without a listener BullMQ prints its reconnection errors raw to stderr, outside the structured log.
    this.results.on('error', (err: Error) => options.logger.error({ queue: QUEUES.results, err: err.message }, 'queue connection error'));
    this.redis = openRedisClient(options.redisUrl);
    for (const stage of options.stages) {
      const worker = new Worker(stage, (job: Job, token?: string) => this.process(stage, job, token), {
        connection: redisConnection(options.redisUrl),
        concurrency: options.concurrency,
        name: this.name,
        ...(options.lockDurationMs !== undefined && { lockDuration: options.lockDurationMs }),
        ...(options.stalledIntervalMs !== undefined && { stalledInterval: options.stalledIntervalMs }),
      });
      worker.on('failed', (job, err) => this.onFailed(stage, job, err));
      worker.on('error', (err) => options.logger.error({ queue: stage, err: err.message }, 'queue connection error'));
      worker.on('stalled', (jobId) => options.logger.warn({ queue: stage, jobId }, 'stalled job put back to wait'));
      this.workers.push(worker);
    }
  }

  async waitUntilReady(): Promise<void> {
    await Promise.all([...this.workers.map((w) => w.waitUntilReady()), this.results.waitUntilReady()]);
  }

  /** Taking jobs: Redis reachable and every queue's worker running. */
  ready(): boolean {
    return !this.closing && this.redis.status === 'ready' && this.workers.every((w) => w.isRunning());
  }

  get activeJobs(): number {
    return this.active.size;
  }

  /** Stops the running jobs' computations and puts the jobs back to wait, for other workers. */
  releaseActive(): void {
    this.releasing = true;
    for (const controller of this.active.values()) controller.abort(new ReleasedError('released by a worker shutting down'));
  }

  /** Takes no more jobs, waits for the running ones (see releaseActive) and disconnects. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all(this.sending);
    await this.results.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
    await closeIdleThreads();
  }

  private async process(stage: Stage, job: Job, token: string | undefined): Promise<unknown> {
    const { logger } = this.options;
    let input: ThreadInput;
    try {
      const base = { store: this.store, registryFile: this.options.registryFile, detectorRegistryFile: this.options.detectorRegistryFile };
      input =
        stage === 'generate'
          ? { ...base, stage, job: parsePayload(generateChunkJobSchema, job.data, `generate job ${job.id}`) }
          : { ...base, stage, job: parsePayload(evaluateChunkJobSchema, job.data, `evaluate job ${job.id}`) };
    } catch (err) {
      throw new UnrecoverableError((err as Error).message);
    }
    const { runId, chunk, timeoutMs } = input.job;
    const log = logger.child({ queue: stage, jobId: job.id, runId, chunk, attempt: job.attemptsMade + 1 });

    if (input.stage === 'generate' && input.job.device !== this.options.device) {
      log.warn({ wants: input.job.device, has: this.options.device }, 'generate job for another device: left to other workers');
      await job.moveToDelayed(Date.now() + RELEASE_DELAY_MS, token);
      throw new DelayedError();
    }
    if (await isRunCancelled(this.redis, runId)) {
      log.info('run cancelled: chunk skipped');
      return { cancelled: true };
    }

    const controller = new AbortController();
    if (this.releasing) controller.abort(new ReleasedError('released by a worker shutting down'));
    this.active.set(job.id!, controller);
    let polling = false; // while Redis is away a check waits; checks must not pile up behind it
    const poll = setInterval(() => {
      if (polling) return;
      polling = true;
      isRunCancelled(this.redis, runId)
        .then(
          (cancelled) => cancelled && controller.abort(new RunCancelledError()),
          () => {},
        )
        .finally(() => (polling = false));
    }, this.options.cancelPollMs ?? 2000);
    let lastProgress = 0;
    const started = Date.now();
    const observe = (outcome: JobOutcome) => this.metrics.jobDuration.observe({ queue: stage, outcome }, (Date.now() - started) / 1000);
    log.info({ images: input.stage === 'evaluate' ? input.job.images.length : input.job.prompts.length * input.job.imagesPerPrompt }, 'job started');
    try {
      const result = await runInThread(input, {
        timeoutMs,
        signal: controller.signal,
        onProgress: (done, total) => {
          // Progress is for people watching the queue: once a second is plenty.
          if (done < total && Date.now() - lastProgress < 1000) return;
          lastProgress = Date.now();
          job.updateProgress({ done, total }).catch(() => {});
        },
      });
      await sendResult(this.results, { ...result, worker: this.name } as ResultMessage);
      observe('completed');
      this.metrics.jobsCompleted.inc({ queue: stage });
      (result.type === 'ImagesGenerated' ? this.metrics.imagesGenerated : this.metrics.imagesEvaluated).inc(result.images.length);
      log.info({ ms: Date.now() - started, images: result.images.length, sent: result.type }, 'job done');
      return { sent: result.type, images: result.images.length };
    } catch (err) {
      if (err instanceof RunCancelledError) {
        observe('cancelled');
        log.info({ ms: Date.now() - started }, 'run cancelled: job stopped');
        return { cancelled: true };
      }
      if (err instanceof ReleasedError) {
        observe('released');
        await job.moveToWait(token);
        log.info('job released back to wait');
        throw new WaitingError();
      }
      observe('failed');
      log.warn({ ms: Date.now() - started, reason: (err as Error).message }, 'job attempt failed');
      if (err instanceof PermanentJobError) throw new UnrecoverableError(err.message);
      throw err;
    } finally {
      clearInterval(poll);
      this.active.delete(job.id!);
    }
  }

  /** Reports a job that failed for good; earlier failed attempts are only logged. */
  private onFailed(stage: Stage, job: Job | undefined, err: Error): void {
    const { logger } = this.options;
    if (!job) return;
    const attempts = job.opts.attempts ?? 1;
    const final = err.name === 'UnrecoverableError' || job.attemptsMade >= attempts;
    this.metrics.jobsFailed.inc({ queue: stage, reason: failureCategory(err.message, err.name === 'UnrecoverableError'), final: String(final) });
    const log = logger.child({ queue: stage, jobId: job.id, attempt: job.attemptsMade, attempts });
    if (!final) {
      log.info({ reason: err.message }, 'job will be retried');
      return;
    }
    const ref = chunkRefSchema.safeParse(job.data);
    if (!ref.success) {
      log.error({ reason: err.message }, 'job failed for good, and its payload names no run and chunk to report it for');
      return;
    }
    log.error({ runId: ref.data.runId, chunk: ref.data.chunk, reason: err.message }, 'job failed for good');
    const sent = sendResult(this.results, { type: 'ChunkFailed', ...ref.data, stage, reason: err.message, attempt: Math.max(1, job.attemptsMade), attempts })
      .catch((sendErr: Error) => log.error({ reason: sendErr.message }, 'could not send ChunkFailed'))
      .finally(() => this.sending.delete(sent));
    this.sending.add(sent);
  }
}
