/**
 * What a benchmark's leaderboards are computed from, kept per API process (its Prisma client) and
 * brought up to date by what changed: the benchmark's FINISHED runs with their overall figures, and
 * the catalogue rows they refer to.
 *
 * Every read of a board first reads the version of all of it (one small statement, below); while it
 * is unchanged the snapshot in memory is used, so that a run finishing, being deleted or rescored
 * shows at once, in every API process. When only runs changed, the runs' (id, row version) list is
 * read and only the runs that are new or changed are loaded: a run finishing costs the reading of
 * that run, not of the whole board, and the other runs keep their objects (which the answers built
 * from them are kept by: board-answers.ts). A change to the catalogue reloads the whole snapshot.
 */
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts';
import { type RunCost, runCosts } from '../runs/cost.ts';
import { RUN_COLUMNS, type RunRow } from './rows.ts';

export interface MetricDefinitionRow {
  key: string;
  ordinal: number;
  higherIsBetter: boolean;
  primary: boolean;
  minImagesPerPrompt: number | null;
}

export interface Figure {
  metricKey: string;
  value: number | null;
  lower: number | null;
  upper: number | null;
}

/** A FINISHED run as boards use it: its row (with the relations RunRow has), its overall figures, and its row version. */
export interface SnapshotRun {
  run: RunRow;
  figures: Figure[];
  /** what its images cost per image (runs/cost.ts): fixed once the run is FINISHED, as its figures are */
  cost: RunCost | null;
  /** the row's xmin when it was read: a new one means the row was written since */
  rowVersion: string;
}

export interface Snapshot {
  benchmark: RunRow['benchmark'];
  metrics: MetricDefinitionRow[];
  /** ordered by (finishedAt, id) */
  runs: SnapshotRun[];
  catalogueVersion: string;
  runsVersion: string;
}

/** A table's row count and the sum of its rows' xmin, for the rows `where` selects. */
const rowsVersion = (table: string, where: Prisma.Sql = Prisma.empty) =>
  Prisma.sql`(SELECT count(*) || ':' || coalesce(sum(x.xmin::text::bigint), 0) FROM ${Prisma.raw(table)} x ${where})`;

/**
 * What a snapshot of benchmark `b` (a row of `benchmarks` in the statement) is computed from, as two
 * strings that change whenever any of it does: for each table it reads, the count and the sum of the
 * xmin (the writing transaction's id) of the rows it reads. Every insert, update or delete of such a
 * row, by whatever means (the ingester, deleteRun, a foreign key's ON DELETE, plain SQL, a new seed),
 * gives a row version with a new transaction id, larger than those of the versions it replaces (until
 * transaction ids wrap around, after some four billion): where the count stays the same, the sum grows;
 * otherwise the count changes.
 *
 * A run's figures are written in the transaction that marks it FINISHED (finishRun), so they change
 * only with its row. Method configurations are content-addressed (their hash) and never change.
 */
const CATALOGUE_VERSION = Prisma.sql`concat_ws(' ', b.xmin::text,
  ${rowsVersion('metric_definitions', Prisma.sql`WHERE x.benchmark_id = b.id`)},
  ${rowsVersion('prompt_sets', Prisma.sql`WHERE x.benchmark_id = b.id`)},
  ${rowsVersion('teams')}, ${rowsVersion('models')}, ${rowsVersion('methods')})`;
const RUNS_VERSION = rowsVersion('runs', Prisma.sql`WHERE x.benchmark_id = b.id AND x.status = 'FINISHED'`);

/** Snapshots kept per API process (its Prisma client), by benchmark name; at most one per benchmark. */
const snapshots = new WeakMap<PrismaClient, Map<string, Snapshot>>();
/** Refreshes under way, by benchmark and the versions they bring the snapshot to: readers that find the same change share one. */
const refreshing = new WeakMap<PrismaClient, Map<string, Promise<Snapshot | null>>>();

/** Catalogue rows of the chosen runs, as JSON objects with Prisma's field names. */
const catalogueRows = (table: string, key: string, fields: Record<string, string>) =>
  Prisma.sql`(SELECT json_agg(json_build_object(${Prisma.raw(
    Object.entries(fields)
      .map(([name, column]) => `'${name}', t.${column}`)
      .join(', '),
  )}))
     FROM ${Prisma.raw(table)} t WHERE t.id IN (SELECT ${Prisma.raw(key)} FROM chosen))`;

/** A snapshot's runs and catalogue as the load statement reads them (JSON texts, parsed); timestamps are ISO 8601 strings in it. */
interface Loaded {
  benchmark: RunRow['benchmark'];
  metrics: MetricDefinitionRow[] | null;
  runs: (Omit<RunRow, 'team' | 'model' | 'method' | 'methodConfig' | 'benchmark' | 'promptSet'> & { figures: Figure[] | null; rowVersion: string })[] | null;
  teams: RunRow['team'][] | null;
  models: NonNullable<RunRow['model']>[] | null;
  methods: NonNullable<RunRow['method']>[] | null;
  configs: NonNullable<RunRow['methodConfig']>[] | null;
  promptSets: Omit<RunRow['promptSet'], 'benchmark'>[] | null;
}

/**
 * The FINISHED runs of the benchmark (all of them, or those of `ids`) with their overall figures,
 * and the catalogue rows they refer to: one statement, one snapshot of the database. The runs and
 * the catalogue come as JSON texts (parsed here: far cheaper than Prisma's per-row, per-column conversion).
 */
async function load(prisma: PrismaClient, benchmarkId: string, ids: readonly string[] | null): Promise<Loaded | null> {
  const rows = await prisma.$queryRaw<{ runs: string | null; catalogue: string }[]>`
    WITH b AS (SELECT * FROM benchmarks WHERE id = ${benchmarkId}::uuid),
    chosen AS (
      SELECT r.*, r.xmin::text AS row_version FROM runs r, b WHERE r.benchmark_id = b.id AND r.status = 'FINISHED'
      ${ids ? Prisma.sql`AND r.id = ANY(${ids}::uuid[])` : Prisma.empty})
    SELECT
      (SELECT json_agg(x) FROM (
        SELECT ${RUN_COLUMNS}, r.row_version AS "rowVersion", f.figures FROM chosen r
        LEFT JOIN (SELECT a.run_id, json_agg(json_build_object('metricKey', a.metric_key, 'value', a.value, 'lower', a.lower, 'upper', a.upper)) AS figures
                   FROM run_aggregates a WHERE a.relation = '' AND a.run_id IN (SELECT id FROM chosen) GROUP BY a.run_id) f ON f.run_id = r.id) x)::text AS runs,
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
  const [{ runs, catalogue }] = rows;
  return { ...(JSON.parse(catalogue) as Omit<Loaded, 'runs'>), runs: runs === null ? null : JSON.parse(runs) };
}

const RUN_TIMESTAMPS = [
  'queuedAt',
  'generatingAt',
  'evaluatingAt',
  'finishedAt',
  'failedAt',
  'cancelledAt',
  'artifactsDeletedAt',
  'createdAt',
  'updatedAt',
] as const;

/** The loaded runs as RunRows with their relations (from the loaded catalogue, else `known`'s runs'), with their costs. */
function snapshotRuns(loaded: Loaded, known: readonly SnapshotRun[], costs: ReadonlyMap<string, RunCost>): SnapshotRun[] {
  // Timestamps arrive as ISO 8601 strings.
  const dated = <T extends { createdAt: Date }>(row: T): T => ({ ...row, createdAt: new Date(row.createdAt as unknown as string) });
  const byId = <T extends { id: string }>(rows: readonly T[] | null, from: (run: RunRow) => T | null) => {
    const map = new Map<string, T>();
    for (const { run } of known) {
      const row = from(run);
      if (row) map.set(row.id, row);
    }
    for (const row of rows ?? []) map.set(row.id, row);
    return map;
  };
  const { benchmark } = loaded;
  const team = byId(loaded.teams?.map(dated) ?? null, (run) => run.team);
  const model = byId(loaded.models?.map(dated) ?? null, (run) => run.model);
  const method = byId(loaded.methods, (run) => run.method);
  const config = byId(loaded.configs?.map(dated) ?? null, (run) => run.methodConfig);
  // A run's benchmark is its prompt set's (runs copy it), this snapshot's.
  const promptSet = byId(loaded.promptSets?.map((set) => ({ ...dated(set), benchmark })) ?? null, (run) => run.promptSet);
  return (loaded.runs ?? []).map(({ figures, rowVersion, ...columns }) => {
    const run = columns as unknown as RunRow;
    for (const key of RUN_TIMESTAMPS) if (run[key] !== null) run[key] = new Date(run[key] as unknown as string);
    run.team = team.get(run.teamId)!;
    run.model = run.modelId === null ? null : model.get(run.modelId)!;
    run.method = run.methodId === null ? null : method.get(run.methodId)!;
    run.methodConfig = run.methodConfigId === null ? null : config.get(run.methodConfigId)!;
    run.benchmark = benchmark;
    run.promptSet = promptSet.get(run.promptSetId)!;
    return { run, figures: figures ?? [], cost: costs.get(run.id) ?? null, rowVersion };
  });
}

const byFinish = (a: SnapshotRun, b: SnapshotRun) =>
  a.run.finishedAt!.getTime() - b.run.finishedAt!.getTime() || (a.run.id < b.run.id ? -1 : a.run.id > b.run.id ? 1 : 0);

/** `kept` brought to `versions`: the runs that are new or were written since, read; those no longer FINISHED, dropped. */
async function refresh(
  prisma: PrismaClient,
  benchmarkId: string,
  versions: { catalogue: string; runs: string },
  kept: Snapshot | undefined,
): Promise<Snapshot | null> {
  const whole = !kept || kept.benchmark.id !== benchmarkId || kept.catalogueVersion !== versions.catalogue;
  let changed: string[] | null = null;
  let listed: { id: string; rowVersion: string }[] = [];
  if (!whole) {
    listed = await prisma.$queryRaw<{ id: string; rowVersion: string }[]>`
      SELECT id::text, xmin::text AS "rowVersion" FROM runs WHERE benchmark_id = ${benchmarkId}::uuid AND status = 'FINISHED'`;
    const known = new Map(kept.runs.map((r) => [r.run.id, r.rowVersion]));
    changed = listed.filter((r) => known.get(r.id) !== r.rowVersion).map((r) => r.id);
  }
  const loaded = await load(prisma, benchmarkId, changed);
  // Deleted since the version was read: as if it had not been there.
  if (!loaded) return null;
  // The loaded runs' costs: a run's images are all written before it is FINISHED, so they stay as read.
  const costs = await runCosts(
    prisma,
    (loaded.runs ?? []).map((r) => r.id),
  );
  const runs = snapshotRuns(loaded, whole ? [] : kept.runs, costs);
  if (!whole) {
    // The listed runs as kept, but for those read again (a changed run no longer FINISHED when it was
    // read is left out, as is a kept run no longer listed).
    const reread = new Set([...changed!, ...runs.map((r) => r.run.id)]);
    const still = new Set(listed.map((r) => r.id));
    runs.push(...kept.runs.filter((r) => still.has(r.run.id) && !reread.has(r.run.id)));
  }
  runs.sort(byFinish);
  return { benchmark: loaded.benchmark, metrics: loaded.metrics ?? [], runs, catalogueVersion: versions.catalogue, runsVersion: versions.runs };
}

/** The benchmark's snapshot as the database holds it now; null for a benchmark that does not exist. */
export async function currentSnapshot(prisma: PrismaClient, benchmarkName: string): Promise<Snapshot | null> {
  const [current] = await prisma.$queryRaw<{ id: string; catalogue: string; runs: string }[]>`
    SELECT b.id::text, ${CATALOGUE_VERSION} AS catalogue, ${RUNS_VERSION} AS runs FROM benchmarks b WHERE b.name = ${benchmarkName}`;
  if (!current) return null;
  let kept = snapshots.get(prisma);
  if (!kept) snapshots.set(prisma, (kept = new Map()));
  const snapshot = kept.get(benchmarkName);
  if (snapshot && snapshot.benchmark.id === current.id && snapshot.catalogueVersion === current.catalogue && snapshot.runsVersion === current.runs)
    return snapshot;
  let pending = refreshing.get(prisma);
  if (!pending) refreshing.set(prisma, (pending = new Map()));
  const key = JSON.stringify([benchmarkName, current.id, current.catalogue, current.runs]);
  let made = pending.get(key);
  if (!made) {
    made = refresh(prisma, current.id, current, snapshot);
    pending.set(key, made);
    void made.then(
      (fresh) => {
        pending.delete(key);
        // A refresh that finished after a later one does not replace it.
        if (fresh && kept.get(benchmarkName) === snapshot) kept.set(benchmarkName, fresh);
      },
      () => pending.delete(key),
    );
  }
  return made;
}
