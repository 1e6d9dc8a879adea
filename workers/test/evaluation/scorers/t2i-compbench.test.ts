import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreT2I, t2iPosition } from '../../../src/evaluation/scorers/t2i-compbench.ts';
import { toT2IPrompt } from '../../../src/prompts/t2i-compbench.ts';
import { centred, det, image } from './fixtures.ts';

const close = (actual: number | null, expected: number) => assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);

describe('T2I-CompBench position (object 1 = box a, object 2 = box b; dx, dy = centre b - centre a)', () => {
  const a = centred(100, 100);

  test('near / next to / on side of: 1 when either offset is under 150, else 150 / the larger offset', () => {
    close(t2iPosition('near', a, centred(400, 249.9)), 1); // dy under 150
    close(t2iPosition('near', a, centred(249.9, 900)), 1); // dx under 150
    close(t2iPosition('near', a, centred(400, 250)), 150 / 300); // dy exactly 150 is not under
    close(t2iPosition('near', a, centred(250, 250)), 1 / 1);
    close(t2iPosition('near', a, centred(-200, 300)), 150 / 300);
  });

  test('on the left of: dx > 0 and |dx| > |dy|; full credit when IoU < 0.1, else 0.1 / IoU', () => {
    close(t2iPosition('left of', a, centred(200, 150)), 1);
    close(t2iPosition('left of', a, centred(200, 250)), 0); // |dy| > |dx|
    close(t2iPosition('left of', a, centred(200, 200)), 0); // |dy| = |dx|
    close(t2iPosition('left of', a, centred(0, 100)), 0); // dx < 0
    // 20 x 10 boxes offset 10 along x: intersection 100, union 300, IoU 1/3
    close(t2iPosition('left of', centred(100, 100, 20, 10), centred(110, 100, 20, 10)), 0.1 / (1 / 3));
  });

  test('the IoU threshold: just under 0.1 scores 1, exactly 0.1 scores 0.1 / 0.1', () => {
    // 10 x 10 boxes offset along x by s: IoU = (10 - s) / (10 + s); s = 90/11 gives exactly 1/11 < 0.1
    close(t2iPosition('left of', centred(0, 0), centred(90 / 11, 0)), 1);
    // intersection 2 x 10 = 20 over union 200: IoU exactly 0.1 (20 x 10 boxes offset 18)
    close(t2iPosition('left of', [0, 0, 20, 10], [18, 0, 38, 10]), 1);
    close(t2iPosition('left of', [0, 0, 20, 10], [14, 0, 34, 10]), 0.1 / (60 / 340));
  });

  test('on the right of, on the top of, on the bottom of', () => {
    close(t2iPosition('right of', a, centred(0, 90)), 1);
    close(t2iPosition('right of', a, centred(200, 100)), 0);
    close(t2iPosition('above', a, centred(110, 300)), 1); // object 1 on the top of object 2: b lower, dy > 0
    close(t2iPosition('above', a, centred(110, 0)), 0);
    close(t2iPosition('below', a, centred(110, 0)), 1);
    close(t2iPosition('below', a, centred(110, 300)), 0);
    close(t2iPosition('below', centred(100, 100, 10, 20), centred(100, 90, 10, 20)), 0.1 / (10 / 30));
  });

  test('a relation the reference does not list scores 0', () => {
    assert.equal(t2iPosition(null, a, centred(0, 0)), 0);
  });
});

describe('T2I-CompBench image score', () => {
  const prompts = [
    toT2IPrompt({ prompt: 'a dog on the left of a cat', objects: ['dog', 'cat'] }, 0),
    toT2IPrompt({ prompt: 'a girl near a horse', objects: ['girl', 'horse'] }, 1),
    toT2IPrompt({ prompt: 'a dog on top of a cat', objects: ['dog', 'cat'] }, 2),
  ];
  const one = (prompt: number, detections: Parameters<typeof image>[2], threshold = 0.5) => scoreT2I(prompts, [image(prompt, 0, detections)], threshold).images[0];

  test('both detected: 0.25 s1 + 0.25 s2 + position / 2', () => {
    const result = one(0, [det('dog', 0.8, centred(10, 10)), det('cat', 0.6, centred(300, 10))]);
    close(result.score, 0.2 + 0.15 + 0.5);
    assert.deepEqual([result.position, result.reason], [1, null]);
  });

  test('scores below the 0.5 floor become 0, with the reason', () => {
    const wrongSide = one(0, [det('dog', 0.8, centred(300, 10)), det('cat', 0.6, centred(10, 10))]);
    assert.deepEqual([wrongSide.score, wrongSide.position], [0, 0]);
    assert.equal(wrongSide.reason, 'dog is right of cat, expected left of; score 0.35 is below the 0.5 floor');
    // IoU 1/3 -> position 0.3: 0.15 + 0.15 + 0.15 = 0.45
    const overlapping = one(0, [det('dog', 0.6, centred(100, 100, 20, 10)), det('cat', 0.6, centred(110, 100, 20, 10))]);
    assert.equal(overlapping.score, 0);
    assert.equal(overlapping.reason, 'dog and cat overlap (IoU 0.33, at least 0.1), position 0.3; score 0.45 is below the 0.5 floor');
    const farApart = scoreT2I(prompts, [image(1, 0, [det('person', 0.51, centred(0, 0)), det('horse', 0.51, centred(600, 300))])], 0.5).images[0];
    assert.equal(farApart.reason, 'person and horse are 600 px apart on both axes (near means under 150 on one), position 0.25; score 0.38 is below the 0.5 floor');
  });

  test('a score of exactly 0.5 is kept', () => {
    // 30 x 10 boxes overlapping by 10: IoU 100 / 500 = 0.2, position 0.5: 0.125 + 0.125 + 0.25
    const result = one(0, [det('dog', 0.5, [0, 0, 30, 10]), det('cat', 0.5, [20, 0, 50, 10])], 0.4);
    assert.deepEqual([result.score, result.position, result.reason], [0.5, 0.5, null]);
  });

  test('one object detected scores at most 0.25, so 0; none scores 0', () => {
    assert.deepEqual(one(0, [det('dog', 0.99, centred(10, 10))]), { prompt: 0, image: 0, score: 0, position: null, reason: 'cat not detected' });
    assert.equal(one(0, []).reason, 'dog and cat not detected');
  });

  test('the threshold is strict, and the highest-scoring box of each class is used', () => {
    assert.equal(one(0, [det('dog', 0.8, centred(10, 10)), det('cat', 0.5, centred(300, 10))]).reason, 'cat not detected');
    const best = one(0, [det('dog', 0.6, centred(500, 10)), det('dog', 0.9, centred(10, 10)), det('cat', 0.9, centred(300, 10))]);
    close(best.score, 0.225 + 0.225 + 0.5);
    const bestWrong = one(0, [det('dog', 0.9, centred(500, 10)), det('dog', 0.6, centred(10, 10)), det('cat', 0.9, centred(300, 10))]);
    assert.equal(bestWrong.score, 0);
  });

  test('person words: the prompt\'s "girl" is the detector\'s "person" (a "girl" label counts too)', () => {
    close(one(1, [det('person', 0.8, centred(10, 10)), det('horse', 0.8, centred(100, 10))]).score, 0.9);
    close(one(1, [det('girl', 0.8, centred(10, 10)), det('horse', 0.8, centred(100, 10))]).score, 0.9);
  });

  test('an unlisted relation ("on top of") scores position 0', () => {
    const result = one(2, [det('dog', 0.9, centred(10, 10)), det('cat', 0.9, centred(10, 300))]);
    assert.deepEqual([result.score, result.position], [0, 0]);
    assert.match(result.reason!, /not one the benchmark scores/);
  });

  test('spatial is the mean image score over all images', () => {
    const good = [det('dog', 0.8, centred(10, 10)), det('cat', 0.8, centred(300, 10))]; // 0.9
    const score = scoreT2I(prompts, [image(0, 0, good), image(0, 1, []), image(1, 0, [det('person', 0.8, centred(0, 0)), det('horse', 0.8, centred(0, 0))])], 0.5);
    close(score.aggregates.spatial, (0.9 + 0 + 0.9) / 3);
    assert.equal(score.prompts_scored, 2);
    const [low, high] = score.intervals.spatial!;
    assert.ok(low <= score.aggregates.spatial! && score.aggregates.spatial! <= high);
  });
});
