import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapIntervals, pointEstimates, type Statistic } from '../../../src/evaluation/bootstrap.ts';

// Rows: [correct images, images] per prompt; the statistic is the fraction correct.
const rows = Array.from({ length: 50 }, (_, i) => [i % 3 === 0 ? 4 : i % 3, 4]);
const fraction: Statistic = (s) => (s[1] > 0 ? s[0] / s[1] : null);
const intervalOf = (data: number[][], options = {}) => bootstrapIntervals(data, 2, { fraction }, options).fraction;

describe('bootstrapIntervals', () => {
  test('the same seed gives the same interval; another seed another one', () => {
    const a = intervalOf(rows, { seed: 7 });
    assert.deepEqual(intervalOf(rows, { seed: 7 }), a);
    assert.notDeepEqual(intervalOf(rows, { seed: 8 }), a);
  });

  test("the 95% interval brackets the point estimate and lies inside the data's range", () => {
    const value = pointEstimates(rows, 2, { fraction }).fraction!;
    const [low, high] = intervalOf(rows)!;
    assert.ok(0.25 < low && low < value && value < high && high < 1, `[${low}, ${high}] around ${value}`);
    const [low80, high80] = intervalOf(rows, { confidence: 0.8 })!;
    assert.ok(low < low80 && high80 < high, 'a lower confidence gives a narrower interval');
  });

  test('identical prompts give a zero-width interval', () => {
    assert.deepEqual(
      intervalOf([
        [1, 4],
        [1, 4],
        [1, 4],
      ]),
      [0.25, 0.25],
    );
  });

  test('no rows, or a statistic undefined in every resample, gives null', () => {
    assert.equal(intervalOf([]), null);
    assert.equal(intervalOf([[0, 0]]), null);
  });

  test("strata keep each group's size in every resample", () => {
    // column 1 counts group-a rows: fixed at 3 only if each resample draws 3 rows from group a
    const grouped = [
      [1, 1],
      [0, 1],
      [1, 1],
      [5, 0],
      [7, 0],
    ];
    const groupASize: Statistic = (s) => s[1];
    assert.deepEqual(bootstrapIntervals(grouped, 2, { groupASize }, { strata: ['a', 'a', 'a', 'b', 'b'] }).groupASize, [3, 3]);
    const [low, high] = bootstrapIntervals(grouped, 2, { groupASize }).groupASize!;
    assert.ok(low < high, 'without strata the group sizes vary');
  });
});
