/**
 * What a run's images cost to make, per image: the means of what the workers recorded for each one
 * (ImagesGenerated's `cost`, stored on its image row), computed by PostgreSQL over the run's rows.
 * Only generated images carry a cost: uploaded image sets, rescores (whose rows are their own, not
 * the source run's) and images reported by workers older than the cost record have none, so their
 * run has no cost rather than a made-up one.
 */
import type { PrismaClient } from '../generated/prisma/client.ts';

export interface RunCost {
  /** mean wall seconds per image (its batch's time over the batch's images: sampling and decoding) */
  secondsPerImage: number;
  /** mean U-Net forward passes per image (a classifier-free guidance pair is 2) */
  unetEvaluationsPerImage: number;
  /** mean backward passes of a guidance loss per image */
  backwardPassesPerImage: number;
  /** the device the images were made on; several, comma-separated, when the run's chunks ran on different ones */
  device: string;
  /** the images the means are over */
  images: number;
}

/** The cost of each of `runIds` that has one, in one statement (an index scan of each run's image rows). */
export async function runCosts(prisma: PrismaClient, runIds: readonly string[]): Promise<Map<string, RunCost>> {
  if (runIds.length === 0) return new Map();
  const rows = await prisma.$queryRaw<(RunCost & { runId: string })[]>`
    SELECT run_id::text AS "runId", count(*)::int AS images,
           (avg(generation_ms) / 1000)::float8 AS "secondsPerImage",
           avg(unet_evaluations)::float8 AS "unetEvaluationsPerImage",
           avg(backward_passes)::float8 AS "backwardPassesPerImage",
           coalesce(string_agg(DISTINCT device, ', ' ORDER BY device), 'unknown') AS device
    FROM images
    WHERE run_id = ANY(${[...runIds]}::uuid[]) AND unet_evaluations IS NOT NULL AND backward_passes IS NOT NULL AND generation_ms IS NOT NULL
    GROUP BY run_id`;
  return new Map(rows.map(({ runId, ...cost }) => [runId, cost]));
}
