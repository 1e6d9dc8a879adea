import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { detectorQueries } from '../../../src/evaluation/run-detector.ts';
import { officialFrame, t2iBoxes } from '../../../src/evaluation/scorers/t2i-boxes.ts';
import { scoreT2I, t2iDetectorClass, t2iPosition } from '../../../src/evaluation/scorers/t2i-compbench.ts';
import { toT2IPrompt } from '../../../src/prompts/t2i-compbench.ts';
import { centred, det, image } from './fixtures.ts';

// The official-code conformance test is t2i-official.test.ts; these pin the parts it cannot show
// one at a time: the position rule, the frame, the box choice and the reasons.
const close = (actual: number | null, expected: number) => assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);

/** 479 x 479 images are their own official frame, so boxes below are in frame pixels. */
const FRAME: [number, number] = [479, 479];

describe('T2I-CompBench position (object 1 = box a, object 2 = box b; dx, dy = centre b - centre a)', () => {
  const a = centred(100, 100);

  test('near / next to / on side of: 1 when either offset is under 150, else 150 / the larger offset', () => {
    close(t2iPosition('near', a, centred(400, 249.9)), 1); // dy under 150
    close(t2iPosition('near', a, centred(249.9, 900)), 1); // dx under 150
    close(t2iPosition('near', a, centred(400, 250)), 150 / 300); // dy exactly 150 is not under
    close(t2iPosition('near', a, centred(-200, 300)), 150 / 300);
  });

  test('on the left of: dx > 0 and |dx| > |dy|; full credit when IoU < 0.1, else 0.1 / IoU', () => {
    close(t2iPosition('left of', a, centred(200, 150)), 1);
    close(t2iPosition('left of', a, centred(200, 250)), 0); // dx > 0 but |dy| > |dx|: 0, not a partial score
    close(t2iPosition('left of', a, centred(200, 200)), 0); // |dy| = |dx|
    close(t2iPosition('left of', a, centred(0, 100)), 0); // dx < 0
    // 20 x 10 boxes offset 10 along x: intersection 100, union 300, IoU 1/3
    close(t2iPosition('left of', centred(100, 100, 20, 10), centred(110, 100, 20, 10)), 0.1 / (1 / 3));
    // 11 x 10 boxes overlapping by 2: intersection 20, union 200, IoU exactly 0.1 -> 0.1 / 0.1
    close(t2iPosition('left of', [0, 0, 11, 10], [9, 0, 20, 10]), 1);
  });

  test('on the right of, on the top of, on the bottom of', () => {
    close(t2iPosition('right of', a, centred(0, 90)), 1);
    close(t2iPosition('right of', a, centred(200, 100)), 0);
    close(t2iPosition('above', a, centred(110, 300)), 1); // object 1 on the top of object 2: b lower, dy > 0
    close(t2iPosition('above', a, centred(110, 0)), 0);
    close(t2iPosition('below', a, centred(110, 0)), 1);
    close(t2iPosition('below', centred(100, 100, 10, 20), centred(100, 90, 10, 20)), 0.1 / (10 / 30));
  });

  test('"on top of" (relation null) scores 0; two boxes without area (IoU 0/0) count as not overlapping', () => {
    assert.equal(t2iPosition(null, a, centred(300, 0)), 0);
    assert.equal(t2iPosition('left of', [10, 10, 10, 10], [20, 10, 20, 10]), 1);
  });
});

describe('the official frame and box choice', () => {
  test('Resize(479, max_size=480): the short side to 479 unless the long side would pass 480', () => {
    assert.deepEqual(officialFrame(512, 512), [479, 479]);
    assert.deepEqual(officialFrame(1024, 1024), [479, 479]);
    assert.deepEqual(officialFrame(600, 512), [480, 409]); // int(479 * 600 / 512) = 561 > 480: short = int(480 * 479 / 561)
    assert.deepEqual(officialFrame(512, 600), [409, 480]);
    assert.deepEqual(officialFrame(1000, 1001), [479, 479]); // int(479 * 1.001) = 479: no cap
  });

  test('boxes are scaled into the frame, axis by axis', () => {
    const { used, frame } = t2iBoxes(image(0, 0, [det('dog', 0.9, [0, 0, 600, 512])], [600, 512]), 0.1);
    assert.deepEqual(frame, [480, 409]);
    assert.deepEqual(used.get('dog')!.box, [0, 0, 480, 409]);
  });

  test('score > threshold; the 100 highest-scoring boxes; the last box of a class in that order (ties: input order)', () => {
    const boxes = (detections: ReturnType<typeof det>[]) => t2iBoxes(image(0, 0, detections, FRAME), 0.1);
    assert.equal(boxes([det('dog', 0.1, centred(10, 10))]).used.size, 0);
    const several = boxes([det('dog', 0.3, centred(1, 1)), det('dog', 0.9, centred(2, 2)), det('dog', 0.3, centred(3, 3)), det('dog', 0.6, centred(4, 4))]);
    assert.deepEqual(several.used.get('dog'), det('dog', 0.3, centred(3, 3)));
    assert.equal(several.kept.get('dog'), 4);
    const crowd = Array.from({ length: 100 }, (_, i) => det('chair', 0.5 + i / 1000, centred(i, i)));
    const crowded = boxes([det('dog', 0.95, centred(1, 1)), ...crowd, det('dog', 0.2, centred(9, 9)), det('cat', 0.4, centred(5, 5))]);
    assert.deepEqual(crowded.used.get('dog'), det('dog', 0.95, centred(1, 1)));
    assert.deepEqual([crowded.used.has('cat'), [...crowded.crowdedOut]], [false, ['cat']]);
  });
});

describe('T2I-CompBench image score', () => {
  const prompts = [
    toT2IPrompt({ prompt: 'a dog on the left of a cat', objects: ['dog', 'cat'] }, 0),
    toT2IPrompt({ prompt: 'a girl near a horse', objects: ['girl', 'horse'] }, 1),
    toT2IPrompt({ prompt: 'a dog on top of a cat', objects: ['dog', 'cat'] }, 2),
    toT2IPrompt({ prompt: 'a dog and a cat', objects: ['dog', 'cat'] }, 3),
  ];
  const one = (prompt: number, detections: ReturnType<typeof det>[], threshold = 0.1, size = FRAME) =>
    scoreT2I(prompts, [image(prompt, 0, detections, size)], threshold).images[0];

  test('both detected: 0.25 s1 + 0.25 s2 + position / 2', () => {
    const result = one(0, [det('cat', 0.6, centred(300, 10)), det('dog', 0.8, centred(10, 10))]);
    close(result.score, 0.2 + 0.15 + 0.5);
    assert.deepEqual([result.position, result.reason], [1, null]);
  });

  test('scores below the 0.5 floor become 0, with the reason', () => {
    const wrongSide = one(0, [det('dog', 0.8, centred(300, 10)), det('cat', 0.6, centred(10, 10))]);
    assert.deepEqual([wrongSide.score, wrongSide.position], [0, 0]);
    assert.equal(wrongSide.reason, 'dog is right of cat, expected left of; score 0.35 is below the 0.5 floor');
    // IoU 1/3 -> position 0.3: 0.15 + 0.15 + 0.15 = 0.45
    const overlapping = one(0, [det('dog', 0.6, centred(100, 100, 20, 10)), det('cat', 0.6, centred(110, 100, 20, 10))]);
    assert.equal(overlapping.reason, 'dog and cat overlap (IoU 0.33, at least 0.1), position 0.3; score 0.45 is below the 0.5 floor');
  });

  test('near is measured in the official frame: 160 px of a 512 px image are 149.7 px there', () => {
    // 0.2 + 0.2 + position / 2; in image pixels both offsets would be 160, past the 150 limit
    const boxes = [det('person', 0.8, centred(100, 100)), det('horse', 0.8, centred(260, 260))];
    close(one(1, boxes, 0.1, [512, 512]).score, 0.9);
    const far = one(1, [det('person', 0.51, centred(0, 0)), det('horse', 0.51, centred(400, 300))]);
    assert.equal(
      far.reason,
      'girl (person) and horse are 400 px apart horizontally and 300 vertically in the 479 x 479 frame the benchmark measures (near means under 150 on one), position 0.38; score 0.44 is below the 0.5 floor',
    );
  });

  test('a score of exactly 0.5 is kept', () => {
    // 30 x 10 boxes overlapping by 10: IoU 100 / 500 = 0.2, position 0.5: 0.125 + 0.125 + 0.25
    const result = one(0, [det('dog', 0.5, [0, 0, 30, 10]), det('cat', 0.5, [20, 0, 50, 10])]);
    assert.deepEqual([result.score, result.position, result.reason], [0.5, 0.5, null]);
  });

  test('one object detected scores at most 0.25, so 0; none scores 0; crowded out of the 100 kept is said', () => {
    assert.deepEqual(one(0, [det('dog', 0.99, centred(10, 10))]), { prompt: 0, image: 0, score: 0, position: null, reason: 'cat not detected' });
    assert.equal(one(0, []).reason, 'dog and cat not detected');
    const crowd = Array.from({ length: 100 }, (_, i) => det('chair', 0.5 + i / 1000, centred(i, i)));
    assert.equal(
      one(0, [det('dog', 0.9, centred(10, 10)), ...crowd, det('cat', 0.45, centred(300, 10))]).reason,
      'cat not detected among the 100 highest-scoring boxes',
    );
  });

  test("each class's lowest-scoring kept box decides, and the reason says so", () => {
    const lowMisplaced = one(0, [det('dog', 0.9, centred(10, 10)), det('cat', 0.9, centred(300, 10)), det('dog', 0.3, centred(400, 10))]);
    assert.equal(lowMisplaced.score, 0);
    assert.equal(
      lowMisplaced.reason,
      'dog is right of cat, expected left of; score 0.3 is below the 0.5 floor (each object is its lowest-scoring kept box, as in the official script: dog 0.3, the last of 2)',
    );
    const lowPlaced = one(0, [det('dog', 0.95, centred(400, 10)), det('cat', 0.8, centred(300, 10)), det('dog', 0.6, centred(10, 10))]);
    close(lowPlaced.score, 0.15 + 0.2 + 0.5);
  });

  test('person words: the prompt keeps "girl", the detector\'s "person" stands for it; a "girl" label does not', () => {
    assert.equal(prompts[1].objects[0], 'girl');
    close(one(1, [det('person', 0.8, centred(10, 10)), det('horse', 0.8, centred(100, 10))]).score, 0.9);
    assert.equal(one(1, [det('girl', 0.8, centred(10, 10)), det('horse', 0.8, centred(100, 10))]).reason, 'girl (person) not detected');
    assert.deepEqual([t2iDetectorClass('woman'), t2iDetectorClass('women')], ['person', 'women']);
    assert.deepEqual(detectorQueries({ scoring: 't2i', prompts }).get(1), ['person', 'horse']);
  });

  test('"on top of" and a prompt with no locality score position 0, and say which', () => {
    const onTop = one(2, [det('dog', 0.9, centred(10, 10)), det('cat', 0.9, centred(10, 300))]);
    assert.deepEqual([onTop.score, onTop.position], [0, 0]);
    assert.equal(onTop.reason, '"on top of" is a relation the benchmark does not place, so position counts 0; score 0.45 is below the 0.5 floor');
    assert.match(
      one(3, [det('dog', 0.9, centred(10, 10)), det('cat', 0.9, centred(300, 10))]).reason!,
      /^the prompt names no relation the benchmark scores, so position counts 0/,
    );
    // two certain detections still reach exactly the floor
    assert.equal(one(2, [det('dog', 1, centred(10, 10)), det('cat', 1, centred(10, 300))]).score, 0.5);
  });

  test('spatial is the mean image score over all images', () => {
    const good = [det('dog', 0.8, centred(10, 10)), det('cat', 0.8, centred(300, 10))]; // 0.9
    const score = scoreT2I(
      prompts,
      [image(0, 0, good), image(0, 1, []), image(1, 0, [det('person', 0.8, centred(0, 0)), det('horse', 0.8, centred(0, 0))])],
      0.1,
    );
    close(score.aggregates.spatial, (0.9 + 0 + 0.9) / 3);
    assert.equal(score.prompts_scored, 2);
    const [low, high] = score.intervals.spatial!;
    assert.ok(low <= score.aggregates.spatial! && score.aggregates.spatial! <= high);
  });
});
