/** compareRuns' paired statistics: McNemar's exact test and the paired bootstrap over prompts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mcnemarExact, pairedTest, type ImagePair } from '../../src/stats/paired.ts';

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
  const pairs = [pair(0, 0, true, true), pair(0, 1, false, true), pair(1, 0, false, true), pair(1, 1, false, false), pair(2, 0, true, false), pair(2, 1, false, true)];
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
