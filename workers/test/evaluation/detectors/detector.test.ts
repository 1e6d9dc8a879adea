import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDetector } from '../../../src/evaluation/detectors/detector.ts';
import { renderLayout } from '../../../src/shapes/render.ts';
import { classNames, SHAPES_WORLD } from '../../../src/shapes/world.ts';

describe('createDetector', () => {
  test('shapes: the Shapes world detector, closed-set over the world classes', async () => {
    const detector = await createDetector('shapes', { threshold: 0.1 });
    assert.equal(detector.name, 'shapes');
    assert.deepEqual(detector.labels, classNames(SHAPES_WORLD));
    const scene = renderLayout(SHAPES_WORLD, [
      { label: 'apple', box: [2, 2, 12, 12] },
      { label: 'box', box: [18, 18, 28, 28] },
    ]);
    const found = await detector.detect(scene.image, ['apple', 'box', 'tree']);
    assert.deepEqual(found.map((d) => d.label).sort(), ['apple', 'box']);
    assert.ok(found.every((d) => d.score > 0.1));
    assert.deepEqual(await detector.detect(scene.image, ['tree']), []);
    await assert.rejects(detector.detect(scene.image, ['bee']), (err: Error) =>
      err.message.startsWith("'bee' is not among this detector's labels (shapes knows apple, "),
    );
  });

  test('reports only boxes above its threshold', async () => {
    const { image } = renderLayout(SHAPES_WORLD, [{ label: 'apple', box: [2, 2, 12, 12] }]);
    // Faded halfway to the grey background, the apple scores below 1.
    image.data.forEach((v, i) => (image.data[i] = 0.5 + (v - 0.5) * 0.5));
    const [apple] = await (await createDetector('shapes', { threshold: 0 })).detect(image, ['apple']);
    assert.ok(apple.score > 0 && apple.score < 1);
    assert.deepEqual(await (await createDetector('shapes', { threshold: apple.score })).detect(image, ['apple']), []);
  });

  test('unknown or incomplete specs and bad thresholds are errors that say what is expected', async () => {
    await assert.rejects(createDetector('yolo:m.onnx', { threshold: 0.1 }), {
      message: "unknown detector 'yolo:m.onnx' (expected shapes, owlvit:PATH, coco:PATH)",
    });
    await assert.rejects(createDetector('owlvit', { threshold: 0.1 }), { message: "detector 'owlvit' needs a path: owlvit:PATH" });
    await assert.rejects(createDetector('coco:', { threshold: 0.1 }), { message: "detector 'coco:' needs a path: coco:PATH" });
    await assert.rejects(createDetector('coco:/no/such/model.onnx', { threshold: 0.1 }), { message: '/no/such/model.onnx: no such model file or folder' });
    await assert.rejects(createDetector('shapes', { threshold: 1 }), { message: 'detector threshold must be in [0, 1), got 1' });
  });
});
