/**
 * What a team may do to its own runs: cancel, retry, delete. Another team's run is refused with
 * FORBIDDEN before anything is written.
 */
import { markRunCancelled } from '@infsplign/workers/queues';
import { ApiError, notFound } from '../errors.ts';
import type { Run, Team } from '../generated/prisma/client.ts';
import type { Services } from '../services.ts';
import { currentRound, isActive, lockRun, transition } from './lifecycle.ts';
import { deleteCancelledArtifacts } from './cleanup.ts';
import { enqueueFailure, failActiveRun, stopRunJobs } from './work.ts';
import { finishRun } from '../ingest/finalize.ts';

/** The run, if it exists and belongs to `team`. */
export async function ownRun(services: Services, team: Team, runId: string, action: string): Promise<Run> {
  const run = await services.prisma.run.findUnique({ where: { id: runId }, include: { team: true } });
  if (!run) throw notFound(`run ${runId}`);
  if (run.teamId !== team.id) throw new ApiError('FORBIDDEN', `run ${runId} belongs to team ${run.team.name}; only that team may ${action} it`);
  return run;
}

/**
 * Stops a queued or running run: waiting jobs are removed, running ones see the cancel marker, late
 * results are ignored, and its generated images are deleted once no job of it runs (cleanup.ts).
 */
export async function cancelRun(services: Services, team: Team, runId: string): Promise<Run> {
  await ownRun(services, team, runId, 'cancel');
  await services.prisma.$transaction(async (tx) => {
    const run = await lockRun(tx, runId);
    if (!run || !isActive(run.status))
      throw new ApiError('CONFLICT', `run ${runId} is ${run?.status ?? 'gone'}; only a QUEUED, GENERATING or EVALUATING run can be cancelled`);
    await transition(tx, runId, 'CANCELLED', `cancelled by team ${team.name}`);
  });
  try {
    await markRunCancelled(services.redis, runId);
  } catch (err) {
    // The run is CANCELLED in the database whatever Redis says: the ingester drops what its jobs send.
    services.logger.warn({ run: runId, err: (err as Error).message }, 'could not set the cancel marker for running jobs');
  }
  await stopRunJobs(services, runId);
  await deleteCancelledArtifacts(services, [runId]).catch((err: Error) =>
    services.logger.warn({ run: runId, err: err.message }, 'could not delete the images of a cancelled run yet; the sweep will'),
  );
  return services.prisma.run.findUniqueOrThrow({ where: { id: runId } });
}

/**
 * Queues a FAILED run again as a new round: only the chunks whose results are missing run again
 * (what was ingested stays), and a run whose every image is already scored finishes at once.
 * A CANCELLED run is not retried: the workers' cancel marker (workers/src/jobs/cancel.ts) would stop
 * its new jobs, and there is no way to lift it yet.
 */
export async function retryRun(services: Services, team: Team, runId: string): Promise<Run> {
  const owned = await ownRun(services, team, runId, 'retry');
  if (owned.status === 'CANCELLED') throw new ApiError('CONFLICT', `run ${runId} was cancelled; submit it again with force: true`);
  const round = await services.prisma.$transaction(async (tx) => {
    const run = await lockRun(tx, runId);
    if (run?.status !== 'FAILED') throw new ApiError('CONFLICT', `run ${runId} is ${run?.status ?? 'gone'}; only a FAILED run can be retried`);
    await transition(tx, runId, 'QUEUED', `retried by team ${team.name}`);
    return currentRound(tx, runId);
  });
  let enqueued: number;
  try {
    enqueued = await services.planner.enqueue(runId, round);
  } catch (err) {
    await failActiveRun(services, runId, enqueueFailure(err), 'enqueue_failed');
    return services.prisma.run.findUniqueOrThrow({ where: { id: runId } });
  }
  if (enqueued === 0) {
    await services.prisma.$transaction(async (tx) => {
      await lockRun(tx, runId);
      await finishRun(tx, runId);
    });
  }
  return services.prisma.run.findUniqueOrThrow({ where: { id: runId } });
}

/**
 * Deletes the run's rows (events, images, detections, scores, aggregates go with it) and the images
 * it generated, unless another run (a rescore) still reads them. Uploaded image sets are the
 * uploader's, not the run's, and stay. A running run is cancelled first.
 */
export async function deleteRun(services: Services, team: Team, runId: string): Promise<{ id: string; artifactsDeleted: number }> {
  const run = await ownRun(services, team, runId, 'delete');
  if (isActive(run.status))
    await cancelRun(services, team, runId).catch((err) => {
      // Finished between the two reads: deleting is still what was asked.
      if (!(err instanceof ApiError)) throw err;
    });
  const imageSet = run.imageSetId ? await services.prisma.imageSet.findUnique({ where: { id: run.imageSetId } }) : null;
  await services.prisma.run.delete({ where: { id: runId } });
  if (!imageSet || imageSet.kind !== 'GENERATED') return { id: runId, artifactsDeleted: 0 };
  if ((await services.prisma.run.count({ where: { imageSetId: imageSet.id } })) > 0) return { id: runId, artifactsDeleted: 0 };
  await services.prisma.imageSet.delete({ where: { id: imageSet.id } });
  const artifactsDeleted = await services.store.delete(imageSet.artifactPrefix);
  return { id: runId, artifactsDeleted };
}
