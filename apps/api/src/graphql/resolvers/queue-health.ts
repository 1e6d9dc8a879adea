/** queueHealth: job counts per queue, the age of the oldest waiting job, and runs that need a person. */
import type { Queue } from 'bullmq';
import { ACTIVE_STATUSES } from '../../runs/lifecycle.ts';
import type { RequestContext } from '../context.ts';
import { RUN_INCLUDE } from '../rows.ts';

/** How many recent FAILED runs queueHealth lists. */
const FAILED_RUNS_SHOWN = 20;

/** One queue's counts; /metrics reports the same (metrics.ts). */
export async function queueCounts(queue: Queue, now: number) {
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'failed', 'delayed');
  // Oldest first: the job that has waited longest.
  const [oldest] = await queue.getJobs(['waiting', 'prioritized'], 0, 0, true);
  return {
    name: queue.name,
    waiting: counts.waiting + counts.prioritized,
    active: counts.active,
    failed: counts.failed,
    delayed: counts.delayed,
    oldestWaitingSeconds: oldest ? Math.max(0, (now - oldest.timestamp) / 1000) : null,
  };
}

export const queueHealthResolvers = {
  Query: {
    async queueHealth(_: unknown, __: unknown, { services }: RequestContext) {
      const now = Date.now();
      const { generate, evaluate, results } = services.queues;
      const stuckBefore = new Date(now - services.lifecycle.stuckAfterMs);
      const [queues, stuck, failed] = await Promise.all([
        Promise.all([generate, evaluate, results].map((queue) => queueCounts(queue, now))),
        services.prisma.run.findMany({
          where: { status: { in: [...ACTIVE_STATUSES] }, updatedAt: { lt: stuckBefore } },
          orderBy: { updatedAt: 'asc' },
          include: RUN_INCLUDE,
        }),
        services.prisma.run.findMany({ where: { status: 'FAILED' }, orderBy: { failedAt: 'desc' }, take: FAILED_RUNS_SHOWN, include: RUN_INCLUDE }),
      ]);
      return {
        queues,
        stuckRuns: stuck.map((run) => ({
          run,
          reason: `no progress for ${Math.round((now - run.updatedAt.getTime()) / 60_000)} min while ${run.status} (${run.imagesEvaluated} of ${run.imagesTotal} images scored); it is failed after ${(services.lifecycle.failAfterMs / 3600_000).toFixed(1)} h without progress`,
        })),
        failedRuns: failed.map((run) => ({ run, reason: run.errorReason ?? 'no reason recorded' })),
      };
    },
  },
};
