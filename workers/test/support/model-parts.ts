/**
 * Pieces of test model folders: small text encoders with seeded weights, word-level tokenizer
 * folders, JSON files. The encoders are CLIP-shaped in their inputs and outputs only:
 *   h_0 = token_embedding[input_ids] + position_embedding,  h_k = tanh(h_{k-1}),
 *   last_hidden_state = h_layers,  hidden_states.k = h_k (when exposed),
 *   text_embeds = mean over tokens of h_layers (when pooled),
 * simple enough for a test to recompute every value.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildModel, type NodeSpec, type ValueSpec } from '../../src/onnx/model-builder.ts';
import { saveModel } from '../../src/onnx/model-io.ts';
import { DataType, makeTensor, type ModelProto } from '../../src/onnx/proto.ts';
import { Random } from '../../src/util/random.ts';
export { writeWordLevelTokenizer } from '../../src/text/word-level.ts';

export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function writeModel(path: string, model: ModelProto): void {
  mkdirSync(dirname(path), { recursive: true });
  saveModel(model, path, { externalData: false });
}

export interface TextEncoderSpec {
  vocabSize: number;
  tokens: number;
  width: number;
  seed: number;
  /** Number of tanh layers after the embeddings (at least 1). */
  layers: number;
  /** Adds outputs hidden_states.0 .. hidden_states.<layers>, as optimum exports them for SDXL. */
  hiddenStates?: boolean;
  /** Adds `text_embeds` [batch, width], as CLIPTextModelWithProjection has. */
  pooled?: boolean;
  idType?: DataType.INT64 | DataType.INT32;
}

export interface TextEncoderWeights {
  /** [vocabSize, width] */
  tokenEmbedding: number[];
  /** [tokens, width] */
  positionEmbedding: number[];
}

export function textEncoderWeights(spec: TextEncoderSpec): TextEncoderWeights {
  const random = new Random(spec.seed);
  const values = (count: number, scale: number) => Array.from({ length: count }, () => Math.fround(random.normal() * scale));
  return { tokenEmbedding: values(spec.vocabSize * spec.width, 1), positionEmbedding: values(spec.tokens * spec.width, 0.1) };
}

export function textEncoderModel(spec: TextEncoderSpec): ModelProto {
  const { tokenEmbedding, positionEmbedding } = textEncoderWeights(spec);
  const hidden = (k: number) => `h${k}`;
  const nodes: NodeSpec[] = [
    { op: 'Gather', inputs: ['token_embedding', 'input_ids'], outputs: ['embedded'] },
    { op: 'Add', inputs: ['embedded', 'position_embedding'], outputs: [hidden(0)] },
  ];
  for (let k = 1; k <= spec.layers; k++) nodes.push({ op: 'Tanh', inputs: [hidden(k - 1)], outputs: [hidden(k)] });
  const floatOutput = (name: string, dims: ValueSpec['dims']): ValueSpec => ({ name, type: DataType.FLOAT, dims });
  const sequence = ['batch', spec.tokens, spec.width];
  const outputs = [floatOutput('last_hidden_state', sequence)];
  nodes.push({ op: 'Identity', inputs: [hidden(spec.layers)], outputs: ['last_hidden_state'] });
  if (spec.pooled) {
    outputs.push(floatOutput('text_embeds', ['batch', spec.width]));
    nodes.push({ op: 'ReduceMean', inputs: [hidden(spec.layers)], outputs: ['text_embeds'], attrs: { axes: [1], keepdims: 0 } });
  }
  if (spec.hiddenStates) {
    for (let k = 0; k <= spec.layers; k++) {
      outputs.push(floatOutput(`hidden_states.${k}`, sequence));
      nodes.push({ op: 'Identity', inputs: [hidden(k)], outputs: [`hidden_states.${k}`] });
    }
  }
  return buildModel({
    inputs: [{ name: 'input_ids', type: spec.idType ?? DataType.INT64, dims: ['batch', spec.tokens] }],
    outputs,
    initializers: [
      makeTensor('token_embedding', DataType.FLOAT, [spec.vocabSize, spec.width], tokenEmbedding),
      makeTensor('position_embedding', DataType.FLOAT, [spec.tokens, spec.width], positionEmbedding),
    ],
    nodes,
  });
}

/** diffusers' DDPM configuration as Stable Diffusion ships it, with the reference's trailing spacing. */
export const SD_SCHEDULER_CONFIG = {
  _class_name: 'DDPMScheduler',
  num_train_timesteps: 1000,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  beta_end: 0.012,
  timestep_spacing: 'trailing',
  prediction_type: 'epsilon',
  clip_sample: false,
  set_alpha_to_one: false,
  steps_offset: 1,
};
