import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { buildModel } from '../../src/onnx/model-builder.ts';
import { hasExternalData, loadModel, parseModel, saveModel, serializeModel } from '../../src/onnx/model-io.ts';
import { DataType, makeTensor } from '../../src/onnx/proto.ts';

const dir = mkdtempSync(join(tmpdir(), 'model-io-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** y = x @ W + b with a 64x64 weight (16 KiB, so it goes to external data). */
function linearModel() {
  const w = Array.from({ length: 64 * 64 }, (_, k) => Math.sin(k));
  return buildModel({
    inputs: [{ name: 'x', type: DataType.FLOAT, dims: [2, 64] }],
    outputs: [{ name: 'y', type: DataType.FLOAT, dims: [2, 64] }],
    initializers: [makeTensor('W', DataType.FLOAT, [64, 64], w), makeTensor('b', DataType.FLOAT, [64], new Array(64).fill(0.5))],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
      { op: 'Add', inputs: ['xw', 'b'], outputs: ['y'] },
    ],
  });
}

async function run(modelPathOrBytes: string | Uint8Array) {
  const session =
    typeof modelPathOrBytes === 'string' ? await ort.InferenceSession.create(modelPathOrBytes) : await ort.InferenceSession.create(modelPathOrBytes);
  const x = new ort.Tensor(
    'float32',
    Float32Array.from({ length: 128 }, (_, k) => k / 100),
    [2, 64],
  );
  return Array.from((await session.run({ x })).y!.data as Float32Array);
}

test("round trip keeps fields this code does not know (a newer schema's)", () => {
  const bytes = serializeModel(linearModel());
  // ModelProto field 99 (unknown to onnx.proto), varint 150: tag (99 << 3 | 0) = 792 -> 0x98 0x06.
  const extended = new Uint8Array([...bytes, 0x98, 0x06, 0x96, 0x01]);
  const again = serializeModel(parseModel(extended));
  assert.deepEqual(Array.from(again.slice(-4)), [0x98, 0x06, 0x96, 0x01]);
  assert.equal(again.length, extended.length);
});

test('external data: written, read back lazily, and the model runs the same', async () => {
  const model = linearModel();
  const inline = join(dir, 'inline.onnx');
  const external = join(dir, 'external.onnx');
  saveModel(model, inline);
  assert.deepEqual(saveModel(model, external, { externalData: true }), [external, `${external}.data`]);
  assert.ok(readFileSync(external).length < 2000, 'weights left the model file');
  const reloaded = loadModel(external);
  assert.ok(hasExternalData(reloaded));
  const expected = await run(inline);
  assert.deepEqual(await run(external), expected);
  // Re-saving a model loaded with external data copies its weights (auto mode keeps them external).
  const copy = join(dir, 'copy.onnx');
  saveModel(reloaded, copy);
  assert.ok(existsSync(`${copy}.data`));
  assert.deepEqual(await run(copy), expected);
  // And inlining them gives one self-contained file.
  assert.deepEqual(await run(serializeModel(reloaded)), expected);
});

test('bad files: not protobuf, truncated, no graph, missing or short external data', () => {
  const good = serializeModel(linearModel());
  const notProtobuf = join(dir, 'text.onnx');
  writeFileSync(notProtobuf, 'this is not a model\n'.repeat(20));
  assert.throws(() => loadModel(notProtobuf), /text\.onnx is not a readable ONNX model/);
  const truncated = join(dir, 'truncated.onnx');
  writeFileSync(truncated, good.slice(0, good.length - 100));
  assert.throws(() => loadModel(truncated), /truncated\.onnx is not a readable ONNX model/);
  assert.throws(() => loadModel(join(dir, 'absent.onnx')), /model file not found/);
  assert.throws(() => parseModel(new Uint8Array(), 'empty'), /empty is not an ONNX model/);

  const external = join(dir, 'ext2.onnx');
  saveModel(linearModel(), external, { externalData: true });
  rmSync(`${external}.data`);
  assert.throws(() => loadModel(external), /missing external data file .*ext2\.onnx\.data \(tensor 'W'/);
  writeFileSync(`${external}.data`, new Uint8Array(10));
  assert.throws(() => loadModel(external), /too short for tensor 'W'/);
});
