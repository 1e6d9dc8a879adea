/**
 * The ingester: a BullMQ worker on `results` that writes what the workers report. Every write is an
 * insert that does nothing when its key (run, prompt, image index; image and detection ordinal;
 * image's score) already has a row, and every count is recounted from the rows, so a message
 * delivered twice changes nothing. Each message is one transaction holding the run's row lock, so
 * messages of one run apply one at a time, and a status only moves forward.
 *
 * A database that cannot be reached delays the message (without using up its attempts) instead of
 * failing it, so results wait out an outage of any length.
 */
import { QUEUES, resultMessageSchema, type ChunkFailed, type ImagesEvaluated, type ImagesGenerated, type ResultMessage } from '@infsplign/workers/contracts/jobs.ts';
import { redisConnection } from '@infsplign/workers/jobs/queues.ts';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { describeZodError } from '@infsplign/workers/util/read-data-file.ts';
import { imageKey } from '../runs/plan.ts';
import { advanceTo, currentRound, isActive, lockRun, transition, type Tx } from '../runs/lifecycle.ts';
import { enqueueChunk, loadJobRun, stopRunJobs } from '../runs/work.ts';
import type { Services } from '../services.ts';
import { finishRun } from './finalize.ts';

/** How long a message waits before it is tried again while the database is unreachable. */
export const DATABASE_RETRY_DELAY_MS = 5000;
/** Long enough to finish a run of a full benchmark (scoring 100k+ images with bootstrap intervals). */
const TRANSACTION_TIMEOUT_MS = 5 * 60 * 1000;

/** What a message did, for the log and for the tests. */
export type IngestOutcome =
  | { applied: true; runId: string; finished: boolean; failed: boolean }
  | { applied: false; runId: string; why: string };

function skipped(runId: string, why: string): IngestOutcome {
  return { applied: false, runId, why };
}

/** Node and pg codes and messages of a connection that failed or was cut, anywhere in the cause chain. */
const UNREACHABLE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|57P01|57P03|08\d{3}|Connection terminated|connection (?:is )?(?:closed|refused|timed out)|terminating connection|database system is (?:starting up|shutting down)|Can't reach database server|timed out fetching a new connection/i;

export function isDatabaseUnreachable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if ((typeof code === 'string' && UNREACHABLE.test(code)) || (typeof message === 'string' && UNREACHABLE.test(message))) return true;
  }
  return false;
}

/**
 * Recounts the run's progress from its rows and sets `fields`, writing the run's row only when
 * something differs: a redelivered message must leave even its `updated_at` as it was.
 */
async function recount(tx: Tx, runId: string, fields: { executionProvider?: string; scorerVersion?: string } = {}): Promise<{ imagesEvaluated: number; imagesTotal: number }> {
  const [imagesGenerated, imagesEvaluated, run] = await Promise.all([
    tx.image.count({ where: { runId } }),
    tx.imageScore.count({ where: { runId } }),
    tx.run.findUniqueOrThrow({ where: { id: runId }, select: { imagesGenerated: true, imagesEvaluated: true, imagesTotal: true, executionProvider: true, scorerVersion: true } }),
  ]);
  const wanted = { imagesGenerated, imagesEvaluated, ...fields };
  if ((Object.keys(wanted) as (keyof typeof wanted)[]).some((key) => run[key] !== wanted[key])) await tx.run.update({ where: { id: runId }, data: wanted });
  return { imagesEvaluated, imagesTotal: run.imagesTotal };
}

/** Fails the run (in the caller's transaction) with the reason, as a result the caller returns. */
async function failRun(tx: Tx, runId: string, reason: string): Promise<IngestOutcome> {
  await transition(tx, runId, 'FAILED', reason);
  return { applied: true, runId, finished: false, failed: true };
}

async function ingestGenerated(services: Services, message: ImagesGenerated): Promise<IngestOutcome> {
  const { runId } = message;
  const { outcome, evaluateRound } = await services.prisma.$transaction(
    async (tx): Promise<{ outcome: IngestOutcome; evaluateRound?: number }> => {
      const run = await lockRun(tx, runId);
      if (!run) return { outcome: skipped(runId, 'the run no longer exists') };
      if (!isActive(run.status)) return { outcome: skipped(runId, `the run is ${run.status}`) };
      if (message.failures.length > 0) {
        const prompts = await tx.prompt.findMany({ where: { id: { in: message.failures.map((f) => f.promptId) } }, select: { id: true, externalId: true, text: true } });
        const byId = new Map(prompts.map((p) => [p.id, p]));
        const details = message.failures.map((f) => `prompt ${byId.get(f.promptId)?.externalId ?? f.promptId} "${byId.get(f.promptId)?.text ?? '?'}": ${f.reason}`);
        return { outcome: await failRun(tx, runId, `the generate stage could not generate ${details.length} prompt(s) of chunk ${message.chunk}: ${details.join('; ')}`) };
      }
      const images = message.images;
      await tx.$executeRaw`
        INSERT INTO images (run_id, prompt_id, image_index, artifact_key, width, height, generation_ms)
        SELECT ${runId}::uuid, u.prompt_id, u.image_index, u.artifact_key, u.width, u.height, u.generation_ms
        FROM unnest(${images.map((i) => i.promptId)}::uuid[], ${images.map((i) => i.imageIndex)}::int[], ${images.map((i) => i.artifactKey)}::text[],
                    ${images.map((i) => i.width)}::int[], ${images.map((i) => i.height)}::int[], ${images.map((i) => Math.round(i.ms))}::int[])
             AS u(prompt_id, image_index, artifact_key, width, height, generation_ms)
        ON CONFLICT (run_id, prompt_id, image_index) DO NOTHING`;
      await advanceTo(tx, run, 'GENERATING');
      await recount(tx, runId, { executionProvider: message.device });
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

async function ingestEvaluated(services: Services, message: ImagesEvaluated): Promise<IngestOutcome> {
  const { runId } = message;
  return services.prisma.$transaction(
    async (tx) => {
      const run = await lockRun(tx, runId);
      if (!run) return skipped(runId, 'the run no longer exists');
      if (!isActive(run.status)) return skipped(runId, `the run is ${run.status}`);
      const meta = await tx.run.findUniqueOrThrow({ where: { id: runId }, select: { imageSet: { select: { artifactPrefix: true } } } });
      const prompts = await tx.prompt.findMany({ where: { id: { in: [...new Set(message.images.map((i) => i.promptId))] } }, select: { id: true, externalId: true } });
      const externalId = new Map(prompts.map((p) => [p.id, p.externalId]));
      const images = message.images;
      const missing = images.find((i) => !externalId.has(i.promptId));
      if (missing) throw new UnrecoverableError(`ImagesEvaluated for run ${runId}: prompt ${missing.promptId} does not exist`);
      // Planning leaves out the prompts a benchmark does not score, so every image here must have a
      // score; one without would keep the run from ever counting as complete.
      const unscored = images.find((i) => !i.score.scored || i.score.correct === null || i.score.value === null);
      if (unscored) {
        const why = unscored.score.reason ?? 'no reason given';
        return failRun(tx, runId, `image ${unscored.imageIndex} of prompt ${externalId.get(unscored.promptId)} came back unscored (${why}): the workers and the API disagree about which prompts the benchmark scores; run the same version of both, then retryRun`);
      }

      // Uploaded images get their row now (generated ones have it already): the key follows from the
      // image set's naming, `{ID}_{K}.png`, which planning required of the set.
      if (!meta.imageSet) return failRun(tx, runId, 'the image set of the run was deleted while it was being evaluated; submit it again');
      const prefix = meta.imageSet.artifactPrefix;
      await tx.$executeRaw`
        INSERT INTO images (run_id, prompt_id, image_index, artifact_key, width, height)
        SELECT ${runId}::uuid, u.prompt_id, u.image_index, u.artifact_key, u.width, u.height
        FROM unnest(${images.map((i) => i.promptId)}::uuid[], ${images.map((i) => i.imageIndex)}::int[],
                    ${images.map((i) => imageKey(prefix, externalId.get(i.promptId)!, i.imageIndex))}::text[],
                    ${images.map((i) => i.width)}::int[], ${images.map((i) => i.height)}::int[])
             AS u(prompt_id, image_index, artifact_key, width, height)
        ON CONFLICT (run_id, prompt_id, image_index) DO NOTHING`;
      const rows = await tx.image.findMany({ where: { runId, promptId: { in: prompts.map((p) => p.id) } }, select: { id: true, promptId: true, imageIndex: true } });
      const imageId = new Map(rows.map((row) => [`${row.promptId}/${row.imageIndex}`, row.id]));
      const idOf = (i: (typeof images)[number]) => imageId.get(`${i.promptId}/${i.imageIndex}`)!;

      const detections = images.flatMap((image) => image.detections.map((d, ordinal) => ({ imageId: idOf(image), ordinal, ...d })));
      if (detections.length > 0) {
        await tx.$executeRaw`
          INSERT INTO detections (image_id, ordinal, label, score, x0, y0, x1, y1)
          SELECT * FROM unnest(${detections.map((d) => d.imageId)}::uuid[], ${detections.map((d) => d.ordinal)}::int[], ${detections.map((d) => d.label)}::text[],
                               ${detections.map((d) => d.score)}::float8[], ${detections.map((d) => d.box[0])}::float8[], ${detections.map((d) => d.box[1])}::float8[],
                               ${detections.map((d) => d.box[2])}::float8[], ${detections.map((d) => d.box[3])}::float8[])
          ON CONFLICT (image_id, ordinal) DO NOTHING`;
      }
      await tx.$executeRaw`
        INSERT INTO image_scores (image_id, run_id, correct, score, reason, details)
        SELECT u.image_id, ${runId}::uuid, u.correct, u.score, u.reason, u.details::jsonb
        FROM unnest(${images.map(idOf)}::uuid[], ${images.map((i) => i.score.correct!)}::boolean[], ${images.map((i) => i.score.value!)}::float8[],
                    ${images.map((i) => i.score.reason)}::text[], ${images.map((i) => JSON.stringify(i.score.details))}::text[])
             AS u(image_id, correct, score, reason, details)
        ON CONFLICT (image_id) DO NOTHING`;
      await advanceTo(tx, run, 'EVALUATING');
      const { imagesEvaluated, imagesTotal } = await recount(tx, runId, { scorerVersion: message.scorerVersion });
      if (imagesEvaluated < imagesTotal) return { applied: true, runId, finished: false, failed: false };
      await finishRun(tx, runId);
      const after = await tx.run.findUniqueOrThrow({ where: { id: runId }, select: { status: true } });
      return { applied: true, runId, finished: after.status === 'FINISHED', failed: after.status === 'FAILED' };
    },
    { timeout: TRANSACTION_TIMEOUT_MS },
  );
}

async function ingestFailed(services: Services, message: ChunkFailed): Promise<IngestOutcome> {
  const { runId } = message;
  return services.prisma.$transaction(async (tx): Promise<IngestOutcome> => {
    const run = await lockRun(tx, runId);
    if (!run) return skipped(runId, 'the run no longer exists');
    if (!isActive(run.status)) return skipped(runId, `the run is ${run.status}`);
    const round = await currentRound(tx, runId);
    if (message.round < round) return skipped(runId, `the failure is of round ${message.round}; the run was retried since (round ${round})`);
    return failRun(tx, runId, `${message.stage} of chunk ${message.chunk} failed (attempt ${message.attempt} of ${message.attempts}): ${message.reason}`);
  });
}

/** Applies one result message (already parsed). Exported for tests that deliver messages directly. */
export async function ingest(services: Services, message: ResultMessage): Promise<IngestOutcome> {
  const outcome = await (message.type === 'ImagesGenerated' ? ingestGenerated(services, message) : message.type === 'ImagesEvaluated' ? ingestEvaluated(services, message) : ingestFailed(services, message));
  if (outcome.applied && outcome.failed) await stopRunJobs(services, message.runId);
  return outcome;
}

export interface Ingester {
  close(): Promise<void>;
}

/** Starts consuming `results`. */
export function startIngester(services: Services, redisUrl: string, concurrency = 4): Ingester {
  const log = services.logger.child({ component: 'ingester' });
  const worker = new Worker(
    QUEUES.results,
    async (job: Job, token?: string) => {
      const parsed = resultMessageSchema.safeParse(job.data);
      // A malformed message will not become valid by retrying: it fails at once, kept in Redis for a person.
      if (!parsed.success) throw new UnrecoverableError(`result message ${job.id}: ${describeZodError(parsed.error)}`);
      try {
        const outcome = await ingest(services, parsed.data);
        log.info({ job: job.id, type: parsed.data.type, chunk: parsed.data.chunk, ...outcome }, outcome.applied ? 'result ingested' : 'result skipped');
        return outcome;
      } catch (err) {
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
