/**
 * Keeping PostgreSQL (what runs need) and Redis (what is queued) in agreement.
 *
 * Reconciliation: for every unfinished run, each chunk whose results are not all in the database
 * and that has neither a live job (waiting, delayed, active) nor a result waiting on `results` is
 * enqueued again. After Redis lost its data this re-creates every missing job; otherwise it adds
 * nothing. A chunk job that failed for good fails its run with the job's reason, in case its
 * ChunkFailed message was lost.
 *
 * The timeout sweep: a run with no progress for `failAfterMs` (no result of any kind) is failed
 * with a reason saying what waits where, so that nothing hangs for ever.
 */
import { resultJobId, type ResultMessage, type Stage } from '@infsplign/workers/contracts';
import type { JobState } from 'bullmq';
import { chunkFailureCause, type RunFailureCause } from '../metrics.ts';
import type { Services } from '../services.ts';
import { ACTIVE_STATUSES, currentRound } from './lifecycle.ts';
import type { ChunkRef } from './planner.ts';
import { failActiveRun, jobIdOf } from './work.ts';

const LIVE: ReadonlySet<JobState | 'unknown'> = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);

/** The id of the result a chunk's stage sends; only its identifying fields matter to `resultJobId`. */
function resultIdOf(runId: string, stage: Stage, chunk: number, round: number): string {
  const type = stage === 'generate' ? 'ImagesGenerated' : 'ImagesEvaluated';
  return resultJobId({ type, runId, chunk, round } as ResultMessage);
}

export interface ReconcileReport {
  runs: number;
  reenqueued: number;
  failed: number;
}

export async function reconcile(services: Services): Promise<ReconcileReport> {
  const log = services.logger.child({ component: 'reconcile' });
  const runs = await services.prisma.run.findMany({ where: { status: { in: [...ACTIVE_STATUSES] } }, select: { id: true } });
  const report: ReconcileReport = { runs: runs.length, reenqueued: 0, failed: 0 };
  for (const { id } of runs) {
    const round = await currentRound(services.prisma, id);
    const missing: ChunkRef[] = [];
    let failure: { reason: string; cause: RunFailureCause; stage: Stage } | null = null;
    // Planned in the planning thread; the checks against the queues are Redis calls, each awaited.
    for (const pending of await services.planner.pending(id)) {
      const queue = services.queues[pending.stage];
      const jobId = jobIdOf(id, pending.stage, pending.chunk, round);
      const state = await queue.getJobState(jobId);
      if (LIVE.has(state)) continue;
      if (LIVE.has(await services.queues.results.getJobState(resultIdOf(id, pending.stage, pending.chunk, round)))) continue;
      if (state === 'failed') {
        const job = await queue.getJob(jobId);
        const failedReason = job?.failedReason ?? 'no reason recorded';
        // BullMQ keeps a job as failed only once it will not be retried: permanent unless its attempts ran out.
        failure = {
          reason: `${pending.stage} of chunk ${pending.chunk} failed: ${failedReason}`,
          cause: chunkFailureCause(failedReason, job?.attemptsMade ?? 1, job?.opts.attempts ?? 1),
          stage: pending.stage,
        };
        break;
      }
      // A completed job whose result never reached the database (lost with Redis' data): it must run
      // again, and BullMQ ignores an add under an id it still holds.
      if (state === 'completed') await queue.remove(jobId);
      missing.push(pending);
    }
    if (failure) {
      if (await failActiveRun(services, id, failure.reason, failure.cause, failure.stage)) report.failed++;
      continue;
    }
    if (missing.length === 0) continue;
    await services.planner.enqueue(id, round, missing);
    report.reenqueued += missing.length;
    log.info({ run: id, round, chunks: missing.map((m) => `${m.stage}:${m.chunk}`) }, 're-enqueued chunks with no job and no result');
  }
  return report;
}

/** Fails unfinished runs with no progress for longer than the limit; returns how many. */
export async function sweepStalledRuns(services: Services, now = new Date()): Promise<number> {
  const { failAfterMs } = services.lifecycle;
  const stalled = await services.prisma.run.findMany({
    where: { status: { in: [...ACTIVE_STATUSES] }, updatedAt: { lt: new Date(now.getTime() - failAfterMs) } },
    select: { id: true, status: true },
  });
  let failed = 0;
  for (const run of stalled) {
    const stage = run.status === 'EVALUATING' ? 'evaluate' : 'generate';
    const counts = await services.queues[stage].getJobCounts('waiting', 'active', 'delayed');
    const hours = (failAfterMs / 3600_000).toFixed(1);
    const reason =
      `no result for ${hours} h while ${run.status} (the ${stage} queue has ${counts.waiting} waiting, ${counts.active} active, ${counts.delayed} delayed jobs): ` +
      `its jobs waited or ran past the limit; check that workers take the ${stage} queue (npm run worker -- --queues ${stage}) and what queueHealth reports, then retryRun`;
    if (await failActiveRun(services, run.id, reason, 'no_progress', stage)) failed++;
  }
  return failed;
}
