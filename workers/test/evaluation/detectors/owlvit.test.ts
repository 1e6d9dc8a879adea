import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeOwlVit, loadOwlVitDetector, owlVitPixelValues, owlVitTextInputs } from '../../../src/evaluation/detectors/owlvit.ts';
import { CLIP_NORMALIZATION } from '../../../src/evaluation/detectors/pixel-values.ts';
import { createRgbImage, type Rgb, type RgbImage } from '../../../src/image/rgb-image.ts';
import type { ModelSpec } from '../../../src/onnx/model-builder.ts';
import { DataType, makeTensor } from '../../../src/onnx/proto.ts';
import { loadTokenizer } from '../../../src/text/tokenizer.ts';
import { modelFolder, OWLVIT_TOKENIZER_FILES } from './tiny-models.ts';

const SIDE = 768;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** What CLIP's normalisation makes of a 0..1 channel value, by the formula. */
function normalised(value: number, channel: number): number {
  return (value - CLIP_NORMALIZATION.mean[channel]) / CLIP_NORMALIZATION.std[channel];
}

function pixelValueAt(values: Float32Array, x: number, y: number, channel: number): number {
  return values[channel * SIDE * SIDE + y * SIDE + x];
}

describe('OWL-ViT pre-processing', () => {
  test('an image already 768 x 768 is only rescaled and normalised, channel-first', () => {
    const image = createRgbImage(SIDE, SIDE);
    const probes: Array<[x: number, y: number, colour: Rgb]> = [
      [0, 0, [1, 0, 0]],
      [767, 3, [0, 128 / 255, 1]],
      [5, 700, [17 / 255, 1, 250 / 255]],
    ];
    for (const [x, y, colour] of probes) image.data.set(colour, (y * SIDE + x) * 3);
    const values = owlVitPixelValues(image);
    assert.equal(values.length, 3 * SIDE * SIDE);
    for (const [x, y, colour] of probes) {
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(pixelValueAt(values, x, y, c) - normalised(colour[c], c)) < 1e-6, `(${x}, ${y}) channel ${c}`);
    }
  });

  test('a smaller image is stretched to 768 x 768 without turning or mirroring it', () => {
    // Four quadrants of a 64 x 32 image; enlarging 12x and 24x, output pixels more than two source
    // pixels from a quadrant's edge see only that quadrant's colour.
    const quadrants: Rgb[] = [
      [1, 0, 0],
      [0, 0, 1],
      [0, 1, 0],
      [1, 1, 1],
    ];
    const image: RgbImage = createRgbImage(64, 32);
    for (let y = 0; y < 32; y++) for (let x = 0; x < 64; x++) image.data.set(quadrants[(y < 16 ? 0 : 2) + (x < 32 ? 0 : 1)], (y * 64 + x) * 3);
    const values = owlVitPixelValues(image);
    const probes: Array<[number, number, Rgb]> = [
      [10, 10, quadrants[0]],
      [760, 10, quadrants[1]],
      [10, 760, quadrants[2]],
      [760, 760, quadrants[3]],
      [300, 300, quadrants[0]],
    ];
    for (const [x, y, colour] of probes) {
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(pixelValueAt(values, x, y, c) - normalised(colour[c], c)) < 1e-6, `(${x}, ${y}) channel ${c}`);
    }
    // On the vertical edge (x = 384 is source x = 32.0), the two sides mix: red and blue both present.
    assert.ok(pixelValueAt(values, 383, 100, 0) > normalised(0.2, 0) && pixelValueAt(values, 383, 100, 2) > normalised(0.2, 2));
  });

  test('queries read "a photo of a {name}", padded to 16 tokens with the pad token', () => {
    const tokenizer = loadTokenizer(modelFolder({ inputs: [], outputs: [], nodes: [] }, OWLVIT_TOKENIZER_FILES));
    const { ids, mask } = owlVitTextInputs(tokenizer, ['cat', 'dog']);
    assert.equal(ids.length, 32);
    assert.deepEqual(ids.slice(0, 16), tokenizer.encode('a photo of a cat', { length: 16 }).ids);
    assert.deepEqual(tokenizer.words('a photo of a cat'), ['a', 'photo', 'of', 'a', 'cat']);
    // start, a, p h o t o, o f, a, dog, end = 12 real tokens, then 4 pads
    assert.deepEqual(mask.slice(16), [...new Array(12).fill(1), 0, 0, 0, 0]);
    assert.deepEqual(ids.slice(28, 32), new Array(4).fill(tokenizer.specialIds.pad));
  });
});

describe('OWL-ViT post-processing', () => {
  const names = ['cat', 'dog'];
  // patch 0: cat wins; patch 1: dog wins but scores sigmoid(-1) = 0.27; patch 2: a tie goes to the first query
  const logits = Float32Array.from([2, 1, -3, -1, 0.5, 0.5]);
  const boxes = Float32Array.from([0.5, 0.25, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05, 0.9, 0.8, 0.2, 0.4]);

  test('label = argmax over queries, score = its sigmoid, centre-size boxes to pixel corners, best first', () => {
    const found = decodeOwlVit(logits, boxes, names, 400, 200, 0.1);
    assert.deepEqual(
      found.map((d) => d.label),
      ['cat', 'cat', 'dog'],
    );
    assert.deepEqual(
      found.map((d) => d.score),
      [sigmoid(2), sigmoid(0.5), sigmoid(-1)],
    );
    // float32 box values, so compared to a micro-pixel
    const rounded = (box: readonly number[]) => box.map((v) => Math.round(v * 1e4) / 1e4);
    assert.deepEqual(
      found.map((d) => rounded(d.box)),
      [
        [160, 40, 240, 60],
        [320, 120, 400, 200],
        [30, 15, 50, 25],
      ],
    );
  });

  test('keeps scores strictly above the threshold', () => {
    assert.deepEqual(
      decodeOwlVit(logits, boxes, names, 400, 200, sigmoid(-1)).map((d) => d.score),
      [sigmoid(2), sigmoid(0.5)],
    );
    assert.deepEqual(decodeOwlVit(logits, boxes, names, 400, 200, 0.9), []);
  });

  test('outputs that disagree on the number of patches are an error', () => {
    assert.throws(() => decodeOwlVit(logits, boxes.subarray(4), names, 400, 200, 0.1), {
      message: 'OWL-ViT outputs disagree: 6 logits for 2 patches x 2 queries',
    });
  });
});

/*
 * A stand-in with OWL-ViT's signature whose logits depend on every input, so that the test sees
 * each one arrive: logits[0, p, q] = BASE[p] + 0.001 x (sum of query q's unmasked token ids) +
 * mean(pixel_values); pred_boxes are constant.
 */
const PATCHES = 3;
const BASE = [1, -6, 0.2];
const BOXES = [0.5, 0.5, 0.5, 0.5, 0.2, 0.2, 0.1, 0.1, 0.25, 0.75, 0.5, 0.5];
const OWLVIT_STAND_IN: ModelSpec = {
  inputs: [
    { name: 'input_ids', type: DataType.INT64, dims: ['queries', 16] },
    { name: 'pixel_values', type: DataType.FLOAT, dims: [1, 3, SIDE, SIDE] },
    { name: 'attention_mask', type: DataType.INT64, dims: ['queries', 16] },
  ],
  outputs: [
    { name: 'logits', type: DataType.FLOAT, dims: [1, PATCHES, 'queries'] },
    { name: 'pred_boxes', type: DataType.FLOAT, dims: [1, PATCHES, 4] },
  ],
  initializers: [
    makeTensor('base', DataType.FLOAT, [1, PATCHES, 1], BASE),
    makeTensor('boxes', DataType.FLOAT, [1, PATCHES, 4], BOXES),
    makeTensor('token_scale', DataType.FLOAT, [], [0.001]),
    makeTensor('token_axis', DataType.INT64, [1], [1]),
    makeTensor('leading_axes', DataType.INT64, [2], [0, 1]),
  ],
  nodes: [
    { op: 'Cast', inputs: ['input_ids'], outputs: ['ids'], attrs: { to: DataType.FLOAT } },
    { op: 'Cast', inputs: ['attention_mask'], outputs: ['mask'], attrs: { to: DataType.FLOAT } },
    { op: 'Mul', inputs: ['ids', 'mask'], outputs: ['real_ids'] },
    { op: 'ReduceSum', inputs: ['real_ids', 'token_axis'], outputs: ['id_sums'], attrs: { keepdims: 0 } },
    { op: 'Unsqueeze', inputs: ['id_sums', 'leading_axes'], outputs: ['id_sums_3d'] },
    { op: 'Mul', inputs: ['id_sums_3d', 'token_scale'], outputs: ['text_term'] },
    { op: 'ReduceMean', inputs: ['pixel_values'], outputs: ['pixel_mean'], attrs: { axes: [0, 1, 2, 3], keepdims: 0 } },
    { op: 'Add', inputs: ['base', 'text_term'], outputs: ['text_logits'] },
    { op: 'Add', inputs: ['text_logits', 'pixel_mean'], outputs: ['logits'] },
    { op: 'Identity', inputs: ['boxes'], outputs: ['pred_boxes'] },
  ],
};

describe('OWL-ViT detector on an ONNX model', () => {
  test('feeds tokens, mask and pixels as the model expects and decodes its outputs', async () => {
    const folder = modelFolder(OWLVIT_STAND_IN, OWLVIT_TOKENIZER_FILES);
    const detector = await loadOwlVitDetector(folder, { threshold: 0.1 });
    assert.equal(detector.name, `owlvit:${folder}`);
    assert.equal(detector.labels, undefined);
    const colour: Rgb = [0.2, 0.4, 0.6];
    const image = createRgbImage(40, 30, colour);
    const names = ['cat', 'hair drier', 'dog'];
    const found = await detector.detect(image, names);

    // The same logits worked out here: a uniform image stays uniform, so its mean is the channels' mean.
    const tokenizer = loadTokenizer(folder);
    const idSums = names.map((name) => {
      const e = tokenizer.encode(`a photo of a ${name}`, { length: 16 });
      return e.ids.reduce((sum, id, k) => sum + id * e.attentionMask[k], 0);
    });
    const pixelMean = (normalised(colour[0], 0) + normalised(colour[1], 1) + normalised(colour[2], 2)) / 3;
    const logits = Float32Array.from(BASE.flatMap((base) => idSums.map((sum) => base + 0.001 * sum + pixelMean)));
    const expected = decodeOwlVit(logits, Float32Array.from(BOXES), names, 40, 30, 0.1);
    assert.ok(expected.length >= 2, 'the stand-in is meant to leave some boxes above 0.1');
    assert.deepEqual(
      found.map((d) => [d.label, d.box]),
      expected.map((d) => [d.label, d.box]),
    );
    // the model sums in float32 over 1.8 million pixels
    found.forEach((d, k) => assert.ok(Math.abs(d.score - expected[k].score) < 1e-4, `${d.score} vs ${expected[k].score}`));
    assert.deepEqual(await detector.detect(image, []), []);
  });

  test("a model without OWL-ViT's signature, or a folder without tokenizer files, is refused by name", async () => {
    const noMask = modelFolder(
      {
        inputs: OWLVIT_STAND_IN.inputs.slice(0, 2),
        outputs: OWLVIT_STAND_IN.outputs,
        initializers: [makeTensor('boxes', DataType.FLOAT, [1, PATCHES, 4], BOXES)],
        nodes: [
          { op: 'Identity', inputs: ['boxes'], outputs: ['pred_boxes'] },
          { op: 'Identity', inputs: ['boxes'], outputs: ['logits'] },
        ],
      },
      OWLVIT_TOKENIZER_FILES,
    );
    await assert.rejects(loadOwlVitDetector(noMask, { threshold: 0.1 }), {
      message: `${join(noMask, 'model.onnx')}: the model has no input 'attention_mask' (its inputs: input_ids, pixel_values)`,
    });
    const noTokenizer = modelFolder(OWLVIT_STAND_IN);
    await assert.rejects(loadOwlVitDetector(join(noTokenizer, 'model.onnx'), { threshold: 0.1 }), {
      message: `${noTokenizer}: no tokenizer_config.json; a tokenizer folder needs one naming its tokenizer_class`,
    });
    await assert.rejects(loadOwlVitDetector('/nonexistent/owlvit', { threshold: 0.1 }), { message: '/nonexistent/owlvit: no such model file or folder' });
  });
});
