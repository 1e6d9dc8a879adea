/**
 * A leaderboard as the page, the sweep plot and the export show it: the API's rows for a benchmark,
 * filtered by method and threshold here (the API filters by model and detector), and sorted. The API
 * ranks each model's runs apart and leaves runs below its minimum size unranked; with no benchmark
 * asked for, the one whose latest finished run is newest is shown.
 */
import { graphql } from '../gql';
import type { CatalogueQuery, LeaderboardQuery, SortDirection } from '../gql/graphql';
import { query } from './api';
import { toCsv } from './csv';
import { primaryMetric } from './metrics';
import type { SearchParams } from './search-params';
import { param } from './search-params';

export { metricOf } from './metrics';

const LEADERBOARD = graphql(`
  query Leaderboard($benchmark: String!, $model: String, $detector: String, $sort: LeaderboardSort, $withBaseline: Boolean!) {
    leaderboard(benchmark: $benchmark, model: $model, detector: $detector, sort: $sort) {
      rank
      ranked
      promptsScored
      imagesScored
      method
      configHash
      isBaseline
      detector
      threshold
      model {
        name
      }
      run {
        id
        config
        seed
        imagesPerPrompt
        limit
        finishedAt
        promptSet {
          name
        }
        team {
          name
        }
      }
      metrics {
        ...MetricValueFields
      }
      cost {
        ...RunCostFields
      }
      versusBaseline @include(if: $withBaseline) {
        baseline {
          id
        }
        deltas {
          key
          value
        }
        primary {
          ...MetricComparisonFields
        }
        beyondNoise
      }
      versusLeader @include(if: $withBaseline) {
        leader {
          id
        }
        primary {
          ...MetricComparisonFields
        }
        tiedWithinNoise
      }
    }
  }
`);

const CATALOGUE = graphql(`
  query Catalogue {
    benchmarks {
      name
      defaultThreshold
      primaryMetric
      latestFinishedAt
      metrics {
        ...MetricDefinitionFields
      }
    }
    models {
      name
    }
    methods {
      name
    }
    leaderboardRules {
      minRankedImages
    }
  }
`);

/** A leaderboard row; versusBaseline and versusLeader are absent when not asked for (loadLeaderboard's withBaseline). */
export type LeaderboardRow = LeaderboardQuery['leaderboard'][number];
export type BenchmarkSummary = CatalogueQuery['benchmarks'][number];

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
  /** runs with fewer scored images are listed apart, unranked */
  minRankedImages: number;
}

const textKey = (row: LeaderboardRow, key: (typeof TEXT_SORTS)[number]): string | number =>
  key === 'method'
    ? (row.method ?? '')
    : key === 'model'
      ? (row.model?.name ?? '')
      : key === 'detector'
        ? row.detector
        : key === 'threshold'
          ? row.threshold
          : row.run.team.name;

/** The benchmark whose most recent run finished last (the first by name when none has finished). */
export function newestBenchmark(benchmarks: readonly BenchmarkSummary[]): BenchmarkSummary | undefined {
  const finished = benchmarks.filter((b) => b.latestFinishedAt !== null);
  if (finished.length === 0) return benchmarks[0];
  return finished.reduce((best, b) => (Date.parse(b.latestFinishedAt!) > Date.parse(best.latestFinishedAt!) ? b : best));
}

/**
 * Throws ApiError (API down, unknown benchmark) or a plain Error naming a bad filter. Rows carry
 * their comparisons with the baseline and the leader (paired tests) unless `withBaseline` is false.
 */
export async function loadLeaderboard(filters: LeaderboardFilters, { withBaseline = true } = {}): Promise<Leaderboard> {
  const catalogue = await query(CATALOGUE);
  const { benchmarks, models, methods } = catalogue;
  if (benchmarks.length === 0) throw new Error('The API knows no benchmarks yet: run `npm run db:seed`.');
  const benchmark = filters.benchmark ? benchmarks.find((b) => b.name === filters.benchmark) : newestBenchmark(benchmarks);
  if (!benchmark) throw new Error(`There is no benchmark "${filters.benchmark}"; the API has ${benchmarks.map((b) => b.name).join(', ')}.`);
  const isMetric = filters.sort !== undefined && benchmark.metrics.some((m) => m.key === filters.sort);
  const rankedBy = isMetric ? filters.sort! : (primaryMetric(benchmark.metrics)?.key ?? benchmark.primaryMetric);
  const sort = { metric: rankedBy, ...(isMetric && filters.dir ? { direction: filters.dir.toUpperCase() as SortDirection } : {}) };
  const data = await query(LEADERBOARD, { benchmark: benchmark.name, model: filters.model, detector: filters.detector, sort, withBaseline });
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
    const byRank = (r: LeaderboardRow) => r.rank ?? Infinity;
    rows = [...rows].sort((a, b) => {
      const [x, y] = [textKey(a, textSort), textKey(b, textSort)];
      return sign * (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) || byRank(a) - byRank(b);
    });
  }
  return {
    benchmarks,
    benchmark,
    models: models.map((m) => m.name),
    methods: methods.map((m) => m.name),
    rows,
    rankedBy,
    minRankedImages: catalogue.leaderboardRules.minRankedImages,
  };
}

const CSV_FIXED = [
  'rank',
  'ranked',
  'run_id',
  'method',
  'model',
  'detector',
  'threshold',
  'team',
  'prompt_set',
  'seed',
  'images_per_prompt',
  'prompts_scored',
  'images_scored',
  'config_hash',
  'is_baseline',
  'baseline_run_id',
  'primary_metric',
  'primary_delta',
  'primary_delta_low',
  'primary_delta_high',
  'primary_test',
  'primary_p',
  'beyond_noise',
  'leader_run_id',
  'leader_p',
  'tied_with_leader',
  'seconds_per_image',
  'unet_evaluations_per_image',
  'backward_passes_per_image',
  'device',
];

/** One line per row; the primary metric's paired tests against the baseline and the leader; the cost per image; per metric its value, interval and delta versus the baseline. */
export function leaderboardCsv(board: Leaderboard): string {
  const keys = board.benchmark.metrics.map((m) => m.key);
  const header = [...CSV_FIXED, ...keys.flatMap((k) => [k, `${k}_low`, `${k}_high`, `${k}_delta`])];
  const primary = primaryMetric(board.benchmark.metrics)?.key;
  const lines = board.rows.map((row) => {
    const versus = row.versusBaseline?.primary;
    const leader = row.versusLeader;
    const fixed = [
      row.rank,
      row.ranked,
      row.run.id,
      row.method,
      row.model?.name,
      row.detector,
      row.threshold,
      row.run.team.name,
      row.run.promptSet.name,
      row.run.seed,
      row.run.imagesPerPrompt,
      row.promptsScored,
      row.imagesScored,
      row.configHash,
      row.isBaseline,
      row.versusBaseline?.baseline.id,
      primary,
      versus?.difference,
      versus?.low,
      versus?.high,
      versus?.test,
      versus?.p,
      row.versusBaseline?.beyondNoise,
      leader?.leader.id,
      leader?.primary.p,
      leader?.tiedWithinNoise,
      row.cost?.secondsPerImage,
      row.cost?.unetEvaluationsPerImage,
      row.cost?.backwardPassesPerImage,
      row.cost?.device,
    ];
    const metrics = keys.flatMap((k) => {
      const m = row.metrics.find((x) => x.key === k);
      return [m?.value, m?.low, m?.high, row.versusBaseline?.deltas.find((d) => d.key === k)?.value];
    });
    return [...fixed, ...metrics];
  });
  return toCsv(header, lines);
}
