import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nonMaxSuppression } from '../../../src/evaluation/detectors/nms.ts';
import type { Box } from '../../../src/evaluation/detection.ts';

const box = (x0: number, width = 10): Box => [x0, 0, x0 + width, 10];

describe('nonMaxSuppression', () => {
  test('drops a box overlapping a better one of its class above the IoU threshold, best first', () => {
    const kept = nonMaxSuppression(
      [
        { classIndex: 0, score: 0.5, box: box(2) }, // IoU with the 0.9 box: 8 / 12 = 0.67 -> dropped
        { classIndex: 0, score: 0.9, box: box(0) },
        { classIndex: 1, score: 0.6, box: box(1) }, // another class: kept
        { classIndex: 0, score: 0.4, box: box(20) }, // no overlap: kept
      ],
      0.5,
    );
    assert.deepEqual(
      kept.map((k) => k.score),
      [0.9, 0.6, 0.4],
    );
  });

  test('an IoU equal to the threshold is not above it; at most maxDetections are kept', () => {
    // [0, 10] and [5, 15]: intersection 5, union 15, IoU 1/3
    const candidates = [
      { classIndex: 0, score: 0.9, box: box(0) },
      { classIndex: 0, score: 0.8, box: box(5) },
    ];
    assert.equal(nonMaxSuppression(candidates, 1 / 3).length, 2);
    assert.equal(nonMaxSuppression(candidates, 0.3).length, 1);
    assert.equal(nonMaxSuppression(candidates, 1 / 3, 1).length, 1);
  });
});
