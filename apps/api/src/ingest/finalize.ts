/**
 * Finishing a run: once every planned image has its score row, the aggregates are computed from the
 * stored detections with the workers' scorer (as `infsplign score --detections` would) and stored,
 * and the run becomes FINISHED, all in the ingester's transaction.
 */
import { type Detection, type ImageDetections, promptSetFromRows } from '@infsplign/workers/benchmarks';
import { isBenchmarkName } from '@infsplign/workers/contracts';
import { computeAggregates } from '../runs/aggregates.ts';
import { transition, type Tx } from '../runs/lifecycle.ts';

interface DetectionRow {
  externalId: number;
  imageIndex: number;
  width: number;
  height: number;
  label: string | null;
  score: number | null;
  x0: number | null;
  y0: number | null;
  x1: number | null;
  y1: number | null;
}

/** The run's scored images with their detections in detector order, as the scorer reads them. */
async function storedDetections(tx: Tx, runId: string): Promise<ImageDetections[]> {
  const rows = await tx.$queryRaw<DetectionRow[]>`
    SELECT p.external_id AS "externalId", i.image_index AS "imageIndex", i.width, i.height,
           d.label, d.score, d.x0, d.y0, d.x1, d.y1
    FROM images i
    JOIN image_scores s ON s.image_id = i.id
    JOIN prompts p ON p.id = i.prompt_id
    LEFT JOIN detections d ON d.image_id = i.id
    WHERE i.run_id = ${runId}::uuid
    ORDER BY p.external_id, i.image_index, d.ordinal`;
  const images: ImageDetections[] = [];
  let current: ImageDetections | undefined;
  for (const row of rows) {
    if (!current || current.prompt !== row.externalId || current.image !== row.imageIndex) {
      current = { prompt: row.externalId, image: row.imageIndex, width: row.width, height: row.height, detections: [] };
      images.push(current);
    }
    if (row.label !== null) current.detections.push({ label: row.label, score: row.score!, box: [row.x0!, row.y0!, row.x1!, row.y1!] } satisfies Detection);
  }
  return images;
}

/** Computes and stores the aggregates and marks the run FINISHED; a scorer error fails the run with its message. */
export async function finishRun(tx: Tx, runId: string): Promise<void> {
  const run = await tx.run.findUniqueOrThrow({ where: { id: runId }, select: { threshold: true, promptSetId: true, benchmark: { select: { name: true } } } });
  const benchmark = run.benchmark.name;
  try {
    if (!isBenchmarkName(benchmark)) throw new Error(`benchmark '${benchmark}' has no scorer in this version`);
    const images = await storedDetections(tx, runId);
    const externalIds = [...new Set(images.map((image) => image.prompt))];
    const prompts = await tx.prompt.findMany({
      where: { promptSetId: run.promptSetId, externalId: { in: externalIds } },
      select: { externalId: true, metadata: true },
    });
    const { result, rows } = computeAggregates(benchmark, promptSetFromRows(benchmark, prompts), images, run.threshold);
    // Replacing rather than upserting: a retried run finishing again leaves exactly the new figures.
    await tx.runAggregate.deleteMany({ where: { runId } });
    await tx.runAggregate.createMany({ data: rows.map((row) => ({ runId, ...row })) });
    await tx.run.update({ where: { id: runId }, data: { scorerVersion: result.scorer_version } });
    await transition(tx, runId, 'FINISHED');
  } catch (err) {
    await transition(
      tx,
      runId,
      'FAILED',
      `computing the aggregates failed: ${(err as Error).message}; fix the cause and retryRun (the images and scores are kept)`,
    );
  }
}
