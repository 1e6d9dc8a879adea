/**
 * The gradient of the loss with respect to the attention maps, for the options the official guided
 * steps (official-step.test.ts) do not differentiate: reverse mode through the loss graph against
 * central finite differences of the loss itself, along random directions that move each probability
 * by about 0.1% of itself (float32, as the engine computes).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { defaultParams, resolveParams } from '../../src/contracts/method-params.ts';
import { buildLossModel, lossModelFeeds, mapsFileSchema } from '../../src/guidance/loss-evaluation.ts';
import { relationOfPhrase } from '../../src/guidance/relations.ts';
import { grad } from '../../src/onnx/autodiff/grad.ts';
import { serializeModel } from '../../src/onnx/model-io.ts';
import { readJsonFile } from '../../src/util/read-data-file.ts';
import { seededRandom } from '../onnx/support/random.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/infsplign-official');

const CASES: Array<{ maps: string; relation: string; params: Record<string, unknown> }> = [
  { maps: 'maps_left.json', relation: 'to the left of', params: { gaussian_smoothing: true, energy_loss: 'gibs', top_loss: 'entropy', strategy: 'both' } },
  { maps: 'maps_left.json', relation: 'to the left of', params: { energy_loss: 'prob', top_loss: 'prob', strategy: 'std', L2_norm: true } },
  {
    maps: 'maps_left.json',
    relation: 'to the left of',
    params: { energy_loss: 'log', strategy: 'mutual', top_strategy: 'entgibs', L2_norm: true, loss_type: 'rrelu', margin: -0.9 },
  },
  {
    maps: 'maps_t2i_and.json',
    relation: 'and',
    params: { masked_mean: true, masked_mean_thresh: 0.95, masked_mean_weight: 2, top_loss: 'gibsent', top_strategy: 'second' },
  },
  {
    maps: 'maps_above.json',
    relation: 'above',
    params: { loss_num: 2, object_presence: true, top_loss: 'square', energy_loss: 'exp', strategy: 'entgibs', no_wt: false },
  },
  {
    maps: 'maps_xl_below.json',
    relation: 'below',
    params: { loss_num: 3, gaussian_smoothing: true, energy_loss: 'lin', strategy: 'second', top_loss: 'mean', top_strategy: 'inc', loss_type: 'softsign' },
  },
  {
    maps: 'maps_t2i_near.json',
    relation: 'near',
    params: {
      loss_num: 3,
      masked_mean: true,
      masked_mean_thresh: 0.95,
      masked_mean_weight: 1,
      energy_loss: 'entropy',
      strategy: 'mutual',
      top_strategy: 'std',
    },
  },
];

describe('d loss / d maps equals finite differences of the loss', () => {
  for (const c of CASES) {
    test(`${c.maps} ${c.relation} ${JSON.stringify(c.params)}`, async () => {
      const maps = readJsonFile(join(FIXTURES, c.maps), mapsFileSchema);
      const params = resolveParams(defaultParams('sd1'), c.params);
      const model = buildLossModel(maps, params);
      const wrt = maps.layers.map((_, k) => `probs_${k}`);
      const differentiated = grad(model, 'loss', wrt);
      const forward = await ort.InferenceSession.create(serializeModel(model), { logSeverityLevel: 3 });
      const backward = await ort.InferenceSession.create(serializeModel(differentiated.model), { logSeverityLevel: 3 });
      const feeds = lossModelFeeds(maps, relationOfPhrase(c.relation)!, params);
      const gradients = await backward.run(feeds);
      const rng = seededRandom(11);
      const h = 1e-3;
      for (let d = 0; d < 3; d++) {
        // relative moves: ent reads the smallest probabilities, where x ln x is steep, and they must stay positive
        const directions = maps.layers.map((l) => Float32Array.from(rng.normals(l.probs.length), (n, j) => n * l.probs[j]!));
        const lossAt = async (sign: number) => {
          const moved = { ...feeds };
          wrt.forEach((name, k) => {
            const base = feeds[name]!;
            moved[name] = new ort.Tensor(
              'float32',
              (base.data as Float32Array).map((v, j) => v + sign * h * directions[k]![j]!),
              base.dims,
            );
          });
          return (await forward.run(moved)).loss!.data[0] as number;
        };
        const numeric = ((await lossAt(1)) - (await lossAt(-1))) / (2 * h);
        const analytic = differentiated.gradients.reduce(
          (sum, name, k) => sum + (gradients[name]!.data as Float32Array).reduce((s, g, j) => s + g * directions[k]![j]!, 0),
          0,
        );
        assert.ok(
          Math.abs(analytic - numeric) <= 2e-2 * Math.max(Math.abs(numeric), 1e-3),
          `direction ${d}: analytic ${analytic} vs finite differences ${numeric}`,
        );
      }
    });
  }
});
