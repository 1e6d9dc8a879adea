/**
 * One guided step of a prepared U-Net on fixed, seeded inputs, and a digest of every output's bytes:
 * how the cache tests check that the guided graph computes exactly what it computed before its loss
 * values became inputs (fixtures/guided-bits/expected.json holds the digests of that earlier graph).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { GUIDED_IO } from '../../../src/guidance/prepare.ts';
import { relationOneHot } from '../../../src/guidance/relations.ts';
import { OPSET17_FIXTURE, readReference, REPO_ROOT } from '../../onnx/support/reference.ts';
import { seededRandom } from '../../onnx/support/random.ts';

export type StepModel = 'bundled' | 'opset17';

export const STEP_MODELS: Record<StepModel, { unet: string; layers: string[]; latent: [number, number]; channels: number; tokens: number; textDim: number }> = {
  bundled: {
    unet: join(REPO_ROOT, 'models/bundled/unet/model.onnx'),
    layers: ['up_blocks.{0,1}.attentions.0.transformer_blocks.0.attn2'],
    latent: [16, 16],
    channels: 12,
    tokens: 12,
    textDim: 64,
  },
  opset17: { unet: join(OPSET17_FIXTURE, 'unet.onnx'), layers: ['up_attn.*.transformer_blocks.0.attn2'], latent: [8, 8], channels: 4, tokens: 12, textDim: 48 },
};

/** The U-Net's inputs and the guidance inputs for a batch of two prompts ("left of", "above"), seeded. */
export function stepFeeds(model: StepModel): Record<string, ort.Tensor> {
  const m = STEP_MODELS[model];
  const rng = seededRandom(2024);
  const [h, w] = m.latent;
  const sample = Float32Array.from(rng.normals(2 * m.channels * h * w));
  const text =
    model === 'opset17'
      ? Float32Array.from(readReference(OPSET17_FIXTURE).inputs.encoder_hidden_states!.data)
      : Float32Array.from(rng.normals(2 * m.tokens * m.textDim));
  const weights = new Float32Array(2 * 2 * m.tokens);
  for (let b = 0; b < 2; b++) {
    weights[b * 2 * m.tokens + 2] = 1;
    weights[b * 2 * m.tokens + m.tokens + 5] = 0.5;
    weights[b * 2 * m.tokens + m.tokens + 6] = 0.5;
  }
  return {
    sample: new ort.Tensor('float32', sample, [2, m.channels, h, w]),
    timestep: model === 'opset17' ? new ort.Tensor('int64', BigInt64Array.from([501n]), [1]) : new ort.Tensor('float32', Float32Array.from([501, 501]), [2]),
    encoder_hidden_states: new ort.Tensor('float32', text, [2, m.tokens, m.textDim]),
    [GUIDED_IO.tokenWeights]: new ort.Tensor('float32', weights, [2, 2, m.tokens]),
    [GUIDED_IO.relation]: new ort.Tensor('float32', Float32Array.from([...relationOneHot('left of'), ...relationOneHot('above')]), [2, 5]),
    [GUIDED_IO.promptWeight]: new ort.Tensor('float32', Float32Array.from([1, 1]), [2]),
  };
}

/** SHA-256 of each output's bytes, by output name, and the loss for people reading the fixture. */
export function digestOutputs(out: Record<string, ort.Tensor>): { loss: number; sha256: Record<string, string> } {
  const sha256 = Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((name) => {
        const data = out[name]!.data as Float32Array;
        return [
          name,
          createHash('sha256')
            .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
            .digest('hex'),
        ];
      }),
  );
  return { loss: out[GUIDED_IO.loss]!.data[0] as number, sha256 };
}
