/**
 * A run's baseline: the most recently finished baseline run with the same benchmark, prompt set, model,
 * detector, threshold, seed, images per prompt and prompt limit, i.e. differing only in the method and
 * its parameters. The leaderboard matches rows on its board (baselineKey); a run page asks for one run's.
 */
import type { PrismaClient } from '../generated/prisma/client.ts';
import { RUN_INCLUDE, type RunRow } from '../graphql/rows.ts';

/** The run fields a baseline must share with the run it is the baseline of. */
const MATCHED = ['benchmarkId', 'promptSetId', 'modelId', 'detector', 'threshold', 'seed', 'imagesPerPrompt', 'promptLimit'] as const;

export const isBaseline = (run: Pick<RunRow, 'method'>) => run.method?.name === 'baseline';

/** Equal for a run and each of its candidate baselines. */
export const baselineKey = (run: RunRow) => JSON.stringify(MATCHED.map((field) => run[field]));

/** Which of two baselines of one key is the run's: the later finished, then the larger id. */
export const laterBaseline = (x: RunRow, y: RunRow) => (x.finishedAt!.getTime() - y.finishedAt!.getTime() || (x.id > y.id ? 1 : -1)) > 0;

/** The run's baseline; null for a baseline, a run without a model (EVALUATE_ONLY), or when none has finished. */
export async function latestBaseline(prisma: PrismaClient, run: RunRow): Promise<RunRow | null> {
  if (isBaseline(run) || run.modelId === null) return null;
  const where = Object.fromEntries(MATCHED.map((field) => [field, run[field]]));
  return prisma.run.findFirst({
    where: { ...where, status: 'FINISHED', method: { name: 'baseline' } },
    orderBy: [{ finishedAt: 'desc' }, { id: 'desc' }],
    include: RUN_INCLUDE,
  });
}
