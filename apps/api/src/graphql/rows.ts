/**
 * The rows resolvers receive as parents, loaded with the relations their fields read, so that a page
 * of runs or images costs a fixed number of queries rather than one per field.
 */
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';

export const PROMPT_SET_INCLUDE = { benchmark: true, _count: { select: { prompts: true } } } as const satisfies Prisma.PromptSetInclude;

export const RUN_INCLUDE = {
  team: true,
  model: true,
  method: true,
  methodConfig: true,
  benchmark: true,
  promptSet: { include: PROMPT_SET_INCLUDE },
} as const satisfies Prisma.RunInclude;

export type RunRow = Prisma.RunGetPayload<{ include: typeof RUN_INCLUDE }>;

export const IMAGE_INCLUDE = {
  prompt: true,
  detections: { orderBy: { ordinal: 'asc' } },
  score: true,
} as const satisfies Prisma.ImageInclude;

export type ImageRow = Prisma.ImageGetPayload<{ include: typeof IMAGE_INCLUDE }>;

export type PromptSetRow = Prisma.PromptSetGetPayload<{ include: typeof PROMPT_SET_INCLUDE }>;

export function loadRun(prisma: PrismaClient, id: string): Promise<RunRow | null> {
  return prisma.run.findUnique({ where: { id }, include: RUN_INCLUDE });
}

/** A run's figures, overall or for one relation, in the benchmark's metric order (others after, by key). */
export function orderedMetrics(
  rows: readonly { metricKey: string; value: number | null; lower: number | null; upper: number | null }[],
  definitions: readonly { key: string; ordinal: number }[],
): { key: string; value: number | null; low: number | null; high: number | null }[] {
  const ordinal = new Map(definitions.map((d) => [d.key, d.ordinal]));
  return [...rows]
    .sort((a, b) => (ordinal.get(a.metricKey) ?? Infinity) - (ordinal.get(b.metricKey) ?? Infinity) || a.metricKey.localeCompare(b.metricKey))
    .map((row) => ({ key: row.metricKey, value: row.value, low: row.lower, high: row.upper }));
}
