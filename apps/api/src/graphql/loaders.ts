/**
 * Per-request batching of the lookups fields make for their parent (DataLoader): a page of 50 runs
 * asking for each run's image set, source run, timeline or prompt count costs one statement per
 * field, not one per run, and a value asked twice in a request is read once.
 */
import DataLoader from 'dataloader';
import type { ImageSet, PrismaClient, RunAggregate, RunEvent } from '../generated/prisma/client.ts';
import { type RunCost, runCosts } from '../runs/cost.ts';
import { RUN_INCLUDE, type RunRow } from './rows.ts';

/** The rows for `keys`, in their order: `keyOf` says which key a row belongs to; keys without a row get `missing`. */
function byKey<K, V, R>(keys: readonly K[], rows: readonly R[], keyOf: (row: R) => K, value: (row: R) => V, missing: V): V[] {
  const found = new Map(rows.map((row) => [keyOf(row), value(row)]));
  return keys.map((k) => (found.has(k) ? found.get(k)! : missing));
}

/** Rows grouped by key, every key with its (possibly empty) list, in the rows' order. */
function groupedByKey<K, R>(keys: readonly K[], rows: readonly R[], keyOf: (row: R) => K): R[][] {
  const groups = new Map<K, R[]>(keys.map((k) => [k, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((k) => groups.get(k)!);
}

export function createLoaders(prisma: PrismaClient) {
  return {
    /** runs by id, with the relations their fields read; null for none */
    run: new DataLoader<string, RunRow | null>(async (ids) =>
      byKey(
        ids,
        await prisma.run.findMany({ where: { id: { in: [...ids] } }, include: RUN_INCLUDE }),
        (r) => r.id,
        (r) => r,
        null,
      ),
    ),
    imageSet: new DataLoader<string, ImageSet | null>(async (ids) =>
      byKey(
        ids,
        await prisma.imageSet.findMany({ where: { id: { in: [...ids] } } }),
        (s) => s.id,
        (s) => s,
        null,
      ),
    ),
    /** a run's status events, oldest first */
    timeline: new DataLoader<string, RunEvent[]>(async (runIds) =>
      groupedByKey(runIds, await prisma.runEvent.findMany({ where: { runId: { in: [...runIds] } }, orderBy: [{ at: 'asc' }, { id: 'asc' }] }), (e) => e.runId),
    ),
    /** a run's stored aggregates (every metric, overall and per relation) */
    aggregates: new DataLoader<string, RunAggregate[]>(async (runIds) =>
      groupedByKey(runIds, await prisma.runAggregate.findMany({ where: { runId: { in: [...runIds] } } }), (a) => a.runId),
    ),
    /** a run's cost per image (runs/cost.ts); null when its images carry none */
    runCost: new DataLoader<string, RunCost | null>(async (runIds) => {
      const costs = await runCosts(prisma, runIds);
      return runIds.map((id) => costs.get(id) ?? null);
    }),
    /** a benchmark's metric definitions */
    metricDefinitions: new DataLoader(async (benchmarkIds: readonly string[]) =>
      groupedByKey(
        benchmarkIds,
        await prisma.metricDefinition.findMany({ where: { benchmarkId: { in: [...benchmarkIds] } }, orderBy: { ordinal: 'asc' } }),
        (d) => d.benchmarkId,
      ),
    ),
    /** a prompt set's number of prompts */
    promptCount: new DataLoader<string, number>(async (setIds) => {
      const counts = await prisma.prompt.groupBy({ by: ['promptSetId'], where: { promptSetId: { in: [...setIds] } }, _count: { _all: true } });
      return byKey(
        setIds,
        counts,
        (c) => c.promptSetId,
        (c) => c._count._all,
        0,
      );
    }),
    /** when a benchmark's most recent run finished; null when none has */
    latestFinishedAt: new DataLoader<string, Date | null>(async (benchmarkIds) => {
      const groups = await prisma.run.groupBy({
        by: ['benchmarkId'],
        where: { status: 'FINISHED', benchmarkId: { in: [...benchmarkIds] } },
        _max: { finishedAt: true },
      });
      return byKey(
        benchmarkIds,
        groups,
        (g) => g.benchmarkId,
        (g) => g._max.finishedAt,
        null,
      );
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
