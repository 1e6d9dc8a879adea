/**
 * The leaderboard: one row per FINISHED run of a benchmark, ranked by a metric of its stored overall
 * figures (never per-image rows).
 *
 * A board is read in one statement (the runs with their figures, and the catalogue rows they refer
 * to, as JSON) and kept, per API process, under its arguments together with the version of what it
 * was computed from. Every request reads that version again (one small statement); a board is answered
 * from memory only while the version is unchanged, so that a run finishing, being deleted or
 * rescored shows at once, in every API process.
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
import { Prisma, type PrismaClient } from '../../generated/prisma/client.ts';
import type { RequestContext } from '../context.ts';
import { baselineKey, isBaseline, laterBaseline } from '../../runs/baseline.ts';
import { compareRunRows, type RunComparison } from '../../runs/compare.ts';
import type { MetricComparison } from '../../stats/paired.ts';
import { orderedMetrics, RUN_COLUMNS, type RunRow } from '../rows.ts';

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

/** A table's row count and the sum of its rows' xmin, for the rows `where` selects. */
const rowsVersion = (table: string, where: Prisma.Sql = Prisma.empty) =>
  Prisma.sql`(SELECT count(*) || ':' || coalesce(sum(x.xmin::text::bigint), 0) FROM ${Prisma.raw(table)} x ${where})`;

/**
 * What a board of benchmark `b` (a row of `benchmarks` in the statement, with its xmin) is computed
 * from, as one string that changes whenever any of it does: for each table a board reads, the count
 * and the sum of the xmin (the writing transaction's id) of the rows it reads. Every insert, update
 * or delete of such a row, by whatever means (the ingester, deleteRun, a foreign key's ON DELETE,
 * plain SQL, a new seed), gives a row version with a new transaction id, larger than those of the
 * versions it replaces (until transaction ids wrap around, after some four billion): where the count
 * stays the same, the sum grows; otherwise the count changes.
 *
 * The finished runs are read as a whole, whatever the board's filters; a run's figures are written in
 * the transaction that marks it FINISHED (finishRun), so they change only with its row. Method
 * configurations are content-addressed (their hash) and never change.
 */
const BOARD_VERSION = Prisma.sql`concat_ws(' ',
  ${rowsVersion('runs', Prisma.sql`WHERE x.benchmark_id = b.id AND x.status = 'FINISHED'`)},
  b.xmin::text,
  ${rowsVersion('metric_definitions', Prisma.sql`WHERE x.benchmark_id = b.id`)},
  ${rowsVersion('prompt_sets', Prisma.sql`WHERE x.benchmark_id = b.id`)},
  ${rowsVersion('teams')}, ${rowsVersion('models')}, ${rowsVersion('methods')})`;

interface Board {
  version: string;
  rows: LeaderboardRow[];
}

/** Boards kept per API process (its Prisma client), most recently used last. */
const boards = new WeakMap<PrismaClient, Map<string, Board>>();
/** At most this many argument combinations are kept; the least recently used goes first. */
const KEPT_BOARDS = 32;

/** A board as its statement reads it (two JSON texts, parsed); timestamps are ISO 8601 strings in it. */
interface Loaded {
  benchmark: RunRow['benchmark'];
  metrics: { key: string; ordinal: number; higherIsBetter: boolean; primary: boolean; minImagesPerPrompt: number | null }[] | null;
  runs: (Omit<RunRow, 'team' | 'model' | 'method' | 'methodConfig' | 'benchmark' | 'promptSet'> & { figures: { metricKey: string; value: number | null; lower: number | null; upper: number | null }[] })[] | null;
  teams: RunRow['team'][] | null;
  models: NonNullable<RunRow['model']>[] | null;
  methods: NonNullable<RunRow['method']>[] | null;
  configs: NonNullable<RunRow['methodConfig']>[] | null;
  promptSets: Omit<RunRow['promptSet'], 'benchmark'>[] | null;
}

const RUN_TIMESTAMPS = ['queuedAt', 'generatingAt', 'evaluatingAt', 'finishedAt', 'failedAt', 'cancelledAt', 'artifactsDeletedAt', 'createdAt', 'updatedAt'] as const;

/** Catalogue rows of the chosen runs, as JSON objects with Prisma's field names. */
const catalogueRows = (table: string, key: string, fields: Record<string, string>) =>
  Prisma.sql`(SELECT json_agg(json_build_object(${Prisma.raw(Object.entries(fields).map(([name, column]) => `'${name}', t.${column}`).join(', '))}))
     FROM ${Prisma.raw(table)} t WHERE t.id IN (SELECT ${Prisma.raw(key)} FROM chosen))`;

/**
 * The board's runs (by the arguments' filters) with their overall figures, the catalogue rows they
 * refer to, and the version all of it is of: one statement, one snapshot. The runs and the catalogue
 * come as two JSON texts (parsed here: far cheaper than Prisma's per-row, per-column conversion).
 */
async function loadBoard(prisma: PrismaClient, args: LeaderboardArgs): Promise<{ version: string; loaded: Loaded } | null> {
  const rows = await prisma.$queryRaw<{ version: string; runs: string | null; catalogue: string }[]>`
    WITH b AS (SELECT b.*, b.xmin FROM benchmarks b WHERE b.name = ${args.benchmark}),
    chosen AS (
      SELECT r.* FROM runs r, b WHERE r.benchmark_id = b.id AND r.status = 'FINISHED'
      ${args.model ? Prisma.sql`AND r.model_id = (SELECT id FROM models WHERE name = ${args.model})` : Prisma.empty}
      ${args.detector ? Prisma.sql`AND r.detector = ${args.detector}` : Prisma.empty})
    SELECT ${BOARD_VERSION} AS version,
      (SELECT json_agg(x) FROM (
        SELECT ${RUN_COLUMNS}, f.figures FROM chosen r
        LEFT JOIN (SELECT a.run_id, json_agg(json_build_object('metricKey', a.metric_key, 'value', a.value, 'lower', a.lower, 'upper', a.upper)) AS figures
                   FROM run_aggregates a WHERE a.relation = '' AND a.run_id IN (SELECT id FROM chosen) GROUP BY a.run_id) f ON f.run_id = r.id
        ORDER BY r.finished_at, r.id) x)::text AS runs,
      json_build_object(
        'benchmark', json_build_object('id', b.id, 'name', b.name, 'scoring', b.scoring, 'defaultThreshold', b.default_threshold, 'defaultImagesPerPrompt', b.default_images_per_prompt),
        'metrics', (SELECT json_agg(json_build_object('key', d.key, 'ordinal', d.ordinal, 'higherIsBetter', d.higher_is_better, 'primary', d.is_primary, 'minImagesPerPrompt', d.min_images_per_prompt) ORDER BY d.ordinal) FROM metric_definitions d WHERE d.benchmark_id = b.id),
        'teams', ${catalogueRows('teams', 'team_id', { id: 'id', name: 'name', createdAt: 'created_at' })},
        'models', ${catalogueRows('models', 'model_id', { id: 'id', name: 'name', family: 'family', location: 'location', defaultParams: 'default_params', createdAt: 'created_at' })},
        'methods', ${catalogueRows('methods', 'method_id', { id: 'id', name: 'name', description: 'description', paramSchema: 'param_schema' })},
        'configs', ${catalogueRows('method_configs', 'method_config_id', { id: 'id', methodId: 'method_id', canonicalJson: 'canonical_json', hash: 'hash', createdAt: 'created_at' })},
        'promptSets', ${catalogueRows('prompt_sets', 'prompt_set_id', { id: 'id', benchmarkId: 'benchmark_id', name: 'name', source: 'source', createdAt: 'created_at' })}
      )::text AS catalogue
    FROM b`;
  if (rows.length === 0) return null;
  const [{ version, runs, catalogue }] = rows;
  return { version, loaded: { ...(JSON.parse(catalogue) as Omit<Loaded, 'runs'>), runs: runs === null ? null : JSON.parse(runs) } };
}

/** The ranked rows of a loaded board; throws for a metric the benchmark does not have. */
function rankBoard({ benchmark, metrics: definitions, ...loaded }: Loaded, { sort }: LeaderboardArgs, { minRankedImages }: LeaderboardSettings): LeaderboardRow[] {
  const metrics = definitions ?? [];
  const primaryMetric = (metrics.find((m) => m.primary) ?? metrics[0])?.key ?? '';
  const metricKey = sort?.metric ?? primaryMetric;
  const metric = metrics.find((m) => m.key === metricKey);
  if (!metric) throw inputError(['sort', 'metric'], `benchmark ${benchmark.name} has no metric '${metricKey}' (known: ${metrics.map((m) => m.key).join(', ')})`);
  const direction = sort?.direction ?? (metric.higherIsBetter ? 'DESC' : 'ASC');

  // Timestamps arrive as ISO 8601 strings.
  const dated = <T extends { createdAt: Date }>(row: T): T => ({ ...row, createdAt: new Date(row.createdAt as unknown as string) });
  const byId = <T extends { id: string }>(rows: T[] | null) => new Map((rows ?? []).map((row) => [row.id, row]));
  const team = byId(loaded.teams?.map(dated) ?? null);
  const model = byId(loaded.models?.map(dated) ?? null);
  const method = byId(loaded.methods);
  const config = byId(loaded.configs?.map(dated) ?? null);
  // A run's benchmark is its prompt set's (runs copy it), this board's.
  const promptSet = byId(loaded.promptSets?.map((set) => ({ ...dated(set), benchmark })) ?? null);
  const runs = (loaded.runs ?? []).map(({ figures, ...columns }) => {
    const run = columns as unknown as RunRow;
    for (const key of RUN_TIMESTAMPS) if (run[key] !== null) run[key] = new Date(run[key] as unknown as string);
    run.team = team.get(run.teamId)!;
    run.model = run.modelId === null ? null : model.get(run.modelId)!;
    run.method = run.methodId === null ? null : method.get(run.methodId)!;
    run.methodConfig = run.methodConfigId === null ? null : config.get(run.methodConfigId)!;
    run.benchmark = benchmark;
    run.promptSet = promptSet.get(run.promptSetId)!;
    const shown = orderedMetrics(figures ?? [], metrics, run.imagesPerPrompt);
    return { run, shown, value: shown.find((f) => f.key === metric.key)?.value ?? null };
  });
  const baselines = latestBaselines(runs.map((r) => r.run));
  const sign = direction === 'DESC' ? -1 : 1;
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
  // Each model's runs are a table of their own: ranks count from 1 in each, over its ranked runs.
  const tables = new Map<string | null, { ranked: number; leader: RunRow | null }>();
  return runs.map(({ run, shown }) => {
    const baseline = isBaseline(run) ? undefined : baselines.get(baselineKey(run));
    const table = tables.get(run.modelId) ?? { ranked: 0, leader: null };
    tables.set(run.modelId, table);
    const ranked = run.imagesEvaluated >= minRankedImages;
    if (ranked) table.ranked++;
    const leader = ranked && table.leader ? table.leader : null;
    if (ranked && !table.leader) table.leader = run;
    return {
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
      versus: baseline ? { baseline, row: run, deltas: deltas(run, baseline), primaryMetric } : null,
      leader,
      primaryMetric,
    };
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

export const leaderboardResolvers = {
  Query: {
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
    primary: async (versus: Versus, _: unknown, ctx: RequestContext) => primaryOf(await compareRunRows(ctx.services.prisma, versus.baseline, versus.row), versus.primaryMetric),
    beyondNoise: async (versus: Versus, _: unknown, ctx: RequestContext) => primaryOf(await compareRunRows(ctx.services.prisma, versus.baseline, versus.row), versus.primaryMetric).beyondNoise,
  },
};

/**
 * The board for the arguments: from memory when what it was computed from is unchanged (one small
 * statement), else read and ranked again. Boards are shared between requests and never modified.
 */
export async function leaderboard(args: unknown, { services: { prisma, leaderboard: settings } }: RequestContext): Promise<LeaderboardRow[]> {
  const parsed = parseInput(leaderboardArgs, args);
  const [current] = await prisma.$queryRaw<{ version: string }[]>`SELECT ${BOARD_VERSION} AS version FROM benchmarks b WHERE b.name = ${parsed.benchmark}`;
  if (!current) throw inputError(['benchmark'], `unknown benchmark '${parsed.benchmark}'`);
  let kept = boards.get(prisma);
  if (!kept) boards.set(prisma, (kept = new Map()));
  const key = JSON.stringify([parsed.benchmark, parsed.model ?? null, parsed.detector ?? null, parsed.sort?.metric ?? null, parsed.sort?.direction ?? null]);
  const board = kept.get(key);
  if (board) kept.delete(key);
  if (board?.version === current.version) {
    kept.set(key, board);
    return board.rows;
  }
  const read = await loadBoard(prisma, parsed);
  // Deleted since the version was read: as if it had not been there.
  if (!read) throw inputError(['benchmark'], `unknown benchmark '${parsed.benchmark}'`);
  const rows = rankBoard(read.loaded, parsed, settings);
  kept.set(key, { version: read.version, rows });
  if (kept.size > KEPT_BOARDS) kept.delete(kept.keys().next().value!);
  return rows;
}
