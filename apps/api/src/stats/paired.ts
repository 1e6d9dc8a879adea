/**
 * Paired tests for comparing two runs: per metric, a paired bootstrap over prompts of the difference
 * in the metric, or McNemar's exact test where the metric is a per-image rate and the images are paired
 * one to one (compareMetrics); and, image by image (same prompt, same image index), the counts of the
 * correct/incorrect pairs with McNemar on them and a paired bootstrap interval of the mean difference
 * in image score (pairedTest).
 */
import {
  bootstrapIntervals,
  type BootstrapOptions,
  DEFAULT_BOOTSTRAP,
  type Interval,
  metricDefined,
  pairedBootstrap,
  pointEstimates,
  type ScoredImage,
  type TallyRules,
} from '@infsplign/workers/benchmarks';
import type { PairedTest as TestKind } from '../graphql/generated/resolvers.ts';

/** One image of run A and the image with the same prompt and index in run B. */
export interface ImagePair {
  prompt: number;
  image: number;
  a: { correct: boolean; score: number };
  b: { correct: boolean; score: number };
}

export interface PairedTest {
  pairs: number;
  bothCorrect: number;
  neitherCorrect: number;
  /** A correct, B not */
  onlyA: number;
  /** B correct, A not */
  onlyB: number;
  /** two-sided exact McNemar p-value (binomial on the discordant pairs); 1 when there are none */
  mcnemarP: number;
  /** mean over pairs of (score B - score A); null without pairs */
  meanDifference: number | null;
  /** percentile bootstrap interval of meanDifference, resampling prompts */
  meanDifferenceInterval: Interval | null;
  bootstrap: Required<BootstrapOptions> & { unit: 'prompt' };
}

/** log(n!) by summing logs once per call: n is at most the number of pairs, so this stays cheap. */
function logFactorials(n: number): Float64Array {
  const table = new Float64Array(n + 1);
  for (let i = 2; i <= n; i++) table[i] = table[i - 1] + Math.log(i);
  return table;
}

/**
 * Two-sided exact McNemar: under H0 each discordant pair is A-only or B-only with probability 1/2, so
 * p = min(1, 2 * P(X <= min(onlyA, onlyB))), X ~ Binomial(onlyA + onlyB, 1/2). Summed in log space so
 * that tens of thousands of discordant pairs do not underflow term by term.
 */
export function mcnemarExact(onlyA: number, onlyB: number): number {
  const n = onlyA + onlyB;
  if (n === 0) return 1;
  const k = Math.min(onlyA, onlyB);
  const lf = logFactorials(n);
  const half = n * Math.log(0.5);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += Math.exp(lf[n] - lf[i] - lf[n - i] + half);
  return Math.min(1, 2 * tail);
}

const meanDifference = (s: Float64Array) => (s[1] > 0 ? s[0] / s[1] : null);

export function pairedTest(pairs: readonly ImagePair[], bootstrap: BootstrapOptions = {}): PairedTest {
  let bothCorrect = 0,
    neitherCorrect = 0,
    onlyA = 0,
    onlyB = 0;
  // Per prompt: [sum of differences, pairs]; prompts in id order so the bootstrap is reproducible.
  const rowsByPrompt = new Map<number, [number, number]>();
  for (const pair of pairs) {
    if (pair.a.correct && pair.b.correct) bothCorrect++;
    else if (pair.a.correct) onlyA++;
    else if (pair.b.correct) onlyB++;
    else neitherCorrect++;
    const row = rowsByPrompt.get(pair.prompt) ?? [0, 0];
    row[0] += pair.b.score - pair.a.score;
    row[1] += 1;
    rowsByPrompt.set(pair.prompt, row);
  }
  const rows = [...rowsByPrompt.entries()].sort(([a], [b]) => a - b).map(([, row]) => row);
  const options = { ...DEFAULT_BOOTSTRAP, ...bootstrap };
  return {
    pairs: pairs.length,
    bothCorrect,
    neitherCorrect,
    onlyA,
    onlyB,
    mcnemarP: mcnemarExact(onlyA, onlyB),
    meanDifference: pointEstimates(rows, 2, { meanDifference }).meanDifference,
    meanDifferenceInterval: bootstrapIntervals(rows, 2, { meanDifference }, options).meanDifference,
    bootstrap: { ...options, unit: 'prompt' },
  };
}

/** The significance level of every "beyond noise" verdict. */
export const BEYOND_NOISE_P = 0.05;

/** One metric of run A against run B on the prompts they share. */
export interface MetricComparison {
  key: string;
  /** each run's figure on the compared prompts (null where undefined) */
  a: number | null;
  b: number | null;
  /** b - a */
  difference: number | null;
  /** paired bootstrap 95% interval of the difference over the compared prompts */
  low: number | null;
  high: number | null;
  test: TestKind;
  /** two-sided p of the test; null where the difference is undefined */
  p: number | null;
  beyondNoise: boolean;
}

/** One compared prompt: each run's scored images of it, in image index order. */
export interface PromptPair<I extends ScoredImage = ScoredImage> {
  a: readonly I[];
  b: readonly I[];
}

/** A metric as the comparison needs it: its key, and the images per prompt it needs to be defined. */
export interface ComparedMetric {
  key: string;
  minImagesPerPrompt?: number | null;
}

/**
 * Every metric of runs A and B on their shared prompts, each with the paired test that fits it: a
 * paired bootstrap over prompts (the aggregate recomputed from the scorer's tallies of each resample),
 * or, where the images are paired one to one (`imagePaired`: same seed and images per prompt) and the
 * metric is the rate of a per-image outcome, McNemar's exact test on the images whose outcome differs.
 * A metric that either run's images per prompt leave undefined (VISOR_n) has no figures and p = null.
 */
export function compareMetrics(
  rules: TallyRules,
  metrics: readonly ComparedMetric[],
  prompts: readonly PromptPair[],
  { imagePaired, imagesPerPrompt }: { imagePaired: boolean; imagesPerPrompt: readonly [number, number] },
  bootstrap: BootstrapOptions = {},
): MetricComparison[] {
  const defined = metrics.filter((m) => imagesPerPrompt.every((n) => metricDefined(m.minImagesPerPrompt, n)) && m.key in rules.statistics);
  const statistics = Object.fromEntries(defined.map((m) => [m.key, rules.statistics[m.key]!]));
  const [rowsA, rowsB] = [prompts.map((p) => rules.tally(p.a)), prompts.map((p) => rules.tally(p.b))];
  const strata = rules.stratum && prompts.map((p) => rules.stratum!(p.a[0]!));
  const paired = pairedBootstrap(rowsA, rowsB, rules.width, statistics, { ...DEFAULT_BOOTSTRAP, ...bootstrap, ...(strata && { strata }) });
  const [figuresA, figuresB] = [pointEstimates(rowsA, rules.width, statistics), pointEstimates(rowsB, rules.width, statistics)];
  return metrics.map(({ key }) => {
    const outcome = rules.imageOutcomes[key];
    const test: TestKind = imagePaired && outcome ? 'MCNEMAR' : 'BOOTSTRAP';
    const difference = paired[key];
    if (!difference) return { key, a: null, b: null, difference: null, low: null, high: null, test, p: null, beyondNoise: false };
    const p = test === 'MCNEMAR' && difference.difference !== null ? mcnemarOfOutcome(prompts, outcome!) : difference.p;
    return {
      key,
      a: figuresA[key] ?? null,
      b: figuresB[key] ?? null,
      difference: difference.difference,
      low: difference.interval?.[0] ?? null,
      high: difference.interval?.[1] ?? null,
      test,
      p,
      beyondNoise: p !== null && p < BEYOND_NOISE_P,
    };
  });
}

/** McNemar's exact p on a per-image outcome, image k of a prompt in A against image k of it in B. */
function mcnemarOfOutcome(prompts: readonly PromptPair[], outcome: (image: ScoredImage) => boolean | null): number {
  let onlyA = 0,
    onlyB = 0;
  for (const { a, b } of prompts) {
    for (let k = 0; k < Math.min(a.length, b.length); k++) {
      const [x, y] = [outcome(a[k]!), outcome(b[k]!)];
      if (x === null || y === null || x === y) continue;
      if (x) onlyA++;
      else onlyB++;
    }
  }
  return mcnemarExact(onlyA, onlyB);
}
