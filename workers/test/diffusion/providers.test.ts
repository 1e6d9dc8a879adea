import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { DeviceUnavailableError, createSession, deviceSchema, ensureDeviceAvailable } from '../../src/diffusion/providers.ts';
import { TINY_UNET_FIXTURE } from '../support/tiny-model.ts';

const nativeDir = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
const cudaInstalled = existsSync(join(nativeDir, 'libonnxruntime_providers_cuda.so'));

describe('execution providers', () => {
  test('cpu is always available and runs models', async () => {
    await ensureDeviceAvailable('cpu');
    const session = await createSession(TINY_UNET_FIXTURE, 'cpu');
    assert.deepEqual(session.inputNames, ['sample', 'timestep', 'encoder_hidden_states']);
    const out = await session.run({
      sample: new ort.Tensor('float32', new Float32Array(4 * 8 * 8), [1, 4, 8, 8]),
      timestep: new ort.Tensor('int64', BigInt64Array.from([500n]), [1]),
      encoder_hidden_states: new ort.Tensor('float32', new Float32Array(12 * 48), [1, 12, 48]),
    });
    assert.deepEqual(out.out_sample!.dims, [1, 4, 8, 8]);
    await session.release();
  });

  test(
    'cuda without its provider libraries is an error naming it and how to install them, never a CPU fallback',
    { skip: cudaInstalled && 'the CUDA provider libraries are installed here' },
    async () => {
      await assert.rejects(ensureDeviceAvailable('cuda'), (err: Error) => {
        assert.ok(err instanceof DeviceUnavailableError);
        assert.ok(err.message.startsWith("--device cuda: the 'cuda' execution provider is not available ("), err.message);
        assert.ok(err.message.includes('`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install`'), err.message);
        assert.ok(err.message.includes('CUDA 12'), err.message);
        return true;
      });
      // Sessions are refused too, not opened on the CPU instead.
      await assert.rejects(createSession(TINY_UNET_FIXTURE, 'cuda'), DeviceUnavailableError);
    },
  );

  test('webgpu either works or is an error naming it and what it needs', async () => {
    try {
      await ensureDeviceAvailable('webgpu');
    } catch (err) {
      assert.ok(err instanceof DeviceUnavailableError);
      assert.ok(err.message.startsWith('--device webgpu: '), err.message);
      assert.ok(err.message.includes('GPU adapter'), err.message);
    }
  });

  test('a model ONNX Runtime cannot load is an error naming the file and device', async () => {
    await assert.rejects(createSession('/nonexistent/model.onnx', 'cpu'), {
      message: /^\/nonexistent\/model\.onnx: ONNX Runtime cannot load the model on cpu \(/,
    });
  });

  test('--device takes cpu, cuda or webgpu', () => {
    assert.deepEqual(
      ['cpu', 'cuda', 'webgpu'].map((d) => deviceSchema.parse(d)),
      ['cpu', 'cuda', 'webgpu'],
    );
    assert.equal(deviceSchema.safeParse('tpu').success, false);
  });
});
