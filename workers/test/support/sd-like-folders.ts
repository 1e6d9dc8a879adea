/**
 * Model folders laid out and named like diffusers' ONNX exports of SD 1.x, 2.x and SDXL, with
 * stand-in graphs (an identity U-Net and VAE, the small encoders of model-parts.ts at the real
 * conditioning widths) and 8-token word-level tokenizers: enough to check that folders are
 * recognised and prompts encoded as diffusers does, in a few hundred KB.
 */
import { join } from 'node:path';
import { buildModel, type ValueSpec } from '../../src/onnx/model-builder.ts';
import { DataType, type Dim } from '../../src/onnx/proto.ts';
import { SD_SCHEDULER_CONFIG, textEncoderModel, writeJson, writeModel, writeWordLevelTokenizer, type TextEncoderSpec } from './model-parts.ts';

export const SD_LIKE_WORDS = ['a', 'cat', 'dog', 'to', 'the', 'left', 'of'];
export const SD_LIKE_TOKENS = 8;

export interface SdLikeOptions {
  family: 'sd1' | 'sd2' | 'sdxl';
  /** Latent height/width in the U-Net graph: a number, or symbolic (then only a config can tell). */
  latentSide?: number | 'symbolic';
  timestepType?: DataType;
  /** Contents of unet/config.json; none when absent. */
  unetConfig?: Record<string, unknown>;
  /** Contents of vae_decoder/config.json; none when absent. */
  vaeConfig?: Record<string, unknown>;
  withVae?: boolean;
  /** model_index.json's _class_name; the family's usual one by default. */
  pipelineClass?: string;
}

const PIPELINE_CLASSES = { sd1: 'OnnxStableDiffusionPipeline', sd2: 'StableDiffusionPipeline', sdxl: 'StableDiffusionXLPipeline' };

/** The stand-in text encoders of a family, in folder order (text_encoder, text_encoder_2). */
export function sdLikeEncoders(family: SdLikeOptions['family']): TextEncoderSpec[] {
  const common = { vocabSize: 4 + SD_LIKE_WORDS.length, tokens: SD_LIKE_TOKENS };
  switch (family) {
    case 'sd1':
      return [{ ...common, width: 768, seed: 1, layers: 1, idType: DataType.INT32 }];
    case 'sd2':
      return [{ ...common, width: 1024, seed: 2, layers: 1 }];
    case 'sdxl':
      return [
        { ...common, width: 768, seed: 3, layers: 3, hiddenStates: true },
        { ...common, width: 1280, seed: 4, layers: 3, hiddenStates: true, pooled: true },
      ];
  }
}

function identityModel(input: ValueSpec, extraInputs: ValueSpec[], output: string) {
  return buildModel({
    inputs: [input, ...extraInputs],
    outputs: [{ ...input, name: output }],
    nodes: [{ op: 'Identity', inputs: [input.name], outputs: [output] }],
  });
}

export function buildSdLikeFolder(dir: string, options: SdLikeOptions): void {
  const { family } = options;
  const encoders = sdLikeEncoders(family);
  const side: Dim = options.latentSide === 'symbolic' ? null : (options.latentSide ?? 16);
  const latentDims: Dim[] = ['batch', 4, side ?? 'height', side ?? 'width'];
  const context = encoders.reduce((sum, e) => sum + e.width, 0);
  const conditioning: ValueSpec[] = [
    { name: 'timestep', type: options.timestepType ?? DataType.INT64, dims: ['batch'] },
    { name: 'encoder_hidden_states', type: DataType.FLOAT, dims: ['batch', 'sequence', context] },
  ];
  if (family === 'sdxl') {
    conditioning.push({ name: 'text_embeds', type: DataType.FLOAT, dims: ['batch', 1280] }, { name: 'time_ids', type: DataType.FLOAT, dims: ['batch', 6] });
  }
  writeModel(join(dir, 'unet/model.onnx'), identityModel({ name: 'sample', type: DataType.FLOAT, dims: latentDims }, conditioning, 'out_sample'));
  if (options.unetConfig) writeJson(join(dir, 'unet/config.json'), options.unetConfig);
  if (options.withVae ?? true) {
    writeModel(join(dir, 'vae_decoder/model.onnx'), identityModel({ name: 'latent_sample', type: DataType.FLOAT, dims: latentDims }, [], 'sample'));
    if (options.vaeConfig) writeJson(join(dir, 'vae_decoder/config.json'), options.vaeConfig);
  }
  encoders.forEach((spec, k) => {
    const suffix = k === 0 ? '' : `_${k + 1}`;
    writeModel(join(dir, `text_encoder${suffix}/model.onnx`), textEncoderModel(spec));
    writeWordLevelTokenizer(join(dir, `tokenizer${suffix}`), SD_LIKE_WORDS, SD_LIKE_TOKENS);
  });
  writeJson(join(dir, 'scheduler/scheduler_config.json'), SD_SCHEDULER_CONFIG);
  writeJson(join(dir, 'model_index.json'), {
    _class_name: options.pipelineClass ?? PIPELINE_CLASSES[family],
    _diffusers_version: '0.30.0',
    ...(family === 'sdxl' ? { force_zeros_for_empty_prompt: true } : {}),
  });
}
