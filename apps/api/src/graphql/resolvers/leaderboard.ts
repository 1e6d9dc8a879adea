/**
 * The leaderboard: one row per FINISHED run of a benchmark, ranked by a metric of its stored overall
 * figures (never per-image rows).
 *
 * A board is ranked from the benchmark's snapshot (board-snapshot.ts: its FINISHED runs with their
 * figures, read again in part when they change, checked on every request, so that a run finishing,
 * being deleted or rescored shows at once, in every API process) and kept, per API process, under its
 * arguments until the snapshot changes. Rows that did not change keep their objects, and with them
 * the answers built from them (board-answers.ts).
 *
 * Each model's runs form a table ranked apart (ranks restart at 1 in each), and a run with fewer
 * scored images than the API's minimum (LeaderboardSettings) is listed with no rank. The board is
 * sorted by the benchmark's primary metric unless asked otherwise.
 *
 * A row's baseline (versusBaseline) and its table's leader (versusLeader) are found on the board
 * itself; the paired tests against them read both runs' image scores, so they run only for queries
 * that select them (and are kept per process: runs/compare.ts).
 */
import { z } from 'zod';
import { ApiError, inputError, parseInput } from '../../errors.ts';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { RequestContext } from '../context.ts';
import { baselineKey, isBaseline, laterBaseline } from '../../runs/baseline.ts';
import { compareRunRows, type RunComparison } from '../../runs/compare.ts';
import type { MetricComparison } from '../../stats/paired.ts';
import type { RunCost } from '../../runs/cost.ts';
import { currentSnapshot, type Snapshot, type SnapshotRun } from '../board-snapshot.ts';
import { orderedMetrics, type RunRow } from '../rows.ts';

const leaderboardArgs = z.object({
  benchmark: z.string().min(1).max(200),
  model: z.string().min(1).max(200).nullish(),
  detector: z.string().min(1).max(600).nullish(),
  sort: z.object({ metric: z.string().min(1).max(100).nullish(), direction: z.enum(['ASC', 'DESC']).nullish() }).nullish(),
});

type LeaderboardArgs = z.output<typeof leaderboardArgs>;

type MetricValues = ReturnType<typeof orderedMetrics>;

export interface LeaderboardRow {
  /** within the row's model; null when the run is below the minimum size */
  rank: number | null;
  ranked: boolean;
  promptsScored: number;
  imagesScored: number;
  run: RunRow;
  method: string | null;
  configHash: string | null;
  isBaseline: boolean;
  model: RunRow['model'];
  detector: string;
  threshold: number;
  metrics: MetricValues;
  /** the run's cost per image; null when its images carry none */
  cost: RunCost | null;
  /** The row's baseline and the metric deltas (what BaselineComparison resolves from); null when none matches. */
  versus: Versus | null;
  /** The leader of the row's table, for a ranked row that is not the leader itself. */
  leader: RunRow | null;
  primaryMetric: string;
}

/** A row against its baseline; the paired comparison is computed only when a query selects it. */
export interface Versus {
  baseline: RunRow;
  row: RunRow;
  deltas: MetricValues;
  primaryMetric: string;
}

/** The leaderboard's settings (ApiServerOptions.leaderboard; LEADERBOARD_MIN_IMAGES). */
export interface LeaderboardSettings {
  /** a run with fewer scored images is listed apart, not ranked */
  minRankedImages: number;
}

export const DEFAULT_LEADERBOARD: LeaderboardSettings = { minRankedImages: 100 };

/** Boards kept per API process (its Prisma client) by their arguments, with the snapshot each was ranked from; most recently used last. */
const boards = new WeakMap<PrismaClient, Map<string, { snapshot: Snapshot; rows: LeaderboardRow[] }>>();
/** At most this many argument combinations are kept; the least recently used goes first. */
const KEPT_BOARDS = 32;

/** A snapshot run's figures in the benchmark's metric order: computed once per run read (a new catalogue gives new runs). */
const shownFigures = new WeakMap<SnapshotRun, MetricValues>();

function shownOf(entry: SnapshotRun, definitions: Snapshot['metrics']): MetricValues {
  let shown = shownFigures.get(entry);
  if (!shown) shownFigures.set(entry, (shown = orderedMetrics(entry.figures, definitions, entry.run.imagesPerPrompt)));
  return shown;
}

/** The same row: nothing it shows differs, so the earlier object (and what was built from it) stands. */
const sameRow = (a: LeaderboardRow, b: LeaderboardRow) =>
  a.run === b.run &&
  a.rank === b.rank &&
  a.ranked === b.ranked &&
  a.leader === b.leader &&
  (a.versus?.baseline ?? null) === (b.versus?.baseline ?? null) &&
  a.primaryMetric === b.primaryMetric;

/**
 * The ranked rows of a snapshot for the arguments' filters and sort; throws for a metric the benchmark
 * does not have. Rows equal to one of `previous` (the board last ranked for the same arguments) are
 * that row's object.
 */
function rankBoard(
  snapshot: Snapshot,
  { model, detector, sort }: LeaderboardArgs,
  { minRankedImages }: LeaderboardSettings,
  previous: readonly LeaderboardRow[],
): LeaderboardRow[] {
  const { benchmark, metrics } = snapshot;
  const primaryMetric = (metrics.find((m) => m.primary) ?? metrics[0])?.key ?? '';
  const metricKey = sort?.metric ?? primaryMetric;
  const metric = metrics.find((m) => m.key === metricKey);
  if (!metric)
    throw inputError(['sort', 'metric'], `benchmark ${benchmark.name} has no metric '${metricKey}' (known: ${metrics.map((m) => m.key).join(', ')})`);
  const direction = sort?.direction ?? (metric.higherIsBetter ? 'DESC' : 'ASC');

  const runs = snapshot.runs
    .filter((entry) => (!model || entry.run.model?.name === model) && (!detector || entry.run.detector === detector))
    .map((entry) => {
      const shown = shownOf(entry, metrics);
      return { run: entry.run, shown, cost: entry.cost, value: shown.find((f) => f.key === metric.key)?.value ?? null };
    });
  const baselines = latestBaselines(runs.map((r) => r.run));
  const sign = direction === 'DESC' ? -1 : 1;
  // Stable: runs with equal figures stay in the snapshot's (finishedAt, id) order.
  runs.sort((a, b) => {
    // Runs without the figure (e.g. VISOR_cond undefined) go last, whatever the direction.
    if (a.value === null || b.value === null) return (a.value === null ? 1 : 0) - (b.value === null ? 1 : 0);
    return sign * (a.value - b.value) || a.run.finishedAt!.getTime() - b.run.finishedAt!.getTime();
  });
  const valuesOf = new Map(runs.map(({ run, shown }) => [run.id, new Map(shown.map((f) => [f.key, f.value]))]));
  const deltas = (row: RunRow, baseline: RunRow) =>
    metrics.map(({ key }) => {
      const [a, b] = [valuesOf.get(row.id)!.get(key), valuesOf.get(baseline.id)!.get(key)];
      return { key, value: a == null || b == null ? null : a - b, low: null, high: null };
    });
  const before = new Map(previous.map((row) => [row.run.id, row]));
  // Each model's runs are a table of their own: ranks count from 1 in each, over its ranked runs.
  const tables = new Map<string | null, { ranked: number; leader: RunRow | null }>();
  return runs.map(({ run, shown, cost }) => {
    const baseline = isBaseline(run) ? undefined : baselines.get(baselineKey(run));
    const table = tables.get(run.modelId) ?? { ranked: 0, leader: null };
    tables.set(run.modelId, table);
    const ranked = run.imagesEvaluated >= minRankedImages;
    if (ranked) table.ranked++;
    const leader = ranked && table.leader ? table.leader : null;
    if (ranked && !table.leader) table.leader = run;
    const row: LeaderboardRow = {
      rank: ranked ? table.ranked : null,
      ranked,
      promptsScored: run.promptsTotal,
      imagesScored: run.imagesEvaluated,
      run,
      method: run.method?.name ?? null,
      configHash: run.methodConfig?.hash ?? null,
      isBaseline: isBaseline(run),
      model: run.model,
      detector: run.detector,
      threshold: run.threshold,
      metrics: shown,
      cost,
      versus: baseline ? { baseline, row: run, deltas: deltas(run, baseline), primaryMetric } : null,
      leader,
      primaryMetric,
    };
    const earlier = before.get(run.id);
    return earlier && sameRow(earlier, row) ? earlier : row;
  });
}

/**
 * The most recently finished baseline run per baselineKey among a board's runs. A row's baseline is
 * always on the row's own board, so no query is needed: the board holds every FINISHED run of its
 * benchmark, narrowed only by model and detector, which a matching baseline shares with the row.
 */
function latestBaselines(runs: readonly RunRow[]): Map<string, RunRow> {
  const latest = new Map<string, RunRow>();
  for (const run of runs) {
    if (!isBaseline(run)) continue;
    const key = baselineKey(run);
    const kept = latest.get(key);
    if (!kept || laterBaseline(run, kept)) latest.set(key, run);
  }
  return latest;
}

/** The test of the primary metric in a comparison. */
const primaryOf = (comparison: RunComparison, key: string): MetricComparison => comparison.metrics.find((m) => m.key === key)!;

/** The rootValue key under which board-answers.ts hands the `leaderboard` field the rows to answer (it reads its board otherwise). */
export const BOARD_ROWS = Symbol('leaderboard rows');

export const leaderboardResolvers = {
  Query: {
    leaderboard: (root: { [BOARD_ROWS]?: LeaderboardRow[] } | undefined, args: unknown, ctx: RequestContext) => root?.[BOARD_ROWS] ?? leaderboard(args, ctx),
    leaderboardRules: (_: unknown, __: unknown, { services }: RequestContext) => services.leaderboard,
  },
  LeaderboardRow: {
    versusBaseline: (row: LeaderboardRow) => row.versus,
    async versusLeader(row: LeaderboardRow, _: unknown, ctx: RequestContext) {
      if (!row.leader) return null;
      try {
        const primary = primaryOf(await compareRunRows(ctx.services.prisma, row.leader, row.run), row.primaryMetric);
        return { leader: row.leader, primary, tiedWithinNoise: !primary.beyondNoise };
      } catch (err) {
        // Runs that cannot be compared (no prompt in common) have no verdict.
        if (err instanceof ApiError && err.extensions.code === 'BAD_USER_INPUT') return null;
        throw err;
      }
    },
  },
  BaselineComparison: {
    comparison: (versus: Versus, _: unknown, ctx: RequestContext) => compareRunRows(ctx.services.prisma, versus.baseline, versus.row),
    metrics: async (versus: Versus, _: unknown, ctx: RequestContext) => (await compareRunRows(ctx.services.prisma, versus.baseline, versus.row)).metrics,
    primary: async (versus: Versus, _: unknown, ctx: RequestContext) =>
      primaryOf(await compareRunRows(ctx.services.prisma, versus.baseline, versus.row), versus.primaryMetric),
    beyondNoise: async (versus: Versus, _: unknown, ctx: RequestContext) =>
      primaryOf(await compareRunRows(ctx.services.prisma, versus.baseline, versus.row), versus.primaryMetric).beyondNoise,
  },
};

/**
 * The board for the arguments, from the benchmark's current snapshot (board-snapshot.ts): ranked again
 * only when the snapshot changed, keeping the rows that did not. Boards are shared between requests
 * and never modified.
 */
export async function leaderboard(args: unknown, { services: { prisma, leaderboard: settings } }: RequestContext): Promise<LeaderboardRow[]> {
  const parsed = parseInput(leaderboardArgs, args);
  const snapshot = await currentSnapshot(prisma, parsed.benchmark);
  if (!snapshot) throw inputError(['benchmark'], `unknown benchmark '${parsed.benchmark}'`);
  let kept = boards.get(prisma);
  if (!kept) boards.set(prisma, (kept = new Map()));
  const key = JSON.stringify([parsed.benchmark, parsed.model ?? null, parsed.detector ?? null, parsed.sort?.metric ?? null, parsed.sort?.direction ?? null]);
  const board = kept.get(key);
  if (board) kept.delete(key);
  if (board?.snapshot === snapshot) {
    kept.set(key, board);
    return board.rows;
  }
  const rows = rankBoard(snapshot, parsed, settings, board?.rows ?? []);
  kept.set(key, { snapshot, rows });
  if (kept.size > KEPT_BOARDS) kept.delete(kept.keys().next().value!);
  return rows;
}
