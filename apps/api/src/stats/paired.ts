/**
 * Paired tests for comparing two runs image by image (same prompt, same image index): McNemar's exact
 * test on the discordant correct/incorrect pairs, and a paired bootstrap interval, over prompts as the
 * scorers' own intervals are, of the mean difference in image score.
 */
import { bootstrapIntervals, DEFAULT_BOOTSTRAP, pointEstimates, type BootstrapOptions, type Interval } from '@infsplign/workers/evaluation/bootstrap.ts';

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
  let bothCorrect = 0, neitherCorrect = 0, onlyA = 0, onlyB = 0;
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
