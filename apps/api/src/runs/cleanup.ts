/**
 * A cancelled run's generated images are deleted from the artifact store (and so stop being served)
 * once none of its generate jobs is running: a running job may still be writing PNGs, which would
 * outlive a deletion made under it. cancelRun tries at once; the API's sweep (server.ts) retries every
 * minute until the run's jobs have stopped. The run's rows stay, as its record.
 */
import type { Services } from '../services.ts';

/** Runs looked at per sweep: the rest wait for the next one. */
const SWEEP_BATCH = 100;

/** The runs whose generate jobs are running now (a handful: as many as the workers' slots). */
async function runsWithActiveJobs(services: Services): Promise<Set<string>> {
  const active = await services.queues.generate.getJobs(['active']);
  return new Set(active.map((job) => (job?.data as { runId?: string } | undefined)?.runId).filter((id): id is string => typeof id === 'string'));
}

/**
 * Deletes the generated images of CANCELLED runs (those of `runIds`, or any) whose generate jobs have
 * all stopped, and marks them done; answers how many runs were cleaned. Images another run reads
 * (none can: only FINISHED runs are rescored) would be left alone.
 */
export async function deleteCancelledArtifacts(services: Services, runIds?: readonly string[]): Promise<number> {
  const runs = await services.prisma.run.findMany({
    where: { status: 'CANCELLED', kind: 'GENERATE_AND_EVALUATE', artifactsDeletedAt: null, ...(runIds && { id: { in: [...runIds] } }) },
    select: { id: true, imageSet: { select: { id: true, kind: true, artifactPrefix: true } } },
    take: SWEEP_BATCH,
  });
  if (runs.length === 0) return 0;
  const busy = await runsWithActiveJobs(services);
  let cleaned = 0;
  for (const run of runs) {
    if (busy.has(run.id)) continue;
    const set = run.imageSet;
    if (set?.kind === 'GENERATED' && (await services.prisma.run.count({ where: { imageSetId: set.id, id: { not: run.id } } })) === 0) {
      const deleted = await services.store.delete(set.artifactPrefix);
      services.logger.info({ run: run.id, deleted }, 'deleted the images of a cancelled run');
    }
    await services.prisma.run.update({ where: { id: run.id }, data: { artifactsDeletedAt: new Date() } });
    cleaned++;
  }
  return cleaned;
}
