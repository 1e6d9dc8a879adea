/**
 * The prepared (guided) U-Net: its gradient output must equal central finite differences of its
 * own loss output, and one guided step must move the centroids the way that lowers the loss.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { lossValueFeeds } from '../../src/guidance/loss-evaluation.ts';
import { buildGuidedUnet, GUIDED_IO } from '../../src/guidance/prepare.ts';
import type { LossParams } from '../../src/guidance/loss-graph.ts';
import { relationOneHot } from '../../src/guidance/relations.ts';
import { loadModel, serializeModel } from '../../src/onnx/model-io.ts';
import { OPSET17_FIXTURE, readReference } from '../onnx/support/reference.ts';
import { seededRandom } from '../onnx/support/random.ts';

export const TEST_LOSS_PARAMS: LossParams = {
  map_size: 8,
  loss_type: 'gelu',
  alpha: 0.75,
  margin: 0.25,
  leaky_relu_slope: 0.05,
  energy_loss: 'var',
  strategy: 'diff',
  top_loss: 'var',
  top_strategy: 'dec',
  lambda_spatial: 1,
  lambda_presence: 1,
  lambda_balance: 1,
  loss_num: 1,
  L2_norm: false,
  gaussian_smoothing: false,
  masked_mean: false,
  masked_mean_thresh: 0,
  masked_mean_weight: 0,
  object_presence: false,
};
const LAYERS = ['up_attn.*.transformer_blocks.0.attn2'];

async function guidedSession() {
  const guided = buildGuidedUnet(loadModel(join(OPSET17_FIXTURE, 'unet.onnx')), { layers: LAYERS, params: TEST_LOSS_PARAMS, latentHeight: 8, latentWidth: 8 });
  return { guided, session: await ort.InferenceSession.create(serializeModel(guided.model), { logSeverityLevel: 3 }) };
}

function feeds(sample: Float32Array) {
  const ref = readReference(OPSET17_FIXTURE);
  const tokens = 12;
  const weights = new Float32Array(2 * 2 * tokens);
  for (let b = 0; b < 2; b++) {
    weights[b * 2 * tokens + 3] = 1; // object 1: token 3
    weights[b * 2 * tokens + tokens + 6] = 0.5; // object 2: tokens 6 and 7
    weights[b * 2 * tokens + tokens + 7] = 0.5;
  }
  return {
    sample: new ort.Tensor('float32', sample, [2, 4, 8, 8]),
    timestep: new ort.Tensor('int64', BigInt64Array.from([501n]), [1]),
    encoder_hidden_states: new ort.Tensor('float32', Float32Array.from(ref.inputs.encoder_hidden_states!.data), [2, 12, 48]),
    [GUIDED_IO.tokenWeights]: new ort.Tensor('float32', weights, [2, 2, tokens]),
    [GUIDED_IO.relation]: new ort.Tensor('float32', Float32Array.from([...relationOneHot('left of'), ...relationOneHot('above')]), [2, 5]),
    [GUIDED_IO.promptWeight]: new ort.Tensor('float32', Float32Array.from([1, 1]), [2]),
    ...lossValueFeeds(TEST_LOSS_PARAMS, (name) => GUIDED_IO.values[name]),
  };
}

describe('guided U-Net (committed opset-17 fixture)', () => {
  test('selects the configured layers, with their map sizes', async () => {
    const { guided } = await guidedSession();
    assert.deepEqual(guided.layers, [
      { name: 'up_attn.0/transformer_blocks.0/attn2', height: 4, width: 4 },
      { name: 'up_attn.1/transformer_blocks.0/attn2', height: 8, width: 8 },
    ]);
    assert.equal(guided.tokens, 12);
  });

  test('d loss / d sample equals central finite differences of the loss output', async () => {
    const { guided, session } = await guidedSession();
    const rng = seededRandom(7);
    const x = Float32Array.from(readReference(OPSET17_FIXTURE).inputs.sample!.data);
    const out = await session.run(feeds(x));
    const g = out[guided.gradient]!.data as Float32Array;
    // The loss is strongly curved (|E1 - E2|, GELU): a small step keeps the truncation error low.
    const h = 1e-3;
    for (let d = 0; d < 3; d++) {
      const v = Float32Array.from(rng.normals(x.length));
      const lossAt = async (sign: number) => (await session.run(feeds(x.map((xi, k) => xi + sign * h * v[k]!))))[GUIDED_IO.loss]!.data[0] as number;
      const fd = ((await lossAt(1)) - (await lossAt(-1))) / (2 * h);
      const analytic = g.reduce((s, gi, k) => s + gi * v[k]!, 0);
      assert.ok(Math.abs(analytic - fd) <= 2e-2 * Math.max(Math.abs(fd), 1e-4), `analytic ${analytic} vs finite differences ${fd}`);
    }
  });

  test('a small step against the gradient lowers the loss and moves the centroids toward the relation', async () => {
    const { guided, session } = await guidedSession();
    const x = Float32Array.from(readReference(OPSET17_FIXTURE).inputs.sample!.data);
    const before = await session.run(feeds(x));
    const g = before[guided.gradient]!.data as Float32Array;
    const norm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
    const after = await session.run(feeds(x.map((xi, k) => xi - (0.05 / norm) * g[k]!)));
    assert.ok((after[GUIDED_IO.loss]!.data[0] as number) < (before[GUIDED_IO.loss]!.data[0] as number));
    // Prompt 0 asks object 1 left of object 2: x2 - x1 must grow. Prompt 1 asks above: y2 - y1 must grow.
    const c0 = before[GUIDED_IO.centroids]!.data as Float32Array;
    const c1 = after[GUIDED_IO.centroids]!.data as Float32Array;
    const gapX = (c: Float32Array) => c[2]! - c[0]!; // [b=0][obj 2][x] - [b=0][obj 1][x]
    const gapY = (c: Float32Array) => c[4 + 3]! - c[4 + 1]!; // [b=1][obj 2][y] - [b=1][obj 1][y]
    assert.ok(gapX(c1) > gapX(c0), `left-of gap ${gapX(c0)} -> ${gapX(c1)}`);
    assert.ok(gapY(c1) > gapY(c0), `above gap ${gapY(c0)} -> ${gapY(c1)}`);
  });
});
