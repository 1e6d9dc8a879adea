import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { buildModel } from '../../src/onnx/model-builder.ts';
import { saveModel } from '../../src/onnx/model-io.ts';
import { DataType, makeTensor } from '../../src/onnx/proto.ts';
import { OPSET14_FIXTURE } from '../onnx/support/reference.ts';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'cli-onnx-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (name: string) => join(OPSET14_FIXTURE, name);

describe('infsplign onnx grad', () => {
  test('writes a model with grad_sample that loads in onnxruntime', async () => {
    const out = join(dir, 'grad.onnx');
    const r = await runCli(['onnx', 'grad', '--model', fixture('unet_loss.onnx'), '--of', 'loss', '--wrt', 'sample', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /outputs added: grad_sample/);
    const session = await ort.InferenceSession.create(out, { logSeverityLevel: 3 });
    assert.ok(session.outputNames.includes('grad_sample'));
  });

  const elu = join(dir, 'elu.onnx');
  saveModel(
    buildModel({
      inputs: [{ name: 'x', type: DataType.FLOAT, dims: [3] }],
      outputs: [{ name: 'y', type: DataType.FLOAT, dims: [3] }],
      nodes: [{ op: 'Elu', inputs: ['x'], outputs: ['y'], name: 'my_elu' }],
    }),
    elu,
  );
  const missingData = join(dir, 'missing-data.onnx');
  saveModel(
    buildModel({
      inputs: [{ name: 'x', type: DataType.FLOAT, dims: [1, 512] }],
      outputs: [{ name: 'y', type: DataType.FLOAT }],
      initializers: [makeTensor('W', DataType.FLOAT, [512, 2], new Array(1024).fill(1))],
      nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
    }),
    missingData,
    { externalData: true },
  );
  rmSync(`${missingData}.data`);
  const notProtobuf = join(dir, 'not-protobuf.onnx');
  writeFileSync(notProtobuf, 'hello, I am text\n'.repeat(10));
  const truncated = join(dir, 'truncated.onnx');
  writeFileSync(truncated, readFileSync(fixture('unet.onnx')).subarray(0, 50_000));

  const cases: Array<[string, string[], RegExp]> = [
    ['not protobuf', ['--model', notProtobuf, '--of', 'y', '--wrt', 'x'], /not-protobuf\.onnx is not a readable ONNX model/],
    ['truncated file', ['--model', truncated, '--of', 'y', '--wrt', 'x'], /truncated\.onnx is not a readable ONNX model/],
    ['missing external data file', ['--model', missingData, '--of', 'y', '--wrt', 'x'], /missing external data file .*missing-data\.onnx\.data/],
    ['unknown --of', ['--model', fixture('unet_loss.onnx'), '--of', 'losss', '--wrt', 'sample'], /--of 'losss' is not a value of the graph/],
    ['unknown --wrt', ['--model', fixture('unet_loss.onnx'), '--of', 'loss', '--wrt', 'sample,latent'], /--wrt 'latent' is not a value of the graph/],
    ['integer --wrt', ['--model', fixture('unet_loss.onnx'), '--of', 'loss', '--wrt', 'timestep'], /--wrt 'timestep' has type int64/],
    ['an op without a rule', ['--model', elu, '--of', 'y', '--wrt', 'x'], /no gradient rule for op Elu \(node 'my_elu', opset 17\)/],
  ];
  for (const [label, args, message] of cases) {
    test(`bad input (${label}): exit code 1, a clear message, no output file`, async () => {
      const out = join(dir, `out-${label.replace(/\W+/g, '-')}.onnx`);
      const r = await runCli(['onnx', 'grad', ...args, '--out', out]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, message);
      assert.equal(existsSync(out), false);
      assert.equal(existsSync(`${out}.data`), false);
    });
  }

  test('missing options are usage errors (exit code 2)', async () => {
    const r = await runCli(['onnx', 'grad', '--model', fixture('unet.onnx')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing --of/);
  });
});

describe('infsplign onnx inspect / expose', () => {
  test('inspect --json lists the cross-attention maps', async () => {
    const r = await runCli(['onnx', 'inspect', '--model', fixture('unet.onnx'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { crossAttention: Array<{ block: string }> };
    assert.equal(summary.crossAttention.length, 5);
  });

  test('expose adds the selected values as outputs', async () => {
    const out = join(dir, 'exposed.onnx');
    const r = await runCli(['onnx', 'expose', '--model', fixture('unet.onnx'), '--values', '/attn2\\/Softmax/', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const session = await ort.InferenceSession.create(out, { logSeverityLevel: 3 });
    assert.equal(session.outputNames.filter((n) => n.includes('attn2/Softmax')).length, 5);
  });
});
