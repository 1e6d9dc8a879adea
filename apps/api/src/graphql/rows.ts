/**
 * The rows resolvers receive as parents, loaded with the relations their fields read, so that a page
 * of runs or images costs a fixed number of queries rather than one per field.
 */
import { metricDefined } from '@infsplign/workers/benchmarks';
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts';

/** A prompt set as `benchmarks` lists it: with its prompt count, which Prisma computes in the same query. */
export const PROMPT_SET_INCLUDE = { benchmark: true, _count: { select: { prompts: true } } } as const satisfies Prisma.PromptSetInclude;

/**
 * A run's prompt set. Its prompt count is left to PromptSet.promptCount, counted only when a query
 * asks for it: Prisma's relation count groups the whole prompts table, on every run loaded.
 */
export const RUN_PROMPT_SET_INCLUDE = { benchmark: true } as const satisfies Prisma.PromptSetInclude;

export const RUN_INCLUDE = {
  team: true,
  model: true,
  method: true,
  methodConfig: true,
  benchmark: true,
  promptSet: { include: RUN_PROMPT_SET_INCLUDE },
} as const satisfies Prisma.RunInclude;

export type RunRow = Prisma.RunGetPayload<{ include: typeof RUN_INCLUDE }>;

/** A benchmark as `benchmarks` loads it. */
export const BENCHMARK_INCLUDE = {
  metrics: { orderBy: { ordinal: 'asc' } },
  promptSets: { orderBy: { name: 'asc' }, include: PROMPT_SET_INCLUDE },
} as const satisfies Prisma.BenchmarkInclude;

export type BenchmarkRow = Prisma.BenchmarkGetPayload<{ include: typeof BENCHMARK_INCLUDE }>;

export const IMAGE_INCLUDE = {
  prompt: true,
  detections: { orderBy: { ordinal: 'asc' } },
  score: true,
} as const satisfies Prisma.ImageInclude;

export type ImageRow = Prisma.ImageGetPayload<{ include: typeof IMAGE_INCLUDE }>;

/** A prompt set with its benchmark, and its prompt count where it was loaded with it (`benchmarks`). */
export type PromptSetRow = Prisma.PromptSetGetPayload<{ include: typeof RUN_PROMPT_SET_INCLUDE }> & { _count?: { prompts: number } };

export function loadRun(prisma: PrismaClient, id: string): Promise<RunRow | null> {
  return prisma.run.findUnique({ where: { id }, include: RUN_INCLUDE });
}

/** A run's columns, named as Prisma's Run model names them, for the statements that read runs in SQL. */
export const RUN_COLUMNS = Prisma.sql`
  r.id, r.team_id AS "teamId", r.kind::text AS kind, r.status::text AS status, r.model_id AS "modelId",
  r.method_config_id AS "methodConfigId", r.method_id AS "methodId", r.prompt_set_id AS "promptSetId", r.benchmark_id AS "benchmarkId",
  r.image_set_id AS "imageSetId", r.rescored_from_id AS "rescoredFromId", r.detector, r.threshold, r.seed, r.images_per_prompt AS "imagesPerPrompt",
  r.prompt_limit AS "promptLimit", r.scorer_version AS "scorerVersion", r.prompts_total AS "promptsTotal", r.images_total AS "imagesTotal",
  r.images_generated AS "imagesGenerated", r.images_evaluated AS "imagesEvaluated", r.chunks_total AS "chunksTotal",
  r.chunks_generated AS "chunksGenerated", r.chunks_evaluated AS "chunksEvaluated", r.error_reason AS "errorReason",
  r.queued_at AS "queuedAt", r.generating_at AS "generatingAt", r.evaluating_at AS "evaluatingAt", r.finished_at AS "finishedAt",
  r.failed_at AS "failedAt", r.cancelled_at AS "cancelledAt", r.execution_provider AS "executionProvider", r.device,
  r.code_version AS "codeVersion", r.artifacts_deleted_at AS "artifactsDeletedAt", r.created_at AS "createdAt", r.updated_at AS "updatedAt"`;

/**
 * A run's figures, overall or for one relation, in the benchmark's metric order (others after, by key).
 * A figure the run's images per prompt leave undefined (VISOR_n with fewer than n) is null, whatever
 * the scorer counted.
 */
export function orderedMetrics(
  rows: readonly { metricKey: string; value: number | null; lower: number | null; upper: number | null }[],
  definitions: readonly { key: string; ordinal: number; minImagesPerPrompt: number | null }[],
  imagesPerPrompt: number,
): { key: string; value: number | null; low: number | null; high: number | null }[] {
  const definition = new Map(definitions.map((d) => [d.key, d]));
  const order = (key: string) => definition.get(key)?.ordinal ?? Infinity;
  return [...rows]
    .sort((a, b) => order(a.metricKey) - order(b.metricKey) || a.metricKey.localeCompare(b.metricKey))
    .map((row) =>
      metricDefined(definition.get(row.metricKey)?.minImagesPerPrompt, imagesPerPrompt)
        ? { key: row.metricKey, value: row.value, low: row.lower, high: row.upper }
        : { key: row.metricKey, value: null, low: null, high: null },
    );
}
