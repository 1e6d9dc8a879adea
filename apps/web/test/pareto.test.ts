/** The Pareto front of runs by seconds per image and score (lib/pareto.ts), on a board worked by hand. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { paretoFront } from '../src/lib/pareto';

test('the front, worked by hand: cheapest, then each run better than every cheaper one; ties on both axes stay together', () => {
  // cost (s/image), score:
  //  a 0.07  53  cheapest: on the front
  //  b 0.13  99  better than everything cheaper: on
  //  c 0.10  60  better than a (the only cheaper run): on
  //  d 0.20  99  as good as b and slower: beaten by b
  //  e 0.10  55  as fast as c and worse: beaten by c
  //  f 0.50  98  slower and worse than b: beaten
  //  g 0.13  99  b's twin: neither beats the other, both on
  //  h 0.07  53  a's twin: both on
  const points = [
    { cost: 0.07, score: 53 },
    { cost: 0.13, score: 99 },
    { cost: 0.1, score: 60 },
    { cost: 0.2, score: 99 },
    { cost: 0.1, score: 55 },
    { cost: 0.5, score: 98 },
    { cost: 0.13, score: 99 },
    { cost: 0.07, score: 53 },
  ];
  assert.deepEqual(paretoFront(points), [true, true, true, false, false, false, true, true]);
});

test('a metric where lower is better turns the score axis round; one run and no run are handled', () => {
  const points = [
    { cost: 1, score: 0.5 },
    { cost: 2, score: 0.2 },
    { cost: 3, score: 0.3 },
  ];
  assert.deepEqual(paretoFront(points, false), [true, true, false]);
  assert.deepEqual(paretoFront(points, true), [true, false, false]);
  assert.deepEqual(paretoFront([{ cost: 5, score: 1 }]), [true]);
  assert.deepEqual(paretoFront([]), []);
});

test('agrees with the definition (no other point as good on both, better on one) on random boards', () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let board = 0; board < 200; board++) {
    // Few distinct values, so that ties on one or both axes are common.
    const points = Array.from({ length: 1 + Math.floor(random() * 12) }, () => ({ cost: Math.floor(random() * 5), score: Math.floor(random() * 5) }));
    for (const higherIsBetter of [true, false]) {
      const better = (a: number, b: number) => (higherIsBetter ? a > b : a < b);
      const expected = points.map((p) => !points.some((q) => q.cost <= p.cost && !better(p.score, q.score) && (q.cost < p.cost || better(q.score, p.score))));
      assert.deepEqual(paretoFront(points, higherIsBetter), expected, JSON.stringify(points));
    }
  }
});
