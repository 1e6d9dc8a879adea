import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { exposeValues } from '../../src/onnx/expose.ts';
import { summarizeModel } from '../../src/onnx/inspect.ts';
import { buildModel } from '../../src/onnx/model-builder.ts';
import { loadModel, serializeModel } from '../../src/onnx/model-io.ts';
import { DataType } from '../../src/onnx/proto.ts';
import { OPSET14_FIXTURE, readReference, referenceFeeds, relativeL2 } from './support/reference.ts';

test('inspect finds exactly the attn2 Softmax nodes of the fixture, with their sizes', () => {
  const model = loadModel(join(OPSET14_FIXTURE, 'unet.onnx'));
  const summary = summarizeModel(model);
  const expected = model.graph!.node.filter((n) => n.opType === 'Softmax' && n.name.includes('/attn2/')).map((n) => n.name);
  assert.equal(expected.length, 5);
  assert.deepEqual(
    summary.crossAttention.map((a) => a.node),
    expected,
  );
  assert.deepEqual(
    summary.crossAttention.map((a) => [a.block, a.spatial, a.tokens]),
    [
      ['down_attn.0/transformer_blocks.0/attn2', '8x8', 12],
      ['down_attn.1/transformer_blocks.0/attn2', '4x4', 12],
      ['mid_attn/transformer_blocks.0/attn2', '4x4', 12],
      ['up_attn.0/transformer_blocks.0/attn2', '4x4', 12],
      ['up_attn.1/transformer_blocks.0/attn2', '8x8', 12],
    ],
  );
  assert.equal(summary.guidanceProblem, null);
  assert.equal(summary.opHistogram.Softmax, 10);
  assert.deepEqual(summary.opsets, [{ domain: 'ai.onnx', version: 14 }]);
  assert.deepEqual(
    summary.inputs.map((i) => [i.name, i.type, i.dims]),
    [
      ['sample', 'float', ['batch', 4, 8, 8]],
      ['timestep', 'int64', [1]],
      ['encoder_hidden_states', 'float', ['batch', 12, 48]],
    ],
  );
});

test('inspect recognises fused attention and says how to export an unfused model', () => {
  const model = buildModel({
    inputs: [{ name: 'q', type: DataType.FLOAT, dims: [1, 4, 8] }],
    outputs: [{ name: 'o', type: DataType.FLOAT }],
    nodes: [{ op: 'MultiHeadAttention', domain: 'com.microsoft', inputs: ['q', 'q', 'q'], outputs: ['o'], attrs: { num_heads: 2 } }],
  });
  const summary = summarizeModel(model);
  assert.deepEqual(
    summary.fusedAttention.map((f) => f.op),
    ['com.microsoft.MultiHeadAttention'],
  );
  assert.match(summary.guidanceProblem!, /fused.*cannot read or differentiate.*AttnProcessor\(\).*dynamo=False/);
});

test('expose of the attn2 Softmax nodes returns the probabilities PyTorch recorded', async () => {
  const model = loadModel(join(OPSET14_FIXTURE, 'unet.onnx'));
  const exposed = exposeValues(model, ['/up_attn\\.\\d\\/transformer_blocks\\.0\\/attn2\\/Softmax/']);
  assert.equal(exposed.length, 2);
  const session = await ort.InferenceSession.create(serializeModel(model), { logSeverityLevel: 3 });
  const ref = readReference(OPSET14_FIXTURE);
  const out = await session.run(referenceFeeds(ref));
  exposed.forEach((name, i) => {
    const expected = ref.attn2_up[`up_attn_${i}`]!;
    assert.deepEqual(out[name]!.dims, expected.dims);
    assert.ok(relativeL2(out[name]!.data as Float32Array, expected.data) < 1e-5);
  });
});

test('expose refuses selectors that match nothing', () => {
  const model = loadModel(join(OPSET14_FIXTURE, 'unet.onnx'));
  assert.throws(() => exposeValues(model, ['/attn9/']), /no value or node matches \/attn9\//);
  assert.throws(() => exposeValues(model, ['nope']), /no value named 'nope'/);
});
