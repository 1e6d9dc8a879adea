/**
 * Percentile bootstrap confidence intervals over prompts.
 *
 * Each prompt contributes a row of additive tallies (images, correct images, ...); every aggregate is
 * a function of the column sums. One resample draws as many prompts as there are, with replacement,
 * sums their rows and evaluates every aggregate, so all aggregates share the same resamples and the
 * cost is resamples x prompts x columns. A seeded PRNG makes the intervals reproducible.
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
export function columnSums(rows: readonly ArrayLike<number>[], width: number): Float64Array {
  const sums = new Float64Array(width);
  for (const row of rows) for (let c = 0; c < width; c++) sums[c] += row[c];
  return sums;
}

/**
 * Intervals for each named statistic. `strata` (one group key per row) resamples within each group,
 * keeping group sizes fixed: used where an aggregate averages over groups (GenEval's tags). Resamples
 * where a statistic is null are left out of its interval; it is null when none remain or there are no rows.
 */
export function bootstrapIntervals<K extends string>(
  rows: readonly ArrayLike<number>[],
  width: number,
  statistics: Record<K, Statistic>,
  options: BootstrapOptions & { strata?: readonly (string | number)[] } = {},
): Record<K, Interval | null> {
  const { resamples, seed, confidence } = { ...DEFAULT_BOOTSTRAP, ...options };
  const names = Object.keys(statistics) as K[];
  const intervals = {} as Record<K, Interval | null>;
  if (rows.length === 0) {
    for (const name of names) intervals[name] = null;
    return intervals;
  }

  const flat = new Float64Array(rows.length * width);
  rows.forEach((row, r) => {
    for (let c = 0; c < width; c++) flat[r * width + c] = row[c];
  });
  const groups = new Map<string | number, number[]>();
  rows.forEach((_, r) => {
    const key = options.strata?.[r] ?? 0;
    const members = groups.get(key) ?? [];
    members.push(r);
    groups.set(key, members);
  });

  const random = mulberry32(seed);
  const sums = new Float64Array(width);
  const values = names.map(() => new Float64Array(resamples));
  const counts = names.map(() => 0);
  for (let s = 0; s < resamples; s++) {
    sums.fill(0);
    for (const members of groups.values()) {
      for (let i = 0; i < members.length; i++) {
        const offset = members[Math.floor(random() * members.length)] * width;
        for (let c = 0; c < width; c++) sums[c] += flat[offset + c];
      }
    }
    names.forEach((name, k) => {
      const value = statistics[name](sums);
      if (value !== null) values[k][counts[k]++] = value;
    });
  }

  const tail = (1 - confidence) / 2;
  names.forEach((name, k) => {
    const kept = values[k].subarray(0, counts[k]).sort();
    intervals[name] = kept.length === 0 ? null : [quantile(kept, tail), quantile(kept, 1 - tail)];
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
