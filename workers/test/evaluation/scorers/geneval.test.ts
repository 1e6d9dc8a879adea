import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { relativePosition, scoreGenEval } from '../../../src/evaluation/scorers/geneval.ts';
import { genevalMetadataSchema, toGenEvalPrompt } from '../../../src/prompts/geneval.ts';
import { centred, det, image } from './fixtures.ts';

const prompts = [
  {
    tag: 'position',
    prompt: 'a photo of a dog right of a teddy bear',
    include: [
      { class: 'teddy bear', count: 1 },
      { class: 'dog', count: 1, position: ['right of', 0] },
    ],
  },
  { tag: 'counting', prompt: 'a photo of two clocks', include: [{ class: 'clock', count: 2 }], exclude: [{ class: 'clock', count: 3 }] },
  { tag: 'single_object', prompt: 'a photo of a bench', include: [{ class: 'bench', count: 1 }] },
  {
    tag: 'two_object',
    prompt: 'a photo of a cat and a dog',
    include: [
      { class: 'cat', count: 1 },
      { class: 'dog', count: 1 },
    ],
  },
  { tag: 'colors', prompt: 'a photo of a red car', include: [{ class: 'car', count: 1, color: 'red' }] },
  {
    tag: 'position',
    prompt: 'a photo of two dogs left of a cat',
    include: [
      { class: 'cat', count: 1 },
      { class: 'dog', count: 2, position: ['left of', 0] },
    ],
  },
].map((raw, id) => toGenEvalPrompt(genevalMetadataSchema.parse(raw), id));
const [POSITION, COUNTING, SINGLE, TWO, COLOURS, TWO_DOGS_LEFT] = [0, 1, 2, 3, 4, 5];
const THRESHOLDS = { threshold: 0.3, counting_threshold: 0.9 };

const one = (prompt: number, detections: Parameters<typeof image>[2]) => scoreGenEval(prompts, [image(prompt, 0, detections)], THRESHOLDS).images[0];
const relations = (a: ReturnType<typeof centred>, b: ReturnType<typeof centred>) => [...relativePosition(det('a', 1, a), det('b', 1, b))].sort();

describe('GenEval relative position', () => {
  test('the direction of A from B, each axis', () => {
    assert.deepEqual(relations(centred(130, 0), centred(100, 0)), ['right of']);
    assert.deepEqual(relations(centred(70, 0), centred(100, 0)), ['left of']);
    assert.deepEqual(relations(centred(0, 70), centred(0, 100)), ['above']);
    assert.deepEqual(relations(centred(0, 130), centred(0, 100)), ['below']);
    assert.deepEqual(relations(centred(130, 130), centred(100, 100)), ['below', 'right of']); // diagonal: 28 / 42.4 = 0.66 on both axes
  });

  test('the offset shrinks by 0.1 x (dA + dB) on each axis', () => {
    // offset 30; 10-wide boxes leave 28 (0.93 > 0.5); 100-wide boxes leave 10 (0.33, no direction)
    assert.deepEqual(relations(centred(130, 0, 10, 10), centred(100, 0, 10, 10)), ['right of']);
    assert.deepEqual(relations(centred(130, 0, 100, 10), centred(100, 0, 100, 10)), []);
    // the margin on x uses widths only: tall boxes do not shrink it
    assert.deepEqual(relations(centred(130, 0, 10, 500), centred(100, 0, 10, 500)), ['right of']);
    // inside the margin (offset 2 = 0.1 x 20) the set is empty
    assert.deepEqual(relations(centred(102, 0), centred(100, 0)), []);
    // just outside it the direction is tiny relative to the offset: still no relation
    assert.deepEqual(relations(centred(102.01, 0), centred(100, 0)), []);
  });
});

describe('GenEval per image', () => {
  const bear = det('teddy bear', 0.8, centred(100, 100));

  test("position: the found boxes must stand in the relation to the target clause's boxes", () => {
    assert.deepEqual(one(POSITION, [bear, det('dog', 0.8, centred(300, 100))]), { prompt: POSITION, image: 0, tag: 'position', correct: true, reason: null });
    assert.equal(one(POSITION, [bear, det('dog', 0.8, centred(100, 0))]).reason, 'dog is above teddy bear, expected right of');
    assert.equal(one(POSITION, [bear, det('dog', 0.8, centred(101, 100))]).reason, 'dog is too close to tell from teddy bear, expected right of');
  });

  test('position: a target clause that did not match fails the image', () => {
    assert.equal(
      one(POSITION, [det('dog', 0.8, centred(300, 100))]).reason,
      'found 0 teddy bear, expected at least 1; cannot check dog right of teddy bear: teddy bear was not matched',
    );
  });

  test('several boxes per class: only the `count` best are compared', () => {
    const wrongButWeak = det('dog', 0.5, centred(0, 100));
    assert.equal(one(POSITION, [bear, det('dog', 0.9, centred(300, 100)), wrongButWeak]).correct, true);
    assert.equal(
      one(POSITION, [bear, det('dog', 0.4, centred(300, 100)), det('dog', 0.5, centred(0, 100))]).reason,
      'dog is left of teddy bear, expected right of',
    );
    const cat = det('cat', 0.9, centred(300, 100));
    assert.equal(one(TWO_DOGS_LEFT, [cat, det('dog', 0.9, centred(0, 100)), det('dog', 0.8, centred(100, 100))]).correct, true);
    assert.equal(
      one(TWO_DOGS_LEFT, [cat, det('dog', 0.9, centred(0, 100)), det('dog', 0.8, centred(500, 100))]).reason,
      'dog is right of cat, expected left of',
    );
  });

  test('the threshold is strict: 0.3 exactly is not kept', () => {
    assert.equal(one(SINGLE, [det('bench', 0.3, centred(0, 0))]).reason, 'found 0 bench, expected at least 1');
    assert.equal(one(SINGLE, [det('bench', 0.31, centred(0, 0))]).correct, true);
    assert.equal(one(TWO, [det('cat', 0.9, centred(0, 0))]).reason, 'found 0 dog, expected at least 1');
  });

  test('counting uses 0.9, and its exclude clause fails the image at `count` boxes', () => {
    const clock = (score: number) => det('clock', score, centred(0, 0));
    assert.equal(one(COUNTING, [clock(0.95), clock(0.92), clock(0.9)]).correct, true); // 0.9 is not over 0.9
    assert.equal(one(COUNTING, [clock(0.95), clock(0.92), clock(0.91)]).reason, 'found 3 clock, expected fewer than 3');
    assert.equal(one(COUNTING, [clock(0.95), clock(0.8), clock(0.5)]).reason, 'found 1 clock, expected at least 2');
  });

  test('at most 16 boxes per class are kept', () => {
    const many = Array.from({ length: 20 }, (_, i) => det('clock', 0.95, centred(i * 20, 0)));
    assert.equal(one(COUNTING, many).reason, 'found 16 clock, expected fewer than 3');
  });
});

describe('GenEval aggregates', () => {
  const right = [det('teddy bear', 0.8, centred(100, 100)), det('dog', 0.8, centred(300, 100))];
  const images = [
    image(POSITION, 0, right),
    image(POSITION, 1, []),
    image(COUNTING, 0, [det('clock', 0.95, centred(0, 0)), det('clock', 0.95, centred(50, 0))]),
    image(COLOURS, 0, [det('car', 0.9, centred(0, 0))]),
    image(COLOURS, 1, []),
  ];
  const score = scoreGenEval(prompts, images, THRESHOLDS, { resamples: 200 });

  test('accuracy per scored tag and overall = their mean; colour tags unsupported, never a number', () => {
    assert.deepEqual(score.aggregates, { counting: 1, position: 0.5, overall: 0.75 });
    assert.deepEqual(score.unsupported, { colors: { images: 2, reason: 'colour clauses need a colour classifier, which this project does not have' } });
    assert.equal(score.images.length, 3);
    assert.equal(score.prompts_scored, 2);
  });

  test('intervals per tag and overall; within-tag resampling keeps a one-prompt tag fixed', () => {
    assert.deepEqual(score.intervals.counting, [1, 1]);
    const [low, high] = score.intervals.overall!;
    assert.ok(low <= 0.75 && 0.75 <= high);
  });
});
