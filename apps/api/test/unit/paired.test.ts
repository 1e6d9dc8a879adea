/** compareRuns' paired statistics: McNemar's exact test and the paired bootstrap over prompts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pairedBootstrap, type ScoredImage, type Statistic, TALLY_RULES } from '@infsplign/workers/benchmarks';
import { compareMetrics, mcnemarExact, pairedTest, type ImagePair } from '../../src/stats/paired.ts';

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} != ${expected}`);

test('McNemar exact: two-sided binomial tail on the discordant pairs', () => {
  assert.equal(mcnemarExact(0, 0), 1);
  // 0 of 6 discordant pairs favour A: 2 * 0.5^6
  close(mcnemarExact(0, 6), 2 / 64);
  close(mcnemarExact(6, 0), 2 / 64);
  // 1 vs 9: 2 * (1 + 10) / 1024
  close(mcnemarExact(1, 9), 22 / 1024);
  // balanced: capped at 1
  assert.equal(mcnemarExact(5, 5), 1);
  // large counts stay finite and tiny instead of underflowing to NaN
  const p = mcnemarExact(20_000, 21_000);
  assert.ok(p > 0 && p < 1e-5, String(p));
});

function pair(prompt: number, image: number, a: boolean, b: boolean): ImagePair {
  return { prompt, image, a: { correct: a, score: Number(a) }, b: { correct: b, score: Number(b) } };
}

test('pairedTest counts the four cells and bootstraps the mean difference over prompts', () => {
  const pairs = [
    pair(0, 0, true, true),
    pair(0, 1, false, true),
    pair(1, 0, false, true),
    pair(1, 1, false, false),
    pair(2, 0, true, false),
    pair(2, 1, false, true),
  ];
  const result = pairedTest(pairs, { resamples: 200, seed: 3 });
  assert.deepEqual([result.bothCorrect, result.onlyA, result.onlyB, result.neitherCorrect, result.pairs], [1, 1, 3, 1, 6]);
  assert.equal(result.meanDifference, 2 / 6);
  const [low, high] = result.meanDifferenceInterval!;
  assert.ok(low <= result.meanDifference! && result.meanDifference! <= high);
  assert.equal(result.mcnemarP, mcnemarExact(1, 3));
  // Reproducible: the same seed gives the same interval, whatever order the pairs come in.
  assert.deepEqual(pairedTest([...pairs].reverse(), { resamples: 200, seed: 3 }).meanDifferenceInterval, result.meanDifferenceInterval);
});

test('pairedTest of nothing has no difference and p = 1', () => {
  const result = pairedTest([]);
  assert.equal(result.meanDifference, null);
  assert.equal(result.meanDifferenceInterval, null);
  assert.equal(result.mcnemarP, 1);
});

// ---------------------------------------------------------------------------------------------
// The paired bootstrap over prompts, against the exact bootstrap distribution: with k prompts, the
// k^k ordered draws with replacement are equally likely, so enumerating them gives the distribution
// that resampling estimates.

/** Every ordered draw of `k` items from `k` with replacement, as lists of indices. */
function* draws(k: number): Generator<number[]> {
  const indices = new Array<number>(k).fill(0);
  for (;;) {
    yield [...indices];
    let i = k - 1;
    while (i >= 0 && indices[i] === k - 1) indices[i--] = 0;
    if (i < 0) return;
    indices[i]++;
  }
}

/** The exact bootstrap distribution of stat(B) − stat(A) (null draws left out), each value with its probability. */
function exactDifferences(a: number[][], b: number[][], stat: Statistic, strata?: number[]): { value: number; weight: number }[] {
  const groups = strata ? [...new Set(strata)].map((s) => strata.flatMap((t, i) => (t === s ? [i] : []))) : [a.map((_, i) => i)];
  const out: { value: number; weight: number }[] = [];
  const combine = (g: number, chosen: number[], weight: number) => {
    if (g === groups.length) {
      const sum = (rows: number[][]) => Float64Array.from(rows[0]!.map((_, c) => chosen.reduce((s, i) => s + rows[i]![c]!, 0)));
      const [x, y] = [stat(sum(a)), stat(sum(b))];
      if (x !== null && y !== null) out.push({ value: y - x, weight });
      return;
    }
    const members = groups[g]!;
    const total = members.length ** members.length;
    for (const draw of draws(members.length)) combine(g + 1, [...chosen, ...draw.map((j) => members[j]!)], weight / total);
  };
  combine(0, [], 1);
  const defined = out.reduce((s, d) => s + d.weight, 0);
  return out.map((d) => ({ value: d.value, weight: d.weight / defined }));
}

const share = (exact: { value: number; weight: number }[], holds: (v: number) => boolean) =>
  exact.filter((d) => holds(d.value)).reduce((s, d) => s + d.weight, 0);

/** VISOR_cond-like: correct / both-detected, undefined for 0 / 0. */
const ratio: Statistic = (s) => (s[1] > 0 ? s[0] / s[1] : null);

function assertMatchesExact(a: number[][], b: number[][], strata?: number[]) {
  const exact = exactDifferences(a, b, ratio, strata);
  const resamples = 200_000;
  const { ratio: paired } = pairedBootstrap(a, b, 2, { ratio }, { resamples, seed: 7, ...(strata && { strata }) });
  const full = (rows: number[][]) => ratio(Float64Array.from([0, 1].map((c) => rows.reduce((s, r) => s + r[c]!, 0))))!;
  close(paired.difference!, full(b) - full(a));
  const pExact = Math.min(
    1,
    2 *
      Math.min(
        share(exact, (v) => v <= 0),
        share(exact, (v) => v >= 0),
      ),
  );
  // 200,000 draws: the estimate's standard error is under 0.0012.
  assert.ok(Math.abs(paired.p! - pExact) < 0.006, `p ${paired.p} vs exact ${pExact}`);
  const [low, high] = paired.interval!;
  // The interval's ends are the distribution's 2.5% and 97.5% points.
  assert.ok(share(exact, (v) => v < low - 1e-12) <= 0.025 + 0.004 && share(exact, (v) => v <= low + 1e-12) >= 0.025 - 0.004, `low ${low}`);
  assert.ok(share(exact, (v) => v < high - 1e-12) <= 0.975 + 0.004 && share(exact, (v) => v <= high + 1e-12) >= 0.975 - 0.004, `high ${high}`);
  return { paired, pExact };
}

test('pairedBootstrap: the p-value and interval of a ratio metric are those of the exact bootstrap distribution', () => {
  // Five prompts, [correct, both detected] per run: B better on some, worse on one, undefined on none.
  const a = [
    [1, 4],
    [0, 3],
    [2, 4],
    [1, 2],
    [3, 4],
  ];
  const b = [
    [2, 4],
    [2, 4],
    [1, 3],
    [1, 2],
    [3, 4],
  ];
  const { pExact } = assertMatchesExact(a, b);
  assert.ok(pExact > 0.001 && pExact < 0.5, `a case away from the edges: ${pExact}`);
  // A prompt where a run detects nothing (0 / 0): draws of only such prompts are undefined and left out.
  assertMatchesExact(
    [
      [0, 0],
      [1, 2],
      [0, 2],
    ],
    [
      [1, 1],
      [0, 0],
      [2, 2],
    ],
  );
});

test('pairedBootstrap: strata resample within each group, as the exact distribution within groups', () => {
  assertMatchesExact(
    [
      [1, 4],
      [0, 3],
      [2, 4],
      [1, 2],
    ],
    [
      [3, 4],
      [1, 4],
      [2, 3],
      [2, 2],
    ],
    [0, 0, 1, 1],
  );
});

test('pairedBootstrap: a difference every resample shares has the floor p = 2 / (resamples + 1); none at all has p = 1', () => {
  const a = [
    [1, 2],
    [1, 2],
    [0, 2],
  ];
  const shifted = a.map(([c, n]) => [c! + 1, n!]);
  const { ratio: up } = pairedBootstrap(a, shifted, 2, { ratio }, { resamples: 999 });
  assert.deepEqual([up.p, up.interval], [2 / 1000, [0.5, 0.5]]);
  const { ratio: same } = pairedBootstrap(a, a, 2, { ratio }, { resamples: 999 });
  assert.deepEqual([same.difference, same.p], [0, 1]);
  const { ratio: undefinedEverywhere } = pairedBootstrap([[0, 0]], [[1, 1]], 2, { ratio });
  assert.deepEqual(undefinedEverywhere, { difference: null, interval: null, p: null });
  assert.throws(() => pairedBootstrap([[0, 1]], [], 2, { ratio }), /1 rows of run A but 0 of run B/);
});

// ---------------------------------------------------------------------------------------------
// compareMetrics: which test each metric gets.

const image = (correct: boolean, detected = true): ScoredImage => ({ correct, score: Number(correct), aDetected: detected, bDetected: detected, tag: null });
const VISOR_KEYS = ['OA', 'VISOR_cond', 'VISOR_uncond', 'VISOR_1', 'VISOR_2'].map((key) => ({ key, minImagesPerPrompt: key === 'VISOR_2' ? 2 : null }));

test('compareMetrics: McNemar for a per-image rate when images pair one to one, the paired bootstrap otherwise', () => {
  // Two images per prompt; B gets image 1 right on six prompts where A did not, and A one image B misses.
  const prompts = Array.from({ length: 8 }, (_, i) => ({ a: [image(true), image(i === 7)], b: [image(i !== 7), image(i < 6 || i === 7)] }));
  const paired = compareMetrics(TALLY_RULES.visor, VISOR_KEYS, prompts, { imagePaired: true, imagesPerPrompt: [2, 2] });
  const byKey = Object.fromEntries(paired.map((m) => [m.key, m]));
  assert.deepEqual(
    paired.map((m) => [m.key, m.test]),
    [
      ['OA', 'MCNEMAR'],
      ['VISOR_cond', 'BOOTSTRAP'],
      ['VISOR_uncond', 'MCNEMAR'],
      ['VISOR_1', 'BOOTSTRAP'],
      ['VISOR_2', 'BOOTSTRAP'],
    ],
  );
  // VISOR_uncond's discordant images: image 1 of prompts 0-5 (B only), image 0 of prompt 7 (A only).
  assert.equal(byKey.VISOR_uncond.p, mcnemarExact(1, 6));
  assert.equal(byKey.OA.p, 1, 'every image holds both objects in both runs');
  close(byKey.VISOR_cond.a!, (100 * 9) / 16);
  close(byKey.VISOR_cond.b!, (100 * 14) / 16);
  close(byKey.VISOR_cond.difference!, byKey.VISOR_cond.b! - byKey.VISOR_cond.a!);
  assert.equal(byKey.VISOR_uncond.beyondNoise, byKey.VISOR_uncond.p! < 0.05);

  const byPrompt = compareMetrics(TALLY_RULES.visor, VISOR_KEYS, prompts, { imagePaired: false, imagesPerPrompt: [2, 2] });
  assert.ok(byPrompt.every((m) => m.test === 'BOOTSTRAP'));
  const uncond = byPrompt.find((m) => m.key === 'VISOR_uncond')!;
  assert.notEqual(uncond.p, byKey.VISOR_uncond.p);
  assert.deepEqual(
    [uncond.difference, uncond.low, uncond.high],
    [byKey.VISOR_uncond.difference, byKey.VISOR_uncond.low, byKey.VISOR_uncond.high],
    'the same difference and interval, only the test differs',
  );

  // One image per prompt in run A: VISOR_2 is undefined, not 0.
  const single = compareMetrics(
    TALLY_RULES.visor,
    VISOR_KEYS,
    prompts.map((p) => ({ a: p.a.slice(0, 1), b: p.b })),
    { imagePaired: false, imagesPerPrompt: [1, 2] },
  );
  assert.deepEqual(
    single.find((m) => m.key === 'VISOR_2'),
    { key: 'VISOR_2', a: null, b: null, difference: null, low: null, high: null, test: 'BOOTSTRAP', p: null, beyondNoise: false },
  );
});
