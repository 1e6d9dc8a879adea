/**
 * Percentile bootstrap confidence intervals over prompts.
 *
 * Each prompt contributes a row of additive tallies (images, correct images, ...); every aggregate is
 * a function of the column sums. One resample draws as many prompts as there are, with replacement,
 * sums their rows and evaluates every aggregate, so all aggregates share the same resamples. With
 * strata (GenEval's tags) the draws happen within each stratum, which keeps its size fixed. A seeded
 * PRNG makes the intervals reproducible.
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

/**
 * Intervals for each named statistic. `strata` (one key per row) resamples within each group, keeping
 * group sizes fixed: used where an aggregate averages over groups (GenEval's tags). A statistic gets
 * null when it is undefined in every resample, or when there are no rows.
 */
export function bootstrapIntervals<K extends string>(
  rows: readonly ArrayLike<number>[],
  width: number,
  statistics: Record<K, Statistic>,
  options: BootstrapOptions & { strata?: readonly (string | number)[] } = {},
): Intervals<K> {
  const { resamples, seed, confidence } = { ...DEFAULT_BOOTSTRAP, ...options };
  const names = Object.keys(statistics) as K[];
  if (rows.length === 0) {
    return Object.fromEntries(names.map((name) => [name, null])) as Intervals<K>;
  }

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

  const tail = (1 - confidence) / 2;
  const intervals = {} as Intervals<K>;
  names.forEach((name, k) => {
    const sorted = values[k].subarray(0, kept[k]).sort();
    intervals[name] = sorted.length === 0 ? null : [quantile(sorted, tail), quantile(sorted, 1 - tail)];
  });
  return intervals;
}

/** The statistics evaluated on the full data: the point estimates that go with the intervals. */
export function pointEstimates<K extends string>(rows: readonly ArrayLike<number>[], width: number, statistics: Record<K, Statistic>): Record<K, number | null> {
  const sums = columnSums(rows, width);
  const out = {} as Record<K, number | null>;
  for (const name of Object.keys(statistics) as K[]) out[name] = statistics[name](sums);
  return out;
}
