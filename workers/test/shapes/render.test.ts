import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Box } from '../../src/evaluation/detection.ts';
import { corruptImage, STANDARD_CORRUPTION } from '../../src/shapes/corrupt.ts';
import { renderLayout, renderScene, sampleLayout } from '../../src/shapes/render.ts';
import { Random } from '../../src/util/random.ts';
import { classNames, defineShapesWorld, findClass, objectExtentPixels, SHAPES_WORLD } from '../../src/shapes/world.ts';

/** Free pixels between two boxes: the larger of the horizontal and vertical gaps (negative when they overlap). */
function gapBetween(a: Box, b: Box): number {
  return Math.max(b[0] - a[2], a[0] - b[2], b[1] - a[3], a[1] - b[3]);
}

describe('shapes world', () => {
  test('has at least 10 classes with distinct one-word lowercase names', () => {
    const names = classNames(SHAPES_WORLD);
    assert.ok(names.length >= 10);
    assert.equal(new Set(names).size, names.length);
    for (const name of names) assert.match(name, /^[a-z]+$/);
  });

  test('rejects a world whose classes the detector could not tell apart', () => {
    const classes = [...SHAPES_WORLD.classes];
    assert.throws(
      () => defineShapesWorld({ classes: [...classes, { name: 'cherry', shape: 'circle', colour: [0.95, 0.05, 0.1] }] }),
      /'apple' and 'cherry' differ by/,
    );
    assert.throws(() => defineShapesWorld({ classes: [{ name: 'fog', shape: 'circle', colour: [0.55, 0.5, 0.5] }] }), /closer than/);
    assert.throws(() => defineShapesWorld({ classes: [{ name: 'red ball', shape: 'circle', colour: [1, 0, 0] }] }), /one lowercase word/);
  });
});

describe('shapes renderer', () => {
  const scenes = Array.from({ length: 300 }, (_, seed) => renderScene(SHAPES_WORLD, seed));

  test('is deterministic: the same seed gives the same image and boxes, another seed another scene', () => {
    const again = renderScene(SHAPES_WORLD, 42);
    assert.deepEqual(again.objects, scenes[42].objects);
    assert.deepEqual(again.image.data, scenes[42].image.data);
    assert.notDeepEqual(scenes[43].image.data, scenes[42].image.data);
  });

  test('draws 1 to 3 distinct classes per scene, and every count occurs', () => {
    const counts = new Set<number>();
    for (const { objects } of scenes) {
      counts.add(objects.length);
      assert.equal(new Set(objects.map((o) => o.label)).size, objects.length);
    }
    assert.deepEqual([...counts].sort(), [1, 2, 3]);
  });

  test('keeps boxes inside the image, sized within the world range, and objects apart', () => {
    const side = SHAPES_WORLD.imageSize;
    const extent = objectExtentPixels(SHAPES_WORLD, side);
    const gap = Math.ceil(SHAPES_WORLD.minGap * side);
    for (const { objects } of scenes) {
      for (const { box } of objects) {
        assert.ok(box[0] >= 0 && box[1] >= 0 && box[2] <= side && box[3] <= side, `box ${box} leaves the image`);
        assert.ok(box[0] < box[2] && box[1] < box[3]);
        assert.ok(Math.max(box[2] - box[0], box[3] - box[1]) <= extent.max);
      }
      for (let i = 0; i < objects.length; i++) {
        for (let j = i + 1; j < objects.length; j++)
          assert.ok(gapBetween(objects[i].box, objects[j].box) >= gap, `${objects[i].box} and ${objects[j].box} overlap or touch`);
      }
    }
  });

  test('ground-truth boxes are tight around the pixels each object covers at least half', () => {
    for (const { image, objects } of scenes.slice(0, 50)) {
      const coverage = (x: number, y: number, colour: readonly number[]) => {
        const i = (y * image.width + x) * 3;
        const bg = SHAPES_WORLD.background;
        const full = Math.hypot(colour[0] - bg[0], colour[1] - bg[1], colour[2] - bg[2]);
        return Math.hypot(image.data[i] - bg[0], image.data[i + 1] - bg[1], image.data[i + 2] - bg[2]) / full;
      };
      const colours = objects.map((o) => findClass(SHAPES_WORLD, o.label).colour);
      for (let y = 0; y < image.height; y++) {
        for (let x = 0; x < image.width; x++) {
          const owner = objects.findIndex(({ box }) => x >= box[0] && x < box[2] && y >= box[1] && y < box[3]);
          if (owner < 0)
            assert.ok(
              colours.every((c) => coverage(x, y, c) < 0.5),
              `pixel (${x}, ${y}) is half covered outside every box`,
            );
        }
      }
      objects.forEach(({ box }, k) => {
        const covered = (x: number, y: number) => coverage(x, y, colours[k]) >= 0.5 - 1e-6;
        const columns = (x: number) => Array.from({ length: box[3] - box[1] }, (_, j) => covered(x, box[1] + j)).some(Boolean);
        const rows = (y: number) => Array.from({ length: box[2] - box[0] }, (_, j) => covered(box[0] + j, y)).some(Boolean);
        assert.ok(columns(box[0]) && columns(box[2] - 1) && rows(box[1]) && rows(box[3] - 1), `box ${box} is not tight`);
      });
    }
  });

  test('places the labels it is given, in order, and renders a layout as laid out', () => {
    const layout = sampleLayout(SHAPES_WORLD, new Random(5), { labels: ['egg', 'tire'] });
    assert.deepEqual(
      layout.map((o) => o.label),
      ['egg', 'tire'],
    );
    const scene = renderLayout(SHAPES_WORLD, layout);
    scene.objects.forEach((o, i) => {
      const drawn = layout[i].box;
      assert.ok(o.box[0] >= drawn[0] && o.box[1] >= drawn[1] && o.box[2] <= drawn[2] && o.box[3] <= drawn[3]);
    });
    assert.throws(() => sampleLayout(SHAPES_WORLD, new Random(5), { labels: ['dog'] }), /'dog' is not a Shapes class/);
  });

  test('renders at any image size the world is given', () => {
    const world = defineShapesWorld({ imageSize: 64 });
    const { image, objects } = renderScene(world, 3);
    assert.equal(image.width, 64);
    assert.ok(objects.every(({ box }) => box[2] <= 64 && box[3] <= 64));
  });
});

describe('corruption', () => {
  const { image } = renderScene(SHAPES_WORLD, 1);

  test('is deterministic per seed, stays in 0..1 and leaves the input untouched', () => {
    const before = image.data.slice();
    const a = corruptImage(image, STANDARD_CORRUPTION, 9);
    assert.deepEqual(corruptImage(image, STANDARD_CORRUPTION, 9).data, a.data);
    assert.notDeepEqual(corruptImage(image, STANDARD_CORRUPTION, 10).data, a.data);
    assert.ok(a.data.every((v) => v >= 0 && v <= 1));
    assert.deepEqual(image.data, before);
  });

  test('adds noise of the requested strength', () => {
    const noisy = corruptImage(image, { blur: false, colourJitter: 0, noiseSigma: 0.1 }, 3);
    // Only mid-grey background pixels, where clamping to 0..1 cannot cut the noise off.
    const differences: number[] = [];
    image.data.forEach((v, i) => {
      if (v === 0.5) differences.push(noisy.data[i] - v);
    });
    const sd = Math.sqrt(differences.reduce((s, d) => s + d * d, 0) / differences.length);
    assert.ok(Math.abs(sd - 0.1) < 0.01, `noise sd ${sd}`);
  });

  test('applies one gain per channel within the jitter range', () => {
    const tinted = corruptImage(image, { blur: false, colourJitter: 0.2, noiseSigma: 0 }, 4);
    for (let c = 0; c < 3; c++) {
      const gain = tinted.data[c] / image.data[c];
      assert.ok(gain >= 0.8 && gain <= 1.2, `gain ${gain}`);
      image.data.forEach((v, i) => {
        if (i % 3 === c && v > 0 && v * gain <= 1) assert.ok(Math.abs(tinted.data[i] / v - gain) < 1e-5);
      });
    }
  });
});
