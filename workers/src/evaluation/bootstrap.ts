/**
 * Percentile bootstrap confidence intervals over prompts.
 *
 * Each prompt contributes a row of additive tallies (images, correct images, ...); every aggregate is
 * a function of the column sums. One resample draws as many prompts as there are, with replacement,
 * sums their rows and evaluates every aggregate, so all aggregates share the same resamples. With
 * strata (GenEval's tags) the draws happen within each stratum, which keeps its size fixed. A seeded
 * PRNG makes the intervals reproducible. The paired bootstrap compares two runs on the same prompts:
 * it draws prompts, takes both runs' rows of each, and gives the difference's interval and p-value.
 */

export interface BootstrapOptions {
  /** number of resamples (default 1000) */
  resamples?: number;
  /** PRNG seed (default 1) */
  seed?: number;
  /** coverage of the interval (default 0.95) */
  confidence?: number;
}

export const DEFAULT_BOOTSTRAP = { resamples: 1000, seed: 1, confidence: 0.95 } as const;

/** An aggregate computed from column sums; null when undefined for those sums (e.g. 0 / 0). */
export type Statistic = (sums: Float64Array) => number | null;
export type Interval = [low: number, high: number];

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Linear interpolation between order statistics (numpy's default), on sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/** Sums the rows (all of the same width) column by column. */
function columnSums(rows: readonly ArrayLike<number>[], width: number): Float64Array {
  const sums = new Float64Array(width);
  for (const row of rows) for (let c = 0; c < width; c++) sums[c] += row[c];
  return sums;
}

export type Intervals<K extends string> = Record<K, Interval | null>;

/** Bootstrap options and, optionally, one stratum key per row. */
type ResampleOptions = BootstrapOptions & { strata?: readonly (string | number)[] };

/**
 * Each statistic over `resamples` resamples of the rows, in resample order, keeping only the resamples
 * where it is defined. `strata` (one key per row) resamples within each group, keeping group sizes
 * fixed. Every statistic sees the same resamples.
 */
function resampledStatistics<K extends string>(
  rows: readonly ArrayLike<number>[],
  width: number,
  statistics: Record<K, Statistic>,
  options: ResampleOptions,
): Record<K, Float64Array> {
  const { resamples, seed } = { ...DEFAULT_BOOTSTRAP, ...options };
  const names = Object.keys(statistics) as K[];
  if (rows.length === 0) return Object.fromEntries(names.map((name) => [name, new Float64Array(0)])) as Record<K, Float64Array>;

  // Identical rows are interchangeable draws, so each draw only counts its row's pattern and the sums
  // are folded from the counts once per resample: the cost per draw does not grow with the width,
  // and prompts with a handful of images have few distinct tallies.
  const patternIndex = new Map<string, number>();
  const patterns: number[] = [];
  const strata = new Map<string | number, number[]>(); // the pattern of each of the stratum's rows
  rows.forEach((row, r) => {
    const key = options.strata?.[r] ?? 0;
    const rowKey = Array.prototype.join.call(row, ',');
    let pattern = patternIndex.get(rowKey);
    if (pattern === undefined) {
      pattern = patternIndex.size;
      patternIndex.set(rowKey, pattern);
      for (let c = 0; c < width; c++) patterns.push(row[c]);
    }
    const members = strata.get(key) ?? [];
    members.push(pattern);
    strata.set(key, members);
  });

  const random = mulberry32(seed);
  const drawn = new Int32Array(patternIndex.size);
  const total = new Float64Array(width);
  const values = names.map(() => new Float64Array(resamples));
  const kept = names.map(() => 0); // resamples where each statistic is defined
  const groups = [...strata.values()].map((stratum) => Int32Array.from(stratum));
  for (let s = 0; s < resamples; s++) {
    drawn.fill(0);
    for (const members of groups) {
      for (let i = 0; i < members.length; i++) drawn[members[Math.floor(random() * members.length)]]++;
    }
    total.fill(0);
    for (let p = 0; p < drawn.length; p++) {
      const times = drawn[p];
      if (times === 0) continue;
      for (let c = 0; c < width; c++) total[c] += times * patterns[p * width + c];
    }
    names.forEach((name, k) => {
      const value = statistics[name](total);
      if (value !== null) values[k][kept[k]++] = value;
    });
  }
  return Object.fromEntries(names.map((name, k) => [name, values[k].subarray(0, kept[k])])) as Record<K, Float64Array>;
}

/** The percentile interval of resampled values (sorted in place); null when there are none. */
function percentileInterval(values: Float64Array, confidence: number): Interval | null {
  if (values.length === 0) return null;
  const sorted = values.sort();
  const tail = (1 - confidence) / 2;
  return [quantile(sorted, tail), quantile(sorted, 1 - tail)];
}

/**
 * Intervals for each named statistic. `strata` (one key per row) resamples within each group, keeping
 * group sizes fixed: used where an aggregate averages over groups (GenEval's tags). A statistic gets
 * null when it is undefined in every resample, or when there are no rows.
 */
export function bootstrapIntervals<K extends string>(
  rows: readonly ArrayLike<number>[],
  width: number,
  statistics: Record<K, Statistic>,
  options: ResampleOptions = {},
): Intervals<K> {
  const { confidence } = { ...DEFAULT_BOOTSTRAP, ...options };
  const resampled = resampledStatistics(rows, width, statistics, options);
  const intervals = {} as Intervals<K>;
  for (const name of Object.keys(statistics) as K[]) intervals[name] = percentileInterval(resampled[name], confidence);
  return intervals;
}

/** One statistic of run B minus the same statistic of run A, on the same prompts. */
export interface PairedDifference {
  /** on all the prompts; null where either run's statistic is undefined */
  difference: number | null;
  /** percentile bootstrap interval of the difference */
  interval: Interval | null;
  /**
   * Two-sided bootstrap p-value of "no difference": twice the smaller share of resampled differences
   * on either side of 0 (each side counting 0 itself), with the +1 correction that keeps an estimate
   * from `resamples` draws away from 0 (Davison and Hinkley, 1997, §4.4): at least 2 / (resamples + 1).
   * 1 when every resample gives exactly 0. Null when the difference is undefined in every resample.
   */
  p: number | null;
}

/**
 * Paired bootstrap over prompts of each statistic's difference between two runs: `a[i]` and `b[i]` are
 * the same prompt's tallies in run A and in run B. A resample draws prompts with replacement and takes
 * both runs' rows of each prompt drawn, so whatever the two runs share per prompt (its difficulty, its
 * seeds) cancels out of the difference. `strata` as for bootstrapIntervals.
 */
export function pairedBootstrap<K extends string>(
  a: readonly ArrayLike<number>[],
  b: readonly ArrayLike<number>[],
  width: number,
  statistics: Record<K, Statistic>,
  options: ResampleOptions = {},
): Record<K, PairedDifference> {
  if (a.length !== b.length) throw new Error(`pairedBootstrap: ${a.length} rows of run A but ${b.length} of run B; each prompt needs a row in both`);
  const { confidence } = { ...DEFAULT_BOOTSTRAP, ...options };
  const joined = a.map((row, i) => {
    const both = new Float64Array(2 * width);
    for (let c = 0; c < width; c++) [both[c], both[width + c]] = [row[c], b[i][c]];
    return both;
  });
  const names = Object.keys(statistics) as K[];
  const differences = Object.fromEntries(
    names.map((name) => [
      name,
      (sums: Float64Array) => {
        const [x, y] = [statistics[name](sums.subarray(0, width)), statistics[name](sums.subarray(width))];
        return x === null || y === null ? null : y - x;
      },
    ]),
  ) as Record<K, Statistic>;
  const points = pointEstimates(joined, 2 * width, differences);
  const resampled = resampledStatistics(joined, 2 * width, differences, options);
  const out = {} as Record<K, PairedDifference>;
  for (const name of names) {
    const values = resampled[name];
    let below = 0,
      above = 0;
    for (const d of values) {
      if (d <= 0) below++;
      if (d >= 0) above++;
    }
    const p = values.length === 0 ? null : Math.min(1, (2 * (Math.min(below, above) + 1)) / (values.length + 1));
    out[name] = { difference: points[name], interval: percentileInterval(values, confidence), p };
  }
  return out;
}

/**
 * Per-image results grouped by prompt, prompts in id order and images in the order given: the order of
 * the rows fixes which prompt each bootstrap draw picks, so it must not depend on the input's order.
 */
export function groupByPrompt<R extends { prompt: number }>(results: readonly R[]): R[][] {
  const byPrompt = new Map<number, R[]>();
  for (const r of results) {
    const list = byPrompt.get(r.prompt);
    if (list) list.push(r);
    else byPrompt.set(r.prompt, [r]);
  }
  return [...byPrompt.entries()].sort(([a], [b]) => a - b).map(([, list]) => list);
}

/** The statistics evaluated on the full data: the point estimates that go with the intervals. */
export function pointEstimates<K extends string>(
  rows: readonly ArrayLike<number>[],
  width: number,
  statistics: Record<K, Statistic>,
): Record<K, number | null> {
  const sums = columnSums(rows, width);
  const out = {} as Record<K, number | null>;
  for (const name of Object.keys(statistics) as K[]) out[name] = statistics[name](sums);
  return out;
}
