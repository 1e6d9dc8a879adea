import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { boxIou } from '../../src/evaluation/box.ts';
import { createRgbImage, type RgbImage } from '../../src/image/rgb-image.ts';
import { corruptImage, STANDARD_CORRUPTION } from '../../src/shapes/corrupt.ts';
import { detectShapes } from '../../src/shapes/detector.ts';
import { renderLayout, renderScene, type Scene } from '../../src/shapes/render.ts';
import { defineShapesWorld, SHAPES_WORLD, type ShapesWorld } from '../../src/shapes/world.ts';

/** VISOR's threshold: the detections a benchmark would keep. */
const KEPT_SCORE = 0.1;

interface Accuracy {
  precision: number;
  recall: number;
  truePositives: number;
  detections: number;
  objects: number;
}

/**
 * Box-level precision and recall: a kept detection is right when it has an unmatched ground-truth
 * object of its label with IoU >= 0.5 (detections taken by score, each object matched at most once).
 */
function accuracy(scenes: Scene[], images: RgbImage[], world: ShapesWorld): Accuracy {
  let truePositives = 0;
  let detections = 0;
  let objects = 0;
  scenes.forEach((scene, i) => {
    const kept = detectShapes(images[i], undefined, world).filter((d) => d.score > KEPT_SCORE);
    const matched = new Set<number>();
    for (const d of kept) {
      const hit = scene.objects.findIndex((o, k) => !matched.has(k) && o.label === d.label && boxIou(o.box, d.box) >= 0.5);
      if (hit >= 0) matched.add(hit);
    }
    truePositives += matched.size;
    detections += kept.length;
    objects += scene.objects.length;
  });
  return { precision: truePositives / detections, recall: truePositives / objects, truePositives, detections, objects };
}

function report(what: string, a: Accuracy): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  return `${what}: precision ${pct(a.precision)} (${a.truePositives}/${a.detections}), recall ${pct(a.recall)} (${a.truePositives}/${a.objects})`;
}

/** Measures clean and damaged renders of the same scenes, seeds 0..count-1. */
function measure(world: ShapesWorld, count: number): { clean: Accuracy; corrupted: Accuracy } {
  const scenes = Array.from({ length: count }, (_, seed) => renderScene(world, seed));
  const clean = accuracy(
    scenes,
    scenes.map((s) => s.image),
    world,
  );
  const corrupted = accuracy(
    scenes,
    scenes.map((s, seed) => corruptImage(s.image, STANDARD_CORRUPTION, 100_000 + seed)),
    world,
  );
  const size = `${world.imageSize}x${world.imageSize}, ${count} scenes`;
  console.log(`  ${report(`shapes detector, ${size}, clean`, clean)}`);
  console.log(`  ${report(`shapes detector, ${size}, noise 0.1 + blur + 20% colour`, corrupted)}`);
  return { clean, corrupted };
}

describe('shapes detector accuracy (IoU >= 0.5, label right, score > 0.1)', () => {
  test('at the bundled model size (32 x 32), 1,000 scenes of 1 to 3 objects: >= 98% clean, >= 95% damaged', () => {
    const { clean, corrupted } = measure(SHAPES_WORLD, 1000);
    assert.ok(clean.precision >= 0.98 && clean.recall >= 0.98, report('clean', clean));
    assert.ok(corrupted.precision >= 0.95 && corrupted.recall >= 0.95, report('damaged', corrupted));
  });

  test('at 64 x 64, 200 scenes: the same bars', () => {
    const { clean, corrupted } = measure(defineShapesWorld({ imageSize: 64 }), 200);
    assert.ok(clean.precision >= 0.98 && clean.recall >= 0.98, report('clean', clean));
    assert.ok(corrupted.precision >= 0.95 && corrupted.recall >= 0.95, report('damaged', corrupted));
  });
});

describe('shapes detector scores and queries', () => {
  const scene = renderLayout(SHAPES_WORLD, [
    { label: 'apple', box: [2, 2, 14, 14] },
    { label: 'brick', box: [18, 20, 30, 26] },
  ]);

  test('a clean object scores near 1, and every score is in (0, 1]', () => {
    const detections = detectShapes(scene.image);
    assert.deepEqual(detections.map((d) => d.label).sort(), ['apple', 'brick']);
    assert.ok(detections[0].score >= detections[1].score, 'sorted by score, highest first');
    for (const d of detections) {
      assert.ok(d.score > 0.9 && d.score <= 1, `${d.label} scored ${d.score}`);
      assert.ok(boxIou(d.box, scene.objects.find((o) => o.label === d.label)!.box) > 0.9);
    }
  });

  test('queries restrict the labels reported; an unknown class is an error, not a silent miss', () => {
    assert.deepEqual(
      detectShapes(scene.image, ['brick']).map((d) => d.label),
      ['brick'],
    );
    assert.deepEqual(detectShapes(scene.image, ['egg']), []);
    assert.throws(() => detectShapes(scene.image, ['apple', 'dog']), /'dog' is not a Shapes class/);
  });

  test('an empty background gives no detections', () => {
    assert.deepEqual(detectShapes(createRgbImage(32, 32, SHAPES_WORLD.background)), []);
    const noisy = corruptImage(createRgbImage(32, 32, SHAPES_WORLD.background), STANDARD_CORRUPTION, 7);
    assert.deepEqual(
      detectShapes(noisy).filter((d) => d.score > KEPT_SCORE),
      [],
    );
  });

  test('a colour halfway between two classes is doubtful, and a shapeless blob of the right colour scores lower', () => {
    // Red-orange, halfway between apple (red) and brick (orange), painted as a square.
    const image = createRgbImage(32, 32, SHAPES_WORLD.background);
    paintSquare(image, [8, 8, 20, 20], [1, 0.25, 0]);
    const [doubtful] = detectShapes(image);
    assert.ok(doubtful.score > KEPT_SCORE && doubtful.score < 0.6, `halfway colour scored ${doubtful.score}`);
    // Pure red, but a square where an apple is round.
    const square = createRgbImage(32, 32, SHAPES_WORLD.background);
    paintSquare(square, [8, 8, 20, 20], [1, 0, 0]);
    const [blob] = detectShapes(square);
    assert.equal(blob.label, 'apple');
    assert.ok(blob.score < detectShapes(scene.image, ['apple'])[0].score && blob.score > 0.5, `square apple scored ${blob.score}`);
  });

  test('touching objects of different colours are still told apart', () => {
    const image = createRgbImage(32, 32, SHAPES_WORLD.background);
    paintSquare(image, [4, 8, 16, 20], [0, 0, 1]);
    paintSquare(image, [16, 8, 28, 20], [1, 1, 0]);
    const found = detectShapes(image).filter((d) => d.score > KEPT_SCORE);
    assert.deepEqual(found.map((d) => d.label).sort(), ['box', 'lemon']);
    assert.ok(boxIou(found.find((d) => d.label === 'box')!.box, [4, 8, 16, 20]) > 0.8);
  });
});

function paintSquare(image: RgbImage, [x0, y0, x1, y1]: [number, number, number, number], colour: [number, number, number]): void {
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) image.data.set(colour, (y * image.width + x) * 3);
  }
}
