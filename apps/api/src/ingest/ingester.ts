/**
 * The ingester: a BullMQ worker on `results` that writes what the workers report. Every write is an
 * insert that does nothing when its key (run, prompt, image index; image and detection ordinal;
 * image's score) already has a row, and the progress counts grow by the rows a message actually
 * inserted (and are recounted from the rows before a run finishes), so a message delivered twice
 * changes nothing. Each message is one transaction holding the run's row lock, so messages of one
 * run apply one at a time, and a status only moves forward; ImagesEvaluated messages of one run that
 * wait while another is applied are written together, in one transaction (RunBatches). A transaction
 * costs a fixed number of statements, whatever its size and however many results its run already has.
 *
 * A database that cannot be reached delays the message (without using up its attempts) instead of
 * failing it, so results wait out an outage of any length.
 */
import {
  type ChunkFailed,
  describeZodError,
  type ImagesEvaluated,
  type ImagesGenerated,
  QUEUES,
  type ResultMessage,
  resultMessageSchema,
} from '@infsplign/workers/contracts';
import { redisConnection } from '@infsplign/workers/queues';
import { getPriority } from 'node:os';
import { threadId } from 'node:worker_threads';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { imageKey } from '../runs/plan.ts';
import { advanceTo, currentRound, isActive, lockRun, transition, type Tx } from '../runs/lifecycle.ts';
import { enqueueChunk, type EnqueueDeps, loadJobRun, stopRunJobs } from '../runs/work.ts';
import { chunkFailureCause, type FailureStage, type RunFailureCause } from '../metrics.ts';
import type { Services } from '../services.ts';
import { finishRun } from './finalize.ts';

/** Metric labels take these only: a job's name is whatever was written to Redis. */
const MESSAGE_TYPES: ReadonlySet<string> = new Set(['ImagesGenerated', 'ImagesEvaluated', 'ChunkFailed']);

/** How long a message waits before it is tried again while the database is unreachable. */
export const DATABASE_RETRY_DELAY_MS = 5000;
/** Long enough to finish a run of a full benchmark (scoring 100k+ images with bootstrap intervals). */
const TRANSACTION_TIMEOUT_MS = 5 * 60 * 1000;

/** What a message did, for the log and for the tests. */
export type IngestOutcome =
  | { applied: true; runId: string; finished: boolean; failed: boolean; cause?: { reason: RunFailureCause; stage: FailureStage } }
  | { applied: false; runId: string; why: string };

/** A result message taken, by its type and what became of it. */
export interface ResultCount {
  type: string;
  outcome: 'applied' | 'skipped' | 'delayed' | 'error';
}

/** The counts the ingester keeps: the API's metrics, or in the ingest thread ones that the main thread counts (thread.ts). */
export interface IngestMetrics {
  resultsIngested: { inc(labels: ResultCount): void };
  ingestionLag: { observe(labels: { type: string }, seconds: number): void };
  runFailures: { inc(labels: { reason: RunFailureCause; stage: FailureStage }): void };
}

/** What the ingester uses of the API's services: the API's own (tests), or the ingest thread's (thread-main.ts). */
export type IngestServices = Pick<Services, 'prisma' | 'queues' | 'logger'> & Pick<EnqueueDeps, 'lifecycle'> & { metrics: IngestMetrics };

function skipped(runId: string, why: string): IngestOutcome {
  return { applied: false, runId, why };
}

/** Node and pg codes and messages of a connection that failed or was cut, anywhere in the cause chain. */
const UNREACHABLE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|57P01|57P03|08\d{3}|Connection terminated|connection (?:is )?(?:closed|refused|timed out)|terminating connection|database system is (?:starting up|shutting down)|Can't reach database server|timed out fetching a new connection/i;

export function isDatabaseUnreachable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if ((typeof code === 'string' && UNREACHABLE.test(code)) || (typeof message === 'string' && UNREACHABLE.test(message))) return true;
  }
  return false;
}

/**
 * Recounts the run's progress from its rows and sets `fields`, writing the run's row only when
 * something differs: a redelivered message must leave even its `updated_at` as it was. Counting
 * costs time in proportion to the run's size, so it runs once, when the counts say the run is complete.
 */
async function recount(
  tx: Tx,
  runId: string,
  fields: { executionProvider?: string; scorerVersion?: string } = {},
): Promise<{ imagesEvaluated: number; imagesTotal: number }> {
  const [imagesGenerated, imagesEvaluated, run] = await Promise.all([
    tx.image.count({ where: { runId } }),
    tx.imageScore.count({ where: { runId } }),
    tx.run.findUniqueOrThrow({
      where: { id: runId },
      select: { imagesGenerated: true, imagesEvaluated: true, imagesTotal: true, executionProvider: true, scorerVersion: true },
    }),
  ]);
  const wanted = { imagesGenerated, imagesEvaluated, ...fields };
  if ((Object.keys(wanted) as (keyof typeof wanted)[]).some((key) => run[key] !== wanted[key])) await tx.run.update({ where: { id: runId }, data: wanted });
  return { imagesEvaluated, imagesTotal: run.imagesTotal };
}

/** What a message's writes added: new image rows and new score rows (none for a redelivered message). */
interface Added {
  images: number;
  scores: number;
}

/**
 * Adds a message's new rows to the run's progress counts and sets `fields`, in one statement that
 * writes the run's row only when something changes (a redelivered message adds nothing and leaves
 * even `updated_at` as it was). Every writer of a run's images and scores holds the run's lock and
 * comes through here, so the counts stay equal to the rows.
 */
async function addProgress(
  tx: Tx,
  runId: string,
  added: Added,
  fields: { executionProvider?: string; scorerVersion?: string } = {},
): Promise<{ imagesEvaluated: number; imagesTotal: number }> {
  const provider = fields.executionProvider ?? null;
  const scorer = fields.scorerVersion ?? null;
  const [row] = await tx.$queryRaw<{ imagesEvaluated: number; imagesTotal: number }[]>`
    WITH updated AS (
      UPDATE runs
      SET images_generated = images_generated + ${added.images}::int, images_evaluated = images_evaluated + ${added.scores}::int,
          execution_provider = coalesce(${provider}::text, execution_provider), scorer_version = coalesce(${scorer}::text, scorer_version), updated_at = now()
      WHERE id = ${runId}::uuid
        AND (${added.images}::int > 0 OR ${added.scores}::int > 0
             OR execution_provider IS DISTINCT FROM coalesce(${provider}::text, execution_provider)
             OR scorer_version IS DISTINCT FROM coalesce(${scorer}::text, scorer_version))
      RETURNING images_evaluated, images_total)
    SELECT images_evaluated AS "imagesEvaluated", images_total AS "imagesTotal" FROM updated
    UNION ALL
    SELECT images_evaluated, images_total FROM runs WHERE id = ${runId}::uuid AND NOT EXISTS (SELECT 1 FROM updated)`;
  if (!row) throw new Error(`run ${runId} vanished while its lock was held`);
  return row;
}

/** Fails the run (in the caller's transaction) with the reason, as a result the caller returns. */
async function failRun(tx: Tx, runId: string, reason: string, cause: RunFailureCause, stage: FailureStage): Promise<IngestOutcome> {
  await transition(tx, runId, 'FAILED', reason);
  return { applied: true, runId, finished: false, failed: true, cause: { reason: cause, stage } };
}

/** What follows a message that failed its run: the count, and the run's other jobs are not to run. */
async function afterRunFailed(services: IngestServices, outcome: IngestOutcome): Promise<void> {
  if (!outcome.applied || !outcome.failed) return;
  services.metrics.runFailures.inc(outcome.cause ?? { reason: 'error', stage: 'none' });
  await stopRunJobs(services, outcome.runId);
}

async function ingestGenerated(services: IngestServices, message: ImagesGenerated): Promise<IngestOutcome> {
  const { runId } = message;
  const { outcome, evaluateRound } = await services.prisma.$transaction(
    async (tx): Promise<{ outcome: IngestOutcome; evaluateRound?: number }> => {
      const run = await lockRun(tx, runId);
      if (!run) return { outcome: skipped(runId, 'the run no longer exists') };
      if (!isActive(run.status)) return { outcome: skipped(runId, `the run is ${run.status}`) };
      if (message.failures.length > 0) {
        const prompts = await tx.prompt.findMany({
          where: { id: { in: message.failures.map((f) => f.promptId) } },
          select: { id: true, externalId: true, text: true },
        });
        const byId = new Map(prompts.map((p) => [p.id, p]));
        const details = message.failures.map(
          (f) => `prompt ${byId.get(f.promptId)?.externalId ?? f.promptId} "${byId.get(f.promptId)?.text ?? '?'}": ${f.reason}`,
        );
        return {
          outcome: await failRun(
            tx,
            runId,
            `the generate stage could not generate ${details.length} prompt(s) of chunk ${message.chunk}: ${details.join('; ')}`,
            'prompts_not_generated',
            'generate',
          ),
        };
      }
      const images = message.images;
      // A redelivered message (or a retried chunk's, whose seeded images and traces are the same) leaves
      // the row, its guidance and cost included, as the first delivery wrote it. generation_ms is the
      // cost's seconds (both are the batch's wall time over its images), kept in the column it always had.
      const inserted = await tx.$executeRaw`
        INSERT INTO images (run_id, prompt_id, image_index, artifact_key, width, height, generation_ms, unet_evaluations, backward_passes, device, guidance)
        SELECT ${runId}::uuid, u.prompt_id, u.image_index, u.artifact_key, u.width, u.height, u.generation_ms, u.unet_evaluations, u.backward_passes,
               ${message.device}::text, u.guidance::jsonb
        FROM unnest(${images.map((i) => i.promptId)}::uuid[], ${images.map((i) => i.imageIndex)}::int[], ${images.map((i) => i.artifactKey)}::text[],
                    ${images.map((i) => i.width)}::int[], ${images.map((i) => i.height)}::int[], ${images.map((i) => Math.round(i.ms))}::int[],
                    ${images.map((i) => i.cost?.unet_evaluations ?? null)}::int[], ${images.map((i) => i.cost?.backward_passes ?? null)}::int[],
                    ${images.map((i) => (i.guidance ? JSON.stringify(i.guidance) : null))}::text[])
             AS u(prompt_id, image_index, artifact_key, width, height, generation_ms, unet_evaluations, backward_passes, guidance)
        ON CONFLICT (run_id, prompt_id, image_index) DO NOTHING`;
      await advanceTo(tx, run, 'GENERATING');
      await addProgress(tx, runId, { images: inserted, scores: 0 }, { executionProvider: message.device });
      return { outcome: { applied: true, runId, finished: false, failed: false }, evaluateRound: await currentRound(tx, runId) };
    },
    { timeout: TRANSACTION_TIMEOUT_MS },
  );
  if (evaluateRound === undefined) return outcome;

  // After the commit, so that an evaluate result never arrives for images the database lacks. On
  // redelivery this adds nothing (same job id); if Redis fails here the message fails and is retried.
  const loaded = await loadJobRun(services.prisma, runId);
  if (!loaded) return outcome;
  const prompts = await services.prisma.prompt.findMany({
    where: { id: { in: [...new Set(message.images.map((i) => i.promptId))] } },
    orderBy: { externalId: 'asc' },
    select: { id: true, externalId: true, text: true, objects: true, relation: true, metadata: true },
  });
  const order = new Map(prompts.map((p, i) => [p.id, i]));
  const images = [...message.images].sort((a, b) => order.get(a.promptId)! - order.get(b.promptId)! || a.imageIndex - b.imageIndex);
  await enqueueChunk(services, loaded.run, { chunk: message.chunk, stage: 'evaluate', images }, prompts, evaluateRound);
  return outcome;
}

function isUnscored(image: ImagesEvaluated['images'][number]): boolean {
  return !image.score.scored || image.score.correct === null || image.score.value === null;
}

/**
 * Applies ImagesEvaluated messages of one run (one, or a batch that RunBatches gathered) in one
 * transaction: the run's lock, its image set, the prompts, one statement that writes the images,
 * detections and scores of all of them, and the progress counts.
 */
async function ingestEvaluated(services: IngestServices, messages: readonly ImagesEvaluated[]): Promise<IngestOutcome> {
  const { runId } = messages[0];
  if (messages.some((m) => m.runId !== runId)) throw new Error('ingestEvaluated: a batch holds messages of one run only');
  return services.prisma.$transaction(
    async (tx) => {
      const run = await lockRun(tx, runId);
      if (!run) return skipped(runId, 'the run no longer exists');
      if (!isActive(run.status)) return skipped(runId, `the run is ${run.status}`);
      const [meta] = await tx.$queryRaw<{ prefix: string | null }[]>`
        SELECT s.artifact_prefix AS prefix FROM runs r LEFT JOIN image_sets s ON s.id = r.image_set_id WHERE r.id = ${runId}::uuid`;
      const images = messages.flatMap((m) => m.images);
      const prompts = await tx.prompt.findMany({ where: { id: { in: [...new Set(images.map((i) => i.promptId))] } }, select: { id: true, externalId: true } });
      const externalId = new Map(prompts.map((p) => [p.id, p.externalId]));
      const missing = images.find((i) => !externalId.has(i.promptId));
      if (missing) throw new UnrecoverableError(`ImagesEvaluated for run ${runId}: prompt ${missing.promptId} does not exist`);
      // Planning leaves out the prompts a benchmark does not score, so every image here must have a
      // score; one without would keep the run from ever counting as complete.
      const unscored = images.find(isUnscored);
      if (unscored) {
        const why = unscored.score.reason ?? 'no reason given';
        return failRun(
          tx,
          runId,
          `image ${unscored.imageIndex} of prompt ${externalId.get(unscored.promptId)} came back unscored (${why}): the workers and the API disagree about which prompts the benchmark scores; run the same version of both, then retryRun`,
          'unscored_image',
          'evaluate',
        );
      }

      // Uploaded images get their row now (generated ones have it already): the key follows from the
      // image set's naming, `{ID}_{K}.png`, which planning required of the set.
      if (!meta?.prefix)
        return failRun(tx, runId, 'the image set of the run was deleted while it was being evaluated; submit it again', 'image_set_deleted', 'evaluate');
      const prefix = meta.prefix;
      // Detections name their image by its 1-based position in the message (`n` of the input below).
      const detections = images.flatMap((image, i) => image.detections.map((d, ordinal) => ({ n: i + 1, ordinal, ...d })));
      // One statement for images, detections and scores. Its snapshot predates its own inserts, so an
      // image's id comes from new_images when this message created the row and from images when it was
      // there already (generated, or a redelivery).
      const [written] = await tx.$queryRaw<Added[]>`
        WITH input AS (
          SELECT * FROM unnest(${images.map((i) => i.promptId)}::uuid[], ${images.map((i) => i.imageIndex)}::int[],
                               ${images.map((i) => imageKey(prefix, externalId.get(i.promptId)!, i.imageIndex))}::text[],
                               ${images.map((i) => i.width)}::int[], ${images.map((i) => i.height)}::int[],
                               ${images.map((i) => i.score.correct!)}::boolean[], ${images.map((i) => i.score.value!)}::float8[],
                               ${images.map((i) => i.score.reason)}::text[], ${images.map((i) => JSON.stringify(i.score.details))}::text[])
               WITH ORDINALITY AS u(prompt_id, image_index, artifact_key, width, height, correct, score, reason, details, n)
        ),
        new_images AS (
          INSERT INTO images (run_id, prompt_id, image_index, artifact_key, width, height)
          SELECT ${runId}::uuid, prompt_id, image_index, artifact_key, width, height FROM input
          ON CONFLICT (run_id, prompt_id, image_index) DO NOTHING
          RETURNING id, prompt_id, image_index
        ),
        keyed AS (
          SELECT u.n, u.correct, u.score, u.reason, u.details, coalesce(ni.id, i.id) AS image_id
          FROM input u
          LEFT JOIN new_images ni ON ni.prompt_id = u.prompt_id AND ni.image_index = u.image_index
          LEFT JOIN images i ON i.run_id = ${runId}::uuid AND i.prompt_id = u.prompt_id AND i.image_index = u.image_index
        ),
        new_detections AS (
          INSERT INTO detections (image_id, ordinal, label, score, x0, y0, x1, y1)
          SELECT k.image_id, d.ordinal, d.label, d.score, d.x0, d.y0, d.x1, d.y1
          FROM unnest(${detections.map((d) => d.n)}::int[], ${detections.map((d) => d.ordinal)}::int[], ${detections.map((d) => d.label)}::text[],
                      ${detections.map((d) => d.score)}::float8[], ${detections.map((d) => d.box[0])}::float8[], ${detections.map((d) => d.box[1])}::float8[],
                      ${detections.map((d) => d.box[2])}::float8[], ${detections.map((d) => d.box[3])}::float8[])
               AS d(n, ordinal, label, score, x0, y0, x1, y1)
          JOIN keyed k ON k.n = d.n
          ON CONFLICT (image_id, ordinal) DO NOTHING
        ),
        new_scores AS (
          INSERT INTO image_scores (image_id, run_id, correct, score, reason, details)
          SELECT image_id, ${runId}::uuid, correct, score, reason, details::jsonb FROM keyed
          ON CONFLICT (image_id) DO NOTHING
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM new_images)::int AS images, (SELECT count(*) FROM new_scores)::int AS scores`;
      await advanceTo(tx, run, 'EVALUATING');
      let progress = await addProgress(tx, runId, written, { scorerVersion: messages.at(-1)!.scorerVersion });
      if (progress.imagesEvaluated < progress.imagesTotal) return { applied: true, runId, finished: false, failed: false };
      // Complete by the counts; whether it is complete is decided by counting the rows themselves.
      progress = await recount(tx, runId);
      if (progress.imagesEvaluated < progress.imagesTotal) return { applied: true, runId, finished: false, failed: false };
      await finishRun(tx, runId);
      const after = await tx.run.findUniqueOrThrow({ where: { id: runId }, select: { status: true } });
      const failed = after.status === 'FAILED';
      return {
        applied: true,
        runId,
        finished: after.status === 'FINISHED',
        failed,
        ...(failed && { cause: { reason: 'aggregates_failed', stage: 'evaluate' } as const }),
      };
    },
    { timeout: TRANSACTION_TIMEOUT_MS },
  );
}

async function ingestFailed(services: IngestServices, message: ChunkFailed): Promise<IngestOutcome> {
  const { runId } = message;
  return services.prisma.$transaction(async (tx): Promise<IngestOutcome> => {
    const run = await lockRun(tx, runId);
    if (!run) return skipped(runId, 'the run no longer exists');
    if (!isActive(run.status)) return skipped(runId, `the run is ${run.status}`);
    const round = await currentRound(tx, runId);
    if (message.round < round) return skipped(runId, `the failure is of round ${message.round}; the run was retried since (round ${round})`);
    return failRun(
      tx,
      runId,
      `${message.stage} of chunk ${message.chunk} failed (attempt ${message.attempt} of ${message.attempts}): ${message.reason}`,
      chunkFailureCause(message.reason, message.attempt, message.attempts),
      message.stage,
    );
  });
}

/** Applies one result message (already parsed). Exported for tests that deliver messages directly. */
export async function ingest(services: IngestServices, message: ResultMessage): Promise<IngestOutcome> {
  const outcome = await (message.type === 'ImagesGenerated'
    ? ingestGenerated(services, message)
    : message.type === 'ImagesEvaluated'
      ? ingestEvaluated(services, [message])
      : ingestFailed(services, message));
  await afterRunFailed(services, outcome);
  return outcome;
}

/** The most images one batch of ImagesEvaluated messages writes in one transaction. */
export const MAX_BATCH_IMAGES = 2000;

interface Waiting {
  message: ResultMessage;
  resolve(outcome: IngestOutcome): void;
  reject(err: unknown): void;
}

/**
 * Applies the messages a process takes, one run's at a time. A run's messages would apply one at a
 * time anyway (each takes the run's lock), but waiting for it in PostgreSQL would hold a connection
 * per message; here they wait in memory, so an ingester uses at most one connection per run. And
 * the ImagesEvaluated messages that wait for a turn are written together, in one transaction (up to
 * MAX_BATCH_IMAGES images): group commit, paying a message's fixed cost (transaction, lock,
 * statements, planning) once per batch. Every job still gets its own answer: a batch that fails is
 * applied again message by message, so a bad message fails alone; an unreachable database delays
 * every message of the batch.
 */
export class RunBatches {
  private readonly waiting = new Map<string, Waiting[]>();

  constructor(private readonly services: IngestServices) {}

  /** Resolves once the message is applied (alone or in a batch), with the outcome of that transaction. */
  apply(message: ResultMessage): Promise<IngestOutcome> {
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(message.runId);
      if (queue) {
        queue.push({ message, resolve, reject });
        return;
      }
      this.waiting.set(message.runId, [{ message, resolve, reject }]);
      void this.drain(message.runId);
    });
  }

  private async drain(runId: string): Promise<void> {
    const queue = this.waiting.get(runId)!;
    while (queue.length > 0) {
      // In order: the ImagesEvaluated messages at the front, up to the image limit, or the one other message there.
      const imagesOf = (w: Waiting | undefined) => (w?.message.type === 'ImagesEvaluated' ? w.message.images.length : null);
      let n = 1;
      let images = imagesOf(queue[0]);
      if (images !== null) {
        for (let size = imagesOf(queue[n]); size !== null && images + size <= MAX_BATCH_IMAGES; size = imagesOf(queue[n])) {
          images += size;
          n++;
        }
      }
      await this.write(queue.splice(0, n));
    }
    this.waiting.delete(runId);
  }

  private async write(batch: Waiting[]): Promise<void> {
    const messages = batch.map((w) => w.message).filter((m): m is ImagesEvaluated => m.type === 'ImagesEvaluated');
    // A message with an unscored image fails the run: it goes alone, so the others keep their own outcomes.
    if (batch.length > 1 && messages.length === batch.length && !messages.some((m) => m.images.some(isUnscored))) {
      let outcome: IngestOutcome | undefined;
      try {
        outcome = await ingestEvaluated(this.services, messages);
      } catch (err) {
        if (isDatabaseUnreachable(err)) {
          for (const w of batch) w.reject(err);
          return;
        }
        // Nothing of the batch was written: one at a time, each message meets its own error.
      }
      if (outcome) {
        try {
          await afterRunFailed(this.services, outcome);
          for (const w of batch) w.resolve(outcome);
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
        return;
      }
    }
    for (const w of batch) {
      try {
        w.resolve(await ingest(this.services, w.message));
      } catch (err) {
        w.reject(err);
      }
    }
  }
}

/** Result messages taken at once (ApiServerOptions.ingestConcurrency). */
export const DEFAULT_INGEST_CONCURRENCY = 16;

export interface Ingester {
  close(): Promise<void>;
}

/**
 * Starts consuming `results`. `concurrency` is how many messages are taken at once: messages of
 * different runs apply in parallel, those of one run in turn, ImagesEvaluated ones in batches
 * (RunBatches); a message waiting for its run's turn holds no database connection.
 */
export function startIngester(services: IngestServices, redisUrl: string, concurrency = DEFAULT_INGEST_CONCURRENCY): Ingester {
  const log = services.logger.child({ component: 'ingester' });
  const { metrics } = services;
  const batches = new RunBatches(services);
  const worker = new Worker(
    QUEUES.results,
    async (job: Job, token?: string) => {
      const parsed = resultMessageSchema.safeParse(job.data);
      // A malformed message will not become valid by retrying: it fails at once, kept in Redis for a person.
      if (!parsed.success) {
        metrics.resultsIngested.inc({ type: MESSAGE_TYPES.has(job.name) ? job.name : 'unknown', outcome: 'error' });
        throw new UnrecoverableError(`result message ${job.id}: ${describeZodError(parsed.error)}`);
      }
      const type = parsed.data.type;
      try {
        const outcome = await batches.apply(parsed.data);
        metrics.resultsIngested.inc({ type, outcome: outcome.applied ? 'applied' : 'skipped' });
        // job.timestamp: when the worker put the message on the queue (BullMQ sets it on add), so the
        // lag includes any wait for a database outage; the clocks of worker and API machines must agree.
        metrics.ingestionLag.observe({ type }, Math.max(0, Date.now() - job.timestamp) / 1000);
        log.info({ job: job.id, type: parsed.data.type, chunk: parsed.data.chunk, ...outcome }, outcome.applied ? 'result ingested' : 'result skipped');
        // Kept as the job's return value: where results are written (the ingest thread, never the API's main thread), at what CPU priority.
        return { ...outcome, threadId, nice: getPriority() };
      } catch (err) {
        metrics.resultsIngested.inc({ type, outcome: isDatabaseUnreachable(err) ? 'delayed' : 'error' });
        if (!isDatabaseUnreachable(err)) throw err;
        log.warn({ job: job.id, err: (err as Error).message }, `database unreachable; result delayed ${DATABASE_RETRY_DELAY_MS} ms`);
        await job.moveToDelayed(Date.now() + DATABASE_RETRY_DELAY_MS, token);
        throw new DelayedError();
      }
    },
    { connection: redisConnection(redisUrl), concurrency },
  );
  worker.on('failed', (job, err) => log.error({ job: job?.id, attempts: job?.attemptsMade, err: err.message }, 'result message failed'));
  worker.on('error', (err) => log.error({ err: err.message }, 'ingester worker error'));
  return { close: () => worker.close() };
}
