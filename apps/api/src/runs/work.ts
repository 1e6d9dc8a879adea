/**
 * Which chunks of a run still need work, from the rows the ingester wrote (never from counters), and
 * putting those chunks on the queues under the contract's deterministic job ids.
 */
import { evaluateJobId, generateJobId, isBenchmarkName, type Stage } from '@infsplign/workers/contracts';
import { enqueueEvaluate, enqueueGenerate } from '@infsplign/workers/queues';
import type { PrismaClient, RunKind } from '../generated/prisma/client.ts';
import type { FailureStage, RunFailureCause } from '../metrics.ts';
import type { Services } from '../services.ts';
import { currentRound, isActive, lockRun, transition } from './lifecycle.ts';
import {
  chunkImages,
  chunkPrompts,
  evaluateJob,
  generateJob,
  type JobRun,
  type PlannedImage,
  type PlannedPrompt,
  type PlanSource,
  type RunPlan,
} from './plan.ts';

export interface RunWork {
  run: JobRun;
  plan: RunPlan;
}

/** What a run's jobs and its plan are made from: its row with these relations (a stored run, or one being written). */
export interface JobRunRow {
  id: string;
  kind: RunKind;
  seed: number;
  imagesPerPrompt: number;
  detector: string;
  threshold: number;
  promptSetId: string;
  promptLimit: number | null;
  benchmark: { name: string };
  model: { name: string } | null;
  methodConfig: { canonicalJson: string; hash: string } | null;
  imageSet: { artifactPrefix: string } | null;
}

/** The run's job settings and what planning needs of it; null when the run does not exist. */
export async function loadJobRun(prisma: PrismaClient, runId: string): Promise<{ run: JobRun; source: PlanSource } | null> {
  const row = await prisma.run.findUnique({
    where: { id: runId },
    include: { benchmark: true, model: true, methodConfig: true, imageSet: true },
  });
  return row && jobRunOf(row);
}

/** The run's job settings and its plan's source; throws for a benchmark without a scorer or a run whose image set was deleted. */
export function jobRunOf(row: JobRunRow): { run: JobRun; source: PlanSource } {
  const runId = row.id;
  const benchmark = row.benchmark.name;
  if (!isBenchmarkName(benchmark)) throw new Error(`run ${runId}: benchmark '${benchmark}' has no scorer in this version`);
  if (!row.imageSet) throw new Error(`run ${runId}: its image set was deleted`);
  const run: JobRun = {
    id: row.id,
    benchmark,
    seed: row.seed,
    imagesPerPrompt: row.imagesPerPrompt,
    detector: row.detector,
    threshold: row.threshold,
    model: row.model?.name ?? null,
    config: row.methodConfig && { canonicalJson: row.methodConfig.canonicalJson, hash: row.methodConfig.hash },
    imageSetPrefix: row.imageSet.artifactPrefix,
  };
  const source: PlanSource = {
    kind: row.kind,
    benchmark,
    promptSetId: row.promptSetId,
    imagesPerPrompt: row.imagesPerPrompt,
    promptLimit: row.promptLimit,
    imageSetPrefix: row.imageSet.artifactPrefix,
  };
  return { run, source };
}

/** What putting chunks on the queues needs: the queues, and the device generate jobs ask for. */
export interface EnqueueDeps {
  queues: Pick<Services['queues'], 'generate' | 'evaluate'>;
  lifecycle: Pick<Services['lifecycle'], 'device'>;
}

/** A chunk that still needs a stage; `images` are what an evaluate job reads (for generate, what it will write). */
export interface PendingChunk {
  chunk: number;
  stage: Stage;
  images: PlannedImage[];
}

/**
 * The chunks whose results are not all in the database: a chunk needs `generate` while any of its
 * images has no row (GENERATE_AND_EVALUATE only), else `evaluate` while any has no score.
 */
export async function pendingChunks(prisma: PrismaClient, runId: string, { plan }: RunWork, generates: boolean): Promise<PendingChunk[]> {
  const rows = await prisma.image.findMany({
    where: { runId },
    select: { promptId: true, imageIndex: true, artifactKey: true, score: { select: { id: true } } },
  });
  const stored = new Map(rows.map((row) => [`${row.promptId}/${row.imageIndex}`, row]));
  const pending: PendingChunk[] = [];
  for (let chunk = 0; chunk < plan.chunks; chunk++) {
    const planned = chunkImages(plan, chunk);
    const present = planned.map((image) => stored.get(`${image.promptId}/${image.imageIndex}`));
    if (generates && present.some((row) => !row)) pending.push({ chunk, stage: 'generate', images: planned });
    else if (present.some((row) => !row?.score)) {
      // The keys the generate stage reported, where it did; an upload's keys follow from its names.
      const images = planned.map((image, i) => ({ ...image, artifactKey: present[i]?.artifactKey ?? image.artifactKey }));
      pending.push({ chunk, stage: 'evaluate', images });
    }
  }
  return pending;
}

/** Every chunk of a run that has no rows yet: what pendingChunks finds for it, without reading anything. */
export function newRunChunks({ plan }: RunWork, generates: boolean): PendingChunk[] {
  return Array.from({ length: plan.chunks }, (_, chunk) => ({
    chunk,
    stage: generates ? ('generate' as const) : ('evaluate' as const),
    images: chunkImages(plan, chunk),
  }));
}

export function jobIdOf(runId: string, stage: Stage, chunk: number, round: number): string {
  return stage === 'generate' ? generateJobId(runId, chunk, round) : evaluateJobId(runId, chunk, round);
}

/**
 * Puts one chunk's job on its queue (`prompts` in id order; `images` are what an evaluate job reads);
 * a job already there under the same id is left as it is.
 */
export async function enqueueChunk(services: EnqueueDeps, run: JobRun, pending: PendingChunk, prompts: readonly PlannedPrompt[], round: number): Promise<void> {
  if (pending.stage === 'generate') {
    await enqueueGenerate(services.queues.generate, generateJob(run, pending.chunk, round, prompts, services.lifecycle.device));
  } else {
    await enqueueEvaluate(services.queues.evaluate, evaluateJob(run, pending.chunk, round, prompts, pending.images));
  }
}

/** How many enqueues run at once: Redis round trips dominate, and a run may have thousands of chunks. */
const ENQUEUE_CONCURRENCY = 32;

export async function enqueueChunks(services: EnqueueDeps, work: RunWork, pending: readonly PendingChunk[], round: number): Promise<void> {
  for (let i = 0; i < pending.length; i += ENQUEUE_CONCURRENCY) {
    await Promise.all(
      pending.slice(i, i + ENQUEUE_CONCURRENCY).map((chunk) => enqueueChunk(services, work.run, chunk, chunkPrompts(work.plan, chunk.chunk), round)),
    );
  }
}

/** Chunks whose jobs are removed at once: a run of 100,000 images has 3,000 chunks, and each removal is a Redis call. */
const REMOVE_BATCH = 256;

/**
 * Removes the run's waiting and delayed chunk jobs of `round` (a running job is locked by its worker
 * and stays; the cancel marker or the ingester's status check stops its effect).
 */
export async function removeWaitingJobs(services: Pick<Services, 'queues'>, runId: string, chunks: number, round: number): Promise<void> {
  for (let start = 0; start < chunks; start += REMOVE_BATCH) {
    const removals: Promise<unknown>[] = [];
    for (let chunk = start; chunk < Math.min(chunks, start + REMOVE_BATCH); chunk++) {
      removals.push(services.queues.generate.remove(generateJobId(runId, chunk, round)), services.queues.evaluate.remove(evaluateJobId(runId, chunk, round)));
    }
    await Promise.all(removals);
  }
}

/**
 * Removes the waiting jobs of the run's current round: a FAILED or CANCELLED run's other chunks need
 * not run. Best effort: the run has stopped already, and the ingester ignores what such jobs send.
 */
export async function stopRunJobs(services: Pick<Services, 'prisma' | 'queues' | 'logger'>, runId: string): Promise<void> {
  try {
    const run = await services.prisma.run.findUnique({ where: { id: runId }, select: { chunksTotal: true } });
    if (run) await removeWaitingJobs(services, runId, run.chunksTotal, await currentRound(services.prisma, runId));
  } catch (err) {
    services.logger.warn({ run: runId, err: (err as Error).message }, 'could not remove the waiting jobs of a stopped run');
  }
}

/** Fails an unfinished run with `reason` and removes its waiting jobs; false when it had already stopped. */
export async function failActiveRun(services: Services, runId: string, reason: string, cause: RunFailureCause, stage: FailureStage = 'none'): Promise<boolean> {
  const failed = await services.prisma.$transaction(async (tx) => {
    const run = await lockRun(tx, runId);
    if (!run || !isActive(run.status)) return false;
    await transition(tx, runId, 'FAILED', reason);
    return true;
  });
  if (failed) {
    services.metrics.runFailures.inc({ reason: cause, stage });
    await stopRunJobs(services, runId);
  }
  return failed;
}

/** The FAILED reason of a run whose jobs could not be enqueued. */
export function enqueueFailure(err: unknown): string {
  return `its jobs could not be put on the queues (${(err as Error).message}); check that Redis is reachable, then retryRun`;
}
