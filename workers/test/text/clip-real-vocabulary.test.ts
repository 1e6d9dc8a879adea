/**
 * The CLIP BPE tokenizer on CLIP's real vocabulary (models/clip-tokenizer, derived from OpenAI's
 * merges by scripts/fixtures/clip-tokenizer.ts), against token ids published by others who ran
 * Hugging Face's or OpenAI's CLIP tokenizer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClipBpeTokenizer } from '../../src/text/clip-bpe.ts';
import { loadTokenizer } from '../../src/text/tokenizer.ts';
import { CLIP_TOKENIZER_DIR } from './clip-vocabulary.ts';

const tokenizer = loadTokenizer(CLIP_TOKENIZER_DIR) as ClipBpeTokenizer;

describe('CLIP tokenizer on the real vocabulary', () => {
  test("the folder loads as a CLIP BPE tokenizer with 49,408 tokens and CLIP's special ids", () => {
    assert.equal(tokenizer.type, 'clip-bpe');
    assert.equal(tokenizer.modelMaxLength, 77);
    assert.deepEqual(tokenizer.specialIds, { start: 49406, end: 49407, pad: 49407, unknown: 49407 });
    const vocab = JSON.parse(readFileSync(join(CLIP_TOKENIZER_DIR, 'vocab.json'), 'utf8')) as Record<string, number>;
    assert.equal(Object.keys(vocab).length, 49408);
    assert.deepEqual(new Set(Object.values(vocab)).size, 49408);
  });

  // Published ids: "a photo of a cat" in many CLIP ports' tests (checked there against Hugging Face's
  // CLIPTokenizer or open_clip); the astronaut and CoreML prompts from apple/ml-stable-diffusion
  // swift/StableDiffusionTests/StableDiffusionTests.swift (583cc04); "the black dog" from a MobileCLIP
  // tokenizer port checked against open_clip; "Hello, World! 123" from Emgu CV's CLIP test, checked
  // against Hugging Face's CLIPTokenizer.
  const PUBLISHED: Array<[text: string, ids: number[]]> = [
    ['a photo of a cat', [49406, 320, 1125, 539, 320, 2368, 49407]],
    ['a photo of an astronaut riding a horse on mars', [49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 525, 7496, 49407]],
    ['Apple CoreML developer tools on a Macbook Air are fast', [49406, 3055, 19622, 5780, 10929, 5771, 525, 320, 20617, 1922, 631, 1953, 49407]],
    ['the black dog', [49406, 518, 1449, 1929, 49407]],
    ['Hello, World! 123', [49406, 3306, 267, 1002, 256, 272, 273, 274, 49407]],
  ];
  for (const [text, ids] of PUBLISHED) {
    test(`"${text}" gives the published ids`, () => {
      assert.deepEqual(tokenizer.encode(text).ids, ids);
    });
  }

  test('"hydrant" is two pieces, hydr and ant, as CLIP\'s merges give it', () => {
    // A public YOLO-World ONNX export script records 'fire hydrant' as [49406, 1769, 8031, 773, 49407].
    assert.deepEqual(tokenizer.symbols('hydrant'), ['hydr', 'ant</w>']);
    const encoding = tokenizer.encode('a fire hydrant');
    assert.deepEqual(encoding.ids, [49406, 320, 1769, 8031, 773, 49407]);
    assert.deepEqual(encoding.words.at(-1), { text: 'hydrant', positions: [3, 4] });
  });

  test('pads to 77 with the end token, its pad token', () => {
    const encoding = tokenizer.encode('a photo of a cat', { length: 77 });
    assert.equal(encoding.ids.length, 77);
    assert.deepEqual(encoding.ids.slice(7), new Array(70).fill(49407));
  });
});
