/**
 * The tiny test model: a pixel-space (no VAE) `custom` model folder of about 1 MB, so that the
 * diffusion and guidance code can be tested end to end without any real weights. Its U-Net is the
 * committed PyTorch export `workers/test/fixtures/unet-opset17/unet.onnx` (sample [batch, 4, 8, 8],
 * timestep [1] int64, encoder_hidden_states [batch, 12, 48]; cross-attention in up_attn.0 at 4x4 and
 * up_attn.1 at 8x8), its text encoder a seeded embedding + tanh over a word-level vocabulary of the
 * Shapes world's words.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CLASSES } from '../../src/shapes/world.ts';
import { SD_SCHEDULER_CONFIG, textEncoderModel, writeJson, writeModel, writeWordLevelTokenizer, type TextEncoderSpec } from './model-parts.ts';

export const TINY_UNET_FIXTURE = fileURLToPath(new URL('../fixtures/unet-opset17/unet.onnx', import.meta.url));

/** The words of Shapes prompts: class names, articles, relation words. */
export const TINY_WORDS: readonly string[] = [
  ...DEFAULT_CLASSES.map((c) => c.name),
  ...['a', 'an', 'to', 'the', 'left', 'right', 'of', 'above', 'below', 'and', 'on', 'top', 'bottom', 'near', 'next', 'side'],
];

/** Token count and width of the fixture U-Net's encoder_hidden_states. */
export const TINY_TOKENS = 12;
export const TINY_WIDTH = 48;

/** The text encoder's spec, so that tests can recompute its output (see model-parts.ts). */
export const TINY_TEXT_ENCODER: TextEncoderSpec = { vocabSize: 4 + TINY_WORDS.length, tokens: TINY_TOKENS, width: TINY_WIDTH, seed: 5, layers: 1 };

/** The model's own docs/method.md §4 defaults: the fixture's two decoder cross-attention layers, maps at the latent's 8x8. */
export const TINY_DEFAULT_PARAMS = {
  cfg_scale: 5,
  steps: 10,
  layers: ['up_attn.{0,1}.transformer_blocks.0.attn2'],
  map_size: 8,
};

/** Writes the tiny model folder into `dir` (created if needed). */
export function buildTinyModelFolder(dir: string): void {
  mkdirSync(join(dir, 'unet'), { recursive: true });
  copyFileSync(TINY_UNET_FIXTURE, join(dir, 'unet', 'model.onnx'));
  writeModel(join(dir, 'text_encoder', 'model.onnx'), textEncoderModel(TINY_TEXT_ENCODER));
  writeWordLevelTokenizer(join(dir, 'tokenizer'), TINY_WORDS, TINY_TOKENS);
  writeJson(join(dir, 'scheduler', 'scheduler_config.json'), SD_SCHEDULER_CONFIG);
  writeJson(join(dir, 'model_index.json'), {
    _class_name: 'InfSplignTinyPipeline',
    _diffusers_version: '0.30.0',
    scheduler: ['diffusers', 'DDPMScheduler'],
    text_encoder: ['diffusers', 'OnnxRuntimeModel'],
    tokenizer: ['infsplign', 'WordLevelTokenizer'],
    unet: ['diffusers', 'OnnxRuntimeModel'],
  });
  writeJson(join(dir, 'infsplign.json'), TINY_DEFAULT_PARAMS);
}
