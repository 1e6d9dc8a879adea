import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { float32Data, floatTensor } from '../../src/diffusion/float-data.ts';
import { readModelFolder, type ModelFolder } from '../../src/diffusion/model-folder.ts';
import { encodePrompts, openPromptEncoder, type PromptEncoder } from '../../src/diffusion/text-encoder.ts';
import { textEncoderWeights, type TextEncoderSpec } from '../support/model-parts.ts';
import { SD_LIKE_TOKENS, SD_LIKE_WORDS, buildSdLikeFolder, sdLikeEncoders } from '../support/sd-like-folders.ts';
import { TINY_TEXT_ENCODER, TINY_TOKENS, TINY_WIDTH, TINY_WORDS, buildTinyModelFolder } from '../support/tiny-model.ts';

const root = mkdtempSync(join(tmpdir(), 'text-encoder-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** What the stand-in encoder computes at `layer` (see model-parts.ts), recomputed here in float64. */
function expectedHidden(spec: TextEncoderSpec, ids: readonly number[], layer: number): number[] {
  const { tokenEmbedding, positionEmbedding } = textEncoderWeights(spec);
  const out: number[] = [];
  ids.forEach((id, t) => {
    for (let c = 0; c < spec.width; c++) {
      let h = tokenEmbedding[id * spec.width + c]! + positionEmbedding[t * spec.width + c]!;
      for (let k = 0; k < layer; k++) h = Math.tanh(h);
      out.push(h);
    }
  });
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i]! - expected[i]!) > 1e-5) assert.fail(`${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

/** Word-level ids: <pad> 0, <s> 1, </s> 2, <unk> 3, then the words. */
function ids(words: readonly string[], text: string, length: number): number[] {
  const out = [
    1,
    ...text
      .split(' ')
      .filter(Boolean)
      .map((w) => 4 + words.indexOf(w)),
    2,
  ];
  while (out.length < length) out.push(0);
  return out;
}

describe('the tiny model', () => {
  let folder: ModelFolder;
  let encoder: PromptEncoder;
  before(async () => {
    const dir = join(root, 'tiny');
    buildTinyModelFolder(dir);
    folder = readModelFolder(dir);
    encoder = await openPromptEncoder(folder, 'cpu');
  });
  after(() => encoder.release());

  test('encodes a batch of prompts as [batch, 12, 48], each row its own prompt', async () => {
    const prompts = ['a apple to the left of a box', 'a tree above a gem'];
    const result = await encoder.encode(prompts);
    assert.deepEqual(result.dims, [2, TINY_TOKENS, TINY_WIDTH]);
    assert.equal(result.pooled, undefined);
    const expected = prompts.flatMap((p) => expectedHidden(TINY_TEXT_ENCODER, ids(TINY_WORDS, p, TINY_TOKENS), 1));
    assertClose(result.embeddings, expected, 'embeddings');
    const single = await encoder.encode([prompts[1]!]);
    assertClose(single.embeddings, result.embeddings.subarray(TINY_TOKENS * TINY_WIDTH), 'the same prompt alone');
  });

  test("returns the tokenization, with the words' token positions", async () => {
    const result = await encoder.encode(['a apple to the left of a box']);
    assert.deepEqual(result.encodings[0]!.ids, ids(TINY_WORDS, 'a apple to the left of a box', TINY_TOKENS));
    assert.deepEqual(result.encodings[0]!.words.find((w) => w.text === 'box')?.positions, [8]);
    assert.deepEqual(encoder.tokenize('a apple to the left of a box').words[1], { text: 'apple', positions: [2] });
    assert.equal(result.tokenizer, encoder.tokenizer);
    assert.equal(encoder.tokens, TINY_TOKENS);
  });

  test('the unconditional embedding is the encoding of "", repeated', async () => {
    const uncond = await encoder.unconditional(3);
    assert.deepEqual(uncond.dims, [3, TINY_TOKENS, TINY_WIDTH]);
    const empty = expectedHidden(TINY_TEXT_ENCODER, ids(TINY_WORDS, '', TINY_TOKENS), 1);
    assertClose(uncond.embeddings, [...empty, ...empty, ...empty], 'unconditional');
    assertClose((await encodePrompts(folder, [''], 'cpu')).embeddings, empty, 'encodePrompts("")');
  });

  test('words outside the vocabulary become the unknown token; long prompts are cut to 12 tokens', async () => {
    const result = await encoder.encode(['a zebra', 'a apple and a box and a tree and a gem and a egg']);
    assert.deepEqual(result.encodings[0]!.ids.slice(0, 4), [1, 4 + TINY_WORDS.indexOf('a'), 3, 2]);
    assert.equal(result.encodings[1]!.truncated, true);
    assert.equal(result.encodings[1]!.ids.length, TINY_TOKENS);
  });
});

describe('SD-style folders', () => {
  test('SD 1.x: last_hidden_state of int32 token ids', async () => {
    const dir = join(root, 'sd1');
    buildSdLikeFolder(dir, { family: 'sd1' });
    const prompt = 'a cat left of a dog';
    const result = await encodePrompts(readModelFolder(dir), [prompt], 'cpu');
    const [spec] = sdLikeEncoders('sd1');
    assert.deepEqual(result.dims, [1, SD_LIKE_TOKENS, 768]);
    assert.equal(result.encodings[0]!.truncated, false);
    assertClose(result.embeddings, expectedHidden(spec!, ids(SD_LIKE_WORDS, prompt, SD_LIKE_TOKENS), 1), 'embeddings');
  });

  test('SDXL: penultimate hidden states of both encoders side by side, pooled from the second; zeros unconditional', async () => {
    const dir = join(root, 'sdxl');
    buildSdLikeFolder(dir, { family: 'sdxl' });
    const folder = readModelFolder(dir);
    const prompts = ['a cat', 'the dog'];
    const [first, second] = sdLikeEncoders('sdxl');
    const encoder = await openPromptEncoder(folder, 'cpu');
    try {
      const result = await encoder.encode(prompts);
      assert.deepEqual(result.dims, [2, 8, 768 + 1280]);
      const expected: number[] = [];
      for (const prompt of prompts) {
        const tokenIds = ids(SD_LIKE_WORDS, prompt, SD_LIKE_TOKENS);
        // hidden_states.2 of 3 layers = diffusers' hidden_states[-2]
        const a = expectedHidden(first!, tokenIds, 2);
        const b = expectedHidden(second!, tokenIds, 2);
        for (let t = 0; t < 8; t++) expected.push(...a.slice(t * 768, (t + 1) * 768), ...b.slice(t * 1280, (t + 1) * 1280));
      }
      assertClose(result.embeddings, expected, 'embeddings');
      assert.deepEqual(result.pooled?.dims, [2, 1280]);
      const last = expectedHidden(second!, ids(SD_LIKE_WORDS, prompts[1]!, SD_LIKE_TOKENS), 3);
      const pooled = Array.from({ length: 1280 }, (_, c) => Array.from({ length: 8 }, (_, t) => last[t * 1280 + c]!).reduce((s, v) => s + v, 0) / 8);
      assertClose(result.pooled!.data.subarray(1280), pooled, 'pooled');

      const uncond = await encoder.unconditional(2);
      assert.deepEqual(
        [uncond.dims, uncond.pooled?.dims],
        [
          [2, 8, 2048],
          [2, 1280],
        ],
      );
      assert.ok(uncond.embeddings.every((v) => v === 0) && uncond.pooled!.data.every((v) => v === 0));
    } finally {
      await encoder.release();
    }
  });
});

test('float16 data converts both ways', () => {
  const values = Float32Array.from([0, 1, -2.5, 0.1, 65504]);
  const half = floatTensor('float16', values, [5]);
  assert.equal(half.type, 'float16');
  assertClose(float32Data(half, 'x'), [0, 1, -2.5, 0.0999755859375, 65504], 'round trip');
  assert.equal(float32Data(floatTensor('float32', values, [5]), 'x'), values);
  assert.throws(() => float32Data(new ort.Tensor('int64', BigInt64Array.from([1n]), [1]), 'the output'), {
    message: 'the output is int64, expected float32 or float16',
  });
});
