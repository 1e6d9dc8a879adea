import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCocoDetector } from '../../../src/evaluation/detectors/coco.ts';
import { COCO_CATEGORY_IDS, COCO_CLASSES, COCO_LABELS, cocoClassIndex } from '../../../src/evaluation/detectors/coco-labels.ts';
import { decodeDetr, detrResizeTarget } from '../../../src/evaluation/detectors/detr.ts';
import { roundHalfEven } from '../../../src/evaluation/detectors/python-round.ts';
import { decodeYolo, letterboxGeometry, letterboxImage, yoloLayout } from '../../../src/evaluation/detectors/yolo.ts';
import { createRgbImage } from '../../../src/image/rgb-image.ts';
import type { ModelSpec } from '../../../src/onnx/model-builder.ts';
import { DataType, makeTensor } from '../../../src/onnx/proto.ts';
import { OFFICIAL_FILES } from '../../../src/prompts/official-files.ts';
import { modelFolder } from './tiny-models.ts';

const DOG = cocoClassIndex('dog')!;
const PERSON = cocoClassIndex('person')!;

/** One DETR query's 92 logits: `peaks` at their slots (COCO category ids; 91 is "no object"), 0 elsewhere. */
const detrRow = (peaks: Record<number, number>) => Array.from({ length: 92 }, (_, slot) => peaks[slot] ?? 0);

describe('COCO labels', () => {
  test("are GenEval's object names in COCO order, at COCO's category ids, with VISOR's short names as aliases", () => {
    const names = readFileSync(OFFICIAL_FILES.cocoObjectNames, 'utf8').trim().split('\n');
    assert.deepEqual([...COCO_CLASSES], names);
    assert.equal(new Set(COCO_CATEGORY_IDS).size, 80);
    assert.equal(COCO_CATEGORY_IDS[DOG], 18);
    assert.equal(COCO_CATEGORY_IDS[cocoClassIndex('toothbrush')!], 90);
    assert.equal(cocoClassIndex('mouse'), cocoClassIndex('computer mouse'));
    assert.equal(cocoClassIndex('bee'), undefined);
    assert.equal(COCO_LABELS.length, 83);
  });
});

describe('python rounding', () => {
  test('halves go to the even neighbour', () => {
    assert.deepEqual([0.5, 1.5, 2.5, 666.5, -0.1, 159.9, 2.4].map(roundHalfEven), [0, 2, 2, 666, 0, 160, 2]);
  });
});

describe('DETR-style processing', () => {
  test('resizes the shortest edge to 800 unless the longest would pass 1333, as transformers does', () => {
    assert.deepEqual(detrResizeTarget(640, 480), { width: 1066, height: 800 });
    assert.deepEqual(detrResizeTarget(800, 1200), { width: 800, height: 1200 });
    // 2000 x 500: 800 would make 3200, so raw size 1333 * 500 / 2000 = 333.25 -> 333, long side int(333.25 * 4)
    assert.deepEqual(detrResizeTarget(2000, 500), { width: 1333, height: 333 });
    // raw size 666.5 rounds to even
    assert.deepEqual(detrResizeTarget(300, 600), { width: 666, height: 1333 });
  });

  test('softmax over all 92, best real class, N/A slots dropped, boxes to pixel corners', () => {
    const logits = Float32Array.from([
      ...detrRow({ 18: 5 }), // dog: e^5 / (e^5 + 91)
      ...detrRow({ 91: 10, 1: 3 }), // "no object" wins, person is still the best real class
      ...detrRow({ 12: 6 }), // category id 12 is unused in COCO
    ]);
    const boxes = Float32Array.from([0.5, 0.5, 0.2, 0.4, 0.1, 0.1, 0.1, 0.1, 0.5, 0.5, 1, 1]);
    const found = decodeDetr(logits, boxes, 200, 100, 0.0005);
    assert.equal(found.length, 2);
    assert.equal(found[0].classIndex, DOG);
    assert.ok(Math.abs(found[0].score - Math.exp(5) / (Math.exp(5) + 91)) < 1e-12);
    assert.deepEqual(
      found[0].box.map((v) => Math.round(v * 1e4) / 1e4),
      [80, 30, 120, 70],
    );
    assert.equal(found[1].classIndex, PERSON);
    assert.ok(Math.abs(found[1].score - Math.exp(3) / (Math.exp(10) + Math.exp(3) + 90)) < 1e-12);
    assert.deepEqual(
      decodeDetr(logits, boxes, 200, 100, 0.5).map((d) => d.classIndex),
      [DOG],
    );
  });
});

describe('YOLO-style processing', () => {
  test('letterboxes as Ultralytics: fit, centre, grey bars', () => {
    assert.deepEqual(letterboxGeometry(1280, 640, 640), { gain: 0.5, left: 0, top: 160, width: 640, height: 320 });
    assert.deepEqual(letterboxGeometry(5, 3, 8), { gain: 1.6, left: 0, top: 1, width: 8, height: 5 });
    const boxed = letterboxImage({ width: 2, height: 1, data: new Uint8Array([10, 20, 30, 10, 20, 30]) }, 4, letterboxGeometry(2, 1, 4));
    const rows = Array.from({ length: 4 }, (_, y) => Array.from(boxed.data.subarray(y * 12, y * 12 + 3)));
    assert.deepEqual(rows, [
      [114, 114, 114],
      [10, 20, 30],
      [10, 20, 30],
      [114, 114, 114],
    ]);
  });

  test('tells v5 from v8 by the output shape', () => {
    assert.equal(yoloLayout([1, 25200, 85], 'm.onnx'), 'v5');
    assert.equal(yoloLayout([1, 84, 8400], 'm.onnx'), 'v8');
    assert.throws(() => yoloLayout([1, 10, 10], 'm.onnx'), {
      message: 'm.onnx: YOLO output has shape [1, 10, 10], expected [1, N, 85] (YOLOv5) or [1, 84, N] (YOLOv8)',
    });
  });

  /** A YOLOv5 row: box in input pixels, objectness, one class's score. */
  const v5Row = (box: number[], objectness: number, classIndex: number, classScore: number) => {
    const r = new Array(85).fill(0);
    r.splice(0, 5, ...box, objectness);
    r[5 + classIndex] = classScore;
    return r;
  };

  test('v5: objectness x class score, class-aware NMS, boxes back through the letterbox', () => {
    const rows = [
      v5Row([320, 320, 64, 32], 0.9, DOG, 0.8), // 0.72
      v5Row([324, 320, 64, 32], 0.9, DOG, 0.7), // same dog, IoU 0.88: suppressed
      v5Row([322, 320, 64, 32], 0.9, PERSON, 0.5), // a person overlapping it: kept
      v5Row([100, 200, 10, 10], 0.5, DOG, 0.5), // 0.25: under the threshold
    ];
    const letterbox = letterboxGeometry(1280, 640, 640);
    const found = decodeYolo(Float32Array.from(rows.flat()), [1, 4, 85], 'v5', letterbox, { width: 1280, height: 640 }, 0.3);
    assert.deepEqual(
      found.map((d) => d.classIndex),
      [DOG, PERSON],
    );
    assert.ok(Math.abs(found[0].score - 0.72) < 1e-6);
    // input box [288, 304, 352, 336]: minus the 160 px bar, over the gain 0.5
    assert.deepEqual(found[0].box, [576, 288, 704, 352]);
  });

  test('v8: class scores alone, read column-wise, clipped to the image', () => {
    const candidates = 2;
    const output = new Float32Array(84 * candidates);
    const set = (i: number, values: Record<number, number>) => Object.entries(values).forEach(([k, v]) => (output[Number(k) * candidates + i] = v));
    set(0, { 0: 10, 1: 170, 2: 40, 3: 40, [4 + DOG]: 0.6 });
    set(1, { 0: 300, 1: 300, 2: 20, 3: 20, [4 + PERSON]: 0.2 });
    const letterbox = letterboxGeometry(640, 640, 640);
    const found = decodeYolo(output, [1, 84, candidates], 'v8', letterbox, { width: 640, height: 640 }, 0.25);
    assert.deepEqual(found, [{ classIndex: DOG, score: output[(4 + DOG) * candidates], box: [0, 150, 30, 190] }]);
  });
});

const QUERIES = 3;
/** A DETR-shaped stand-in: constant outputs, plus 0 x the pixels' mean so that the pixels must arrive. */
const DETR_STAND_IN: ModelSpec = {
  inputs: [
    { name: 'pixel_values', type: DataType.FLOAT, dims: [1, 3, 'height', 'width'] },
    { name: 'pixel_mask', type: DataType.INT64, dims: [1, 'height', 'width'] },
  ],
  outputs: [
    { name: 'logits', type: DataType.FLOAT, dims: [1, QUERIES, 92] },
    { name: 'pred_boxes', type: DataType.FLOAT, dims: [1, QUERIES, 4] },
  ],
  initializers: [
    // a dog, a person, and nothing
    makeTensor('class_logits', DataType.FLOAT, [1, QUERIES, 92], [...detrRow({ 18: 8 }), ...detrRow({ 1: 9 }), ...detrRow({ 91: 9 })]),
    makeTensor('boxes', DataType.FLOAT, [1, QUERIES, 4], [0.25, 0.5, 0.5, 0.5, 0.75, 0.5, 0.5, 1, 0.5, 0.5, 1, 1]),
    makeTensor('zero', DataType.FLOAT, [], [0]),
  ],
  nodes: [
    { op: 'ReduceMean', inputs: ['pixel_values'], outputs: ['pixel_mean'], attrs: { keepdims: 0 } },
    { op: 'Mul', inputs: ['pixel_mean', 'zero'], outputs: ['nothing'] },
    { op: 'Add', inputs: ['class_logits', 'nothing'], outputs: ['logits'] },
    { op: 'Identity', inputs: ['boxes'], outputs: ['pred_boxes'] },
  ],
};

describe('COCO detector on an ONNX model', () => {
  test('DETR-style: answers queries by their own names, VISOR aliases included', async () => {
    const folder = modelFolder(DETR_STAND_IN);
    const detector = await loadCocoDetector(folder, { threshold: 0.5 });
    assert.equal(detector.labels, COCO_LABELS);
    const image = createRgbImage(64, 48, [0.3, 0.3, 0.3]);
    const found = await detector.detect(image, ['dog', 'person', 'mouse']);
    assert.deepEqual(
      found.map((d) => [d.label, d.box]),
      [
        ['person', [32, 0, 64, 48]],
        ['dog', [0, 12, 32, 36]],
      ],
    );
    assert.ok(Math.abs(found[0].score - Math.exp(9) / (Math.exp(9) + 91)) < 1e-6);
    assert.deepEqual(await detector.detect(image, ['cat']), []);
  });

  test('a label outside the 80 classes is an error, not an empty answer', async () => {
    const detector = await loadCocoDetector(join(modelFolder(DETR_STAND_IN), 'model.onnx'), { threshold: 0.5 });
    await assert.rejects(detector.detect(createRgbImage(8, 8), ['dog', 'bee']), (err: Error) =>
      err.message.startsWith("'bee' is not among this detector's labels"),
    );
  });

  test('YOLO-style: letterboxed input, first output decoded', async () => {
    const output = new Float32Array(84 * 1);
    output.set([320, 320, 64, 64], 0);
    output[4 + DOG] = 0.9;
    const folder = modelFolder({
      inputs: [{ name: 'images', type: DataType.FLOAT, dims: [1, 3, 640, 640] }],
      outputs: [{ name: 'output0', type: DataType.FLOAT, dims: [1, 84, 1] }],
      initializers: [makeTensor('raw', DataType.FLOAT, [1, 84, 1], output), makeTensor('zero', DataType.FLOAT, [], [0])],
      nodes: [
        { op: 'ReduceMean', inputs: ['images'], outputs: ['pixel_mean'], attrs: { keepdims: 0 } },
        { op: 'Mul', inputs: ['pixel_mean', 'zero'], outputs: ['nothing'] },
        { op: 'Add', inputs: ['raw', 'nothing'], outputs: ['output0'] },
      ],
    });
    const detector = await loadCocoDetector(folder, { threshold: 0.5 });
    // 320 x 160 -> gain 2, 160 px bars above and below
    const found = await detector.detect(createRgbImage(320, 160), ['dog']);
    assert.deepEqual(
      found.map((d) => [d.label, d.box]),
      [['dog', [144, 64, 176, 96]]],
    );
  });

  test('a model of neither kind is refused, naming what was expected', async () => {
    const folder = modelFolder({
      inputs: [{ name: 'x', type: DataType.FLOAT, dims: [1] }],
      outputs: [{ name: 'y', type: DataType.FLOAT, dims: [1] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    });
    await assert.rejects(
      loadCocoDetector(folder, { threshold: 0.5 }),
      (err: Error) =>
        err.message.startsWith(`${join(folder, 'model.onnx')}: not a COCO detector this adapter knows`) && err.message.endsWith('(its inputs: x; outputs: y)'),
    );
  });
});
