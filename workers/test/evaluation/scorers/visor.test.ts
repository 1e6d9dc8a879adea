import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreVisor } from '../../../src/evaluation/scorers/visor.ts';
import { generateVisorPrompts, toVisorPrompt } from '../../../src/prompts/visor.ts';
import { centred, det, image } from './fixtures.ts';

// Emission order: each relation dog-cup then cup-dog (ids 0..7), then "and" (8, 9), then single objects.
const prompts = generateVisorPrompts(['dog', 'cup']).map(toVisorPrompt);
const DOG_LEFT_OF_CUP = 0,
  DOG_RIGHT_OF_CUP = 2,
  DOG_ABOVE_CUP = 4,
  DOG_BELOW_CUP = 6,
  DOG_AND_CUP = 8;

/** Scores one image of one prompt at VISOR's threshold. */
function one(prompt: number, detections: Parameters<typeof image>[2], threshold = 0.1) {
  return scoreVisor(prompts, [image(prompt, 0, detections)], threshold).images[0];
}

describe('VISOR per image', () => {
  test('each relation compares box centres with no margin (image y grows downward)', () => {
    const dogLeftAbove = [det('dog', 0.9, centred(100, 100)), det('cup', 0.9, centred(101, 101))];
    assert.equal(one(DOG_LEFT_OF_CUP, dogLeftAbove).correct, true);
    assert.equal(one(DOG_ABOVE_CUP, dogLeftAbove).correct, true);
    assert.deepEqual(one(DOG_RIGHT_OF_CUP, dogLeftAbove), {
      prompt: DOG_RIGHT_OF_CUP,
      image: 0,
      relation: 'right of',
      a_detected: true,
      b_detected: true,
      sra: false,
      correct: false,
      reason: 'dog is left of cup, expected right of',
    });
    assert.equal(one(DOG_BELOW_CUP, dogLeftAbove).reason, 'dog is above cup, expected below');
    const dogRightBelow = [det('dog', 0.9, centred(300, 300)), det('cup', 0.9, centred(100, 100))];
    assert.equal(one(DOG_RIGHT_OF_CUP, dogRightBelow).correct, true);
    assert.equal(one(DOG_BELOW_CUP, dogRightBelow).correct, true);
    assert.equal(one(DOG_LEFT_OF_CUP, dogRightBelow).reason, 'dog is right of cup, expected left of');
  });

  test('equal centres satisfy no relation', () => {
    const stacked = [det('dog', 0.9, centred(100, 50, 10, 10)), det('cup', 0.9, centred(100, 50, 40, 40))];
    assert.equal(one(DOG_LEFT_OF_CUP, stacked).reason, 'dog is at the same x as cup, expected left of');
    assert.equal(one(DOG_ABOVE_CUP, stacked).reason, 'dog is at the same y as cup, expected above');
  });

  test('the threshold is strict: a box scoring exactly 0.1 is not detected', () => {
    const result = one(DOG_LEFT_OF_CUP, [det('dog', 0.9, centred(10, 10)), det('cup', 0.1, centred(50, 10))]);
    assert.deepEqual([result.a_detected, result.b_detected, result.correct, result.reason], [true, false, false, 'cup not detected']);
    assert.equal(one(DOG_LEFT_OF_CUP, [det('dog', 0.9, centred(10, 10)), det('cup', 0.1000001, centred(50, 10))]).correct, true);
    assert.equal(one(DOG_LEFT_OF_CUP, [det('dog', 0.9, centred(10, 10)), det('cup', 0.6, centred(50, 10))], 0.6).reason, 'cup not detected');
  });

  test('neither object, or a label that is not the prompt\'s, is "not detected"', () => {
    assert.equal(one(DOG_LEFT_OF_CUP, []).reason, 'dog and cup not detected');
    assert.equal(one(DOG_LEFT_OF_CUP, [det('cat', 0.9, centred(10, 10)), det('cup', 0.9, centred(50, 10))]).reason, 'dog not detected');
  });

  test('with several boxes per class, any fitting pair counts', () => {
    const boxes = [det('dog', 0.9, centred(300, 10)), det('dog', 0.2, centred(10, 10)), det('cup', 0.8, centred(50, 10))];
    assert.equal(one(DOG_LEFT_OF_CUP, boxes).correct, true);
    const noPair = [det('dog', 0.9, centred(300, 10)), det('dog', 0.2, centred(200, 10)), det('cup', 0.8, centred(50, 10))];
    assert.equal(one(DOG_LEFT_OF_CUP, noPair).reason, 'dog is right of cup, expected left of (best boxes; no pair of the 2 dog and 1 cup boxes fits)');
  });
});

describe('VISOR aggregates', () => {
  // prompt 0 (dog left of cup), 4 images: both+sra, both+sra, both but wrong side, dog only
  // prompt 4 (dog above cup), 2 images: nothing, cup only
  const right = [det('dog', 0.9, centred(10, 10)), det('cup', 0.9, centred(50, 10))];
  const wrong = [det('dog', 0.9, centred(90, 10)), det('cup', 0.9, centred(50, 10))];
  const images = [
    image(DOG_LEFT_OF_CUP, 0, right),
    image(DOG_LEFT_OF_CUP, 1, right),
    image(DOG_LEFT_OF_CUP, 2, wrong),
    image(DOG_LEFT_OF_CUP, 3, [det('dog', 0.9, centred(10, 10))]),
    image(DOG_ABOVE_CUP, 0, []),
    image(DOG_ABOVE_CUP, 1, [det('cup', 0.5, centred(10, 10))]),
    image(DOG_AND_CUP, 0, right), // "and" prompts are not scored
  ];
  const score = scoreVisor(prompts, images, 0.1, { resamples: 200 });
  const close = (actual: number | null, expected: number) => assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);

  test('OA, OA_A, OA_B, VISOR_cond, VISOR_uncond and VISOR_1..4 in percent', () => {
    const a = score.aggregates;
    close(a.OA, 50); // 3 of 6 images have both
    close(a.OA_A, (100 * 4) / 6);
    close(a.OA_B, (100 * 4) / 6);
    close(a.VISOR_cond, (100 * 2) / 3); // 2 of the 3 images with both are right
    close(a.VISOR_uncond, (((100 * 2) / 3) * 50) / 100);
    close(a.VISOR_1, 50); // 1 of 2 prompts has >= 1 right image
    close(a.VISOR_2, 50);
    close(a.VISOR_3, 0);
    close(a.VISOR_4, 0);
    assert.equal(score.prompts_scored, 2);
    assert.equal(score.images.length, 6);
    assert.equal(score.images_skipped, 1);
  });

  test('every figure split by relation; VISOR_cond is null where no image has both objects', () => {
    const left = score.aggregates.by_relation['left of']!;
    close(left.OA, 75);
    close(left.VISOR_cond, (100 * 2) / 3);
    close(left.VISOR_2, 100);
    const above = score.aggregates.by_relation.above!;
    assert.equal(above.VISOR_cond, null);
    assert.equal(above.VISOR_uncond, 0);
    close(above.OA_B, 50);
    assert.deepEqual(Object.keys(score.aggregates.by_relation), ['left of', 'above']);
    assert.equal(score.intervals.by_relation.above!.VISOR_cond, null);
  });

  test('intervals bracket the figures', () => {
    for (const name of ['OA', 'VISOR_uncond', 'VISOR_1'] as const) {
      const [low, high] = score.intervals[name]!;
      const value = score.aggregates[name]!;
      assert.ok(low <= value && value <= high, `${name}: ${value} outside [${low}, ${high}]`);
    }
  });

  test('with no scorable images every figure is null', () => {
    const empty = scoreVisor(prompts, [image(DOG_AND_CUP, 0, [])], 0.1);
    assert.equal(empty.aggregates.OA, null);
    assert.equal(empty.aggregates.VISOR_cond, null);
    assert.equal(empty.intervals.OA, null);
    assert.equal(empty.prompts_scored, 0);
  });
});
