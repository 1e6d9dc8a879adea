/**
 * A leaderboard as the page, the sweep plot and the export show it: the API's rows for a benchmark,
 * filtered by method and threshold here (the API filters by model and detector), and sorted.
 */
import { query } from './api';
import type { SearchParams } from './search-params';
import { param } from './search-params';

export interface MetricDefinition {
  key: string;
  label: string;
  higherIsBetter: boolean;
  description: string;
}

export interface MetricValue {
  key: string;
  value: number | null;
  low: number | null;
  high: number | null;
}

export interface LeaderboardRow {
  rank: number;
  method: string | null;
  configHash: string | null;
  isBaseline: boolean;
  detector: string;
  threshold: number;
  model: { name: string } | null;
  run: { id: string; config: unknown; promptSet: { name: string }; seed: number; imagesPerPrompt: number; limit: number | null; team: { name: string }; finishedAt: string | null };
  metrics: MetricValue[];
  /** absent when not asked for (loadLeaderboard's withBaseline) */
  versusBaseline?: {
    baseline: { id: string };
    deltas: { key: string; value: number | null }[];
    beyondNoise: boolean;
    comparison: { mcnemarP: number; pairs: number };
  } | null;
}

export interface BenchmarkSummary {
  name: string;
  defaultThreshold: number;
  metrics: MetricDefinition[];
}

const LEADERBOARD = /* GraphQL */ `
  query Leaderboard($benchmark: String!, $model: String, $detector: String, $sort: LeaderboardSort, $withBaseline: Boolean!) {
    leaderboard(benchmark: $benchmark, model: $model, detector: $detector, sort: $sort) {
      rank method configHash isBaseline detector threshold
      model { name }
      run { id config seed imagesPerPrompt limit finishedAt promptSet { name } team { name } }
      metrics { key value low high }
      versusBaseline @include(if: $withBaseline) { baseline { id } deltas { key value } beyondNoise comparison { mcnemarP pairs } }
    }
  }
`;

const CATALOGUE = /* GraphQL */ `
  query Catalogue {
    benchmarks { name defaultThreshold metrics { key label higherIsBetter description } }
    models { name }
    methods { name }
  }
`;

export interface LeaderboardFilters {
  benchmark?: string;
  model?: string;
  detector?: string;
  method?: string;
  threshold?: string;
  /** a metric key, or one of TEXT_SORTS */
  sort?: string;
  dir?: 'asc' | 'desc';
}

export const TEXT_SORTS = ['method', 'model', 'detector', 'threshold', 'team'] as const;

export function filtersFrom(params: SearchParams): LeaderboardFilters {
  const dir = param(params, 'dir');
  return {
    benchmark: param(params, 'benchmark'),
    model: param(params, 'model'),
    detector: param(params, 'detector'),
    method: param(params, 'method'),
    threshold: param(params, 'threshold'),
    sort: param(params, 'sort'),
    dir: dir === 'asc' || dir === 'desc' ? dir : undefined,
  };
}

export interface Leaderboard {
  benchmarks: BenchmarkSummary[];
  benchmark: BenchmarkSummary;
  models: string[];
  methods: string[];
  rows: LeaderboardRow[];
  /** the metric the API ranked by */
  rankedBy: string;
}

const textKey = (row: LeaderboardRow, key: (typeof TEXT_SORTS)[number]): string | number =>
  key === 'method' ? (row.method ?? '') : key === 'model' ? (row.model?.name ?? '') : key === 'detector' ? row.detector : key === 'threshold' ? row.threshold : row.run.team.name;

/**
 * Throws ApiError (API down, unknown benchmark) or a plain Error naming a bad filter. Rows carry
 * their comparison with the baseline (a paired test per row) unless `withBaseline` is false.
 */
export async function loadLeaderboard(filters: LeaderboardFilters, { withBaseline = true } = {}): Promise<Leaderboard> {
  const { benchmarks, models, methods } = await query<{ benchmarks: BenchmarkSummary[]; models: { name: string }[]; methods: { name: string }[] }>(CATALOGUE);
  if (benchmarks.length === 0) throw new Error('The API knows no benchmarks yet: run `npm run db:seed`.');
  const benchmark = filters.benchmark ? benchmarks.find((b) => b.name === filters.benchmark) : benchmarks[0];
  if (!benchmark) throw new Error(`There is no benchmark "${filters.benchmark}"; the API has ${benchmarks.map((b) => b.name).join(', ')}.`);
  const isMetric = filters.sort !== undefined && benchmark.metrics.some((m) => m.key === filters.sort);
  const rankedBy = isMetric ? filters.sort! : benchmark.metrics[0]!.key;
  const sort = { metric: rankedBy, ...(isMetric && filters.dir ? { direction: filters.dir.toUpperCase() } : {}) };
  const data = await query<{ leaderboard: LeaderboardRow[] }>(LEADERBOARD, { benchmark: benchmark.name, model: filters.model, detector: filters.detector, sort, withBaseline });
  let rows = data.leaderboard;
  if (filters.method) rows = rows.filter((r) => r.method === filters.method);
  if (filters.threshold) {
    const threshold = Number(filters.threshold);
    if (!Number.isFinite(threshold)) throw new Error(`The threshold filter "${filters.threshold}" is not a number.`);
    rows = rows.filter((r) => Math.abs(r.threshold - threshold) < 1e-9);
  }
  const textSort = TEXT_SORTS.find((k) => k === filters.sort);
  if (textSort) {
    const sign = filters.dir === 'desc' ? -1 : 1;
    rows = [...rows].sort((a, b) => {
      const [x, y] = [textKey(a, textSort), textKey(b, textSort)];
      return sign * (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) || a.rank - b.rank;
    });
  }
  return { benchmarks, benchmark, models: models.map((m) => m.name), methods: methods.map((m) => m.name), rows, rankedBy };
}

export const metricOf = (row: LeaderboardRow, key: string): MetricValue | undefined => row.metrics.find((m) => m.key === key);

const CSV_FIXED = ['rank', 'run_id', 'method', 'model', 'detector', 'threshold', 'team', 'prompt_set', 'seed', 'images_per_prompt', 'config_hash', 'is_baseline', 'baseline_run_id', 'beyond_noise', 'mcnemar_p'];

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One line per row; per metric its value, interval and delta versus the baseline. */
export function leaderboardCsv(board: Leaderboard): string {
  const keys = board.benchmark.metrics.map((m) => m.key);
  const header = [...CSV_FIXED, ...keys.flatMap((k) => [k, `${k}_low`, `${k}_high`, `${k}_delta`])];
  const lines = board.rows.map((row) => {
    const fixed = [row.rank, row.run.id, row.method, row.model?.name, row.detector, row.threshold, row.run.team.name, row.run.promptSet.name, row.run.seed, row.run.imagesPerPrompt, row.configHash, row.isBaseline, row.versusBaseline?.baseline.id, row.versusBaseline?.beyondNoise, row.versusBaseline?.comparison.mcnemarP];
    const metrics = keys.flatMap((k) => {
      const m = metricOf(row, k);
      return [m?.value, m?.low, m?.high, row.versusBaseline?.deltas.find((d) => d.key === k)?.value];
    });
    return [...fixed, ...metrics].map(csvCell).join(',');
  });
  return [header.join(','), ...lines].join('\n') + '\n';
}
