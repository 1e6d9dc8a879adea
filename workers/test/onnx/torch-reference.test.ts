/**
 * Differentiation of graphs written by PyTorch's exporter, checked against torch autograd:
 * the same U-Net at opset 14 (LayerNormalization decomposed) and at opset 17 (LayerNormalization as one op).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { grad } from '../../src/onnx/autodiff/grad.ts';
import { loadModel, serializeModel } from '../../src/onnx/model-io.ts';
import type { ModelProto } from '../../src/onnx/proto.ts';
import { OPSET14_FIXTURE, OPSET17_FIXTURE, readReference, referenceFeeds, relativeL2, toOrt } from './support/reference.ts';

function assertDefaultDomainOnly(model: ModelProto) {
  const foreign = model.graph!.node.filter((n) => n.domain && n.domain !== 'ai.onnx');
  assert.deepEqual(
    foreign.map((n) => `${n.domain}.${n.opType}`),
    [],
  );
}

for (const [label, dir] of [
  ['unet-opset14', OPSET14_FIXTURE],
  ['unet-opset17', OPSET17_FIXTURE],
] as const) {
  describe(`gradients of ${label} match PyTorch`, () => {
    const ref = readReference(dir);

    test('d loss / d sample of unet_loss.onnx: rel. L2 < 1e-3, loss to 1e-5', async () => {
      const { model, gradients } = grad(loadModel(join(dir, 'unet_loss.onnx')), 'loss', ['sample']);
      assertDefaultDomainOnly(model);
      const session = await ort.InferenceSession.create(serializeModel(model), { logSeverityLevel: 3 });
      const out = await session.run(referenceFeeds(ref));
      const loss = out.loss!.data[0] as number;
      assert.ok(Math.abs(loss - ref.loss) / Math.abs(ref.loss) < 1e-5, `loss ${loss} vs ${ref.loss}`);
      const err = relativeL2(out[gradients[0]!]!.data as Float32Array, ref.grad_loss_sample.data);
      assert.ok(err < 1e-3, `relative L2 error ${err}`);
    });

    test('VJP of out_sample with seed_out_sample (unet.onnx, dynamic batch): rel. L2 < 1e-3', async () => {
      const { model, gradients, seed } = grad(loadModel(join(dir, 'unet.onnx')), 'out_sample', ['sample']);
      assert.equal(seed, 'seed_out_sample');
      assertDefaultDomainOnly(model);
      const session = await ort.InferenceSession.create(serializeModel(model), { logSeverityLevel: 3 });
      const out = await session.run({ ...referenceFeeds(ref), seed_out_sample: toOrt(ref.seed_out_sample) });
      assert.ok(relativeL2(out.out_sample!.data as Float32Array, ref.out_sample.data) < 1e-5, 'forward output changed');
      const err = relativeL2(out[gradients[0]!]!.data as Float32Array, ref.grad_weighted_out_sample.data);
      assert.ok(err < 1e-3, `relative L2 error ${err}`);
    });
  });
}

test('LayerNormalization is one op in the opset-17 fixture and decomposed in the opset-14 one', () => {
  const hasLayerNorm = (dir: string) => loadModel(join(dir, 'unet.onnx')).graph!.node.some((n) => n.opType === 'LayerNormalization');
  assert.equal(hasLayerNorm(OPSET17_FIXTURE), true);
  assert.equal(hasLayerNorm(OPSET14_FIXTURE), false);
});
