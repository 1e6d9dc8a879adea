import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, type ModelSpec } from '../../../src/onnx/model-builder.ts';
import { saveModel } from '../../../src/onnx/model-io.ts';
import { clipStyleVocabulary, TEST_MERGES } from '../../text/clip-vocabulary.ts';

/** A fresh folder holding `model.onnx` built from the spec, and any other files given. */
export function modelFolder(spec: ModelSpec, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'detector-model-'));
  saveModel(buildModel(spec), join(dir, 'model.onnx'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Tokenizer files like OWL-ViT's export (CLIP BPE, 16 tokens, padded with "!"), over the tests' small vocabulary. */
export const OWLVIT_TOKENIZER_FILES: Record<string, string> = {
  'tokenizer_config.json': JSON.stringify({ tokenizer_class: 'CLIPTokenizer', model_max_length: 16, pad_token: '!' }),
  'vocab.json': JSON.stringify(clipStyleVocabulary(TEST_MERGES)),
  'merges.txt': ['#version: 0.2', ...TEST_MERGES.map((pair) => pair.join(' '))].join('\n'),
};
