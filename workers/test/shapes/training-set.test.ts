import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRgbImage } from '../../src/image/rgb-image.ts';
import { detectShapes } from '../../src/shapes/detector.ts';
import { BUNDLED_MAX_TOKENS, writeTrainingSet } from '../../src/shapes/training-set.ts';
import { SHAPES_WORLD } from '../../src/shapes/world.ts';
import { loadTokenizer } from '../../src/text/tokenizer.ts';

describe('the bundled model training set', () => {
  test("images, token ids and metadata agree: each image shows the recorded objects at their boxes, each id row the tokenizer's encoding of its caption", () => {
    const dir = mkdtempSync(join(tmpdir(), 'training-set-'));
    writeTrainingSet(dir, { count: 40, seed: 9 });
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
    const images = readFileSync(join(dir, 'images.u8'));
    const tokens = new Int32Array(new Uint8Array(readFileSync(join(dir, 'tokens.i32'))).buffer);
    const side = SHAPES_WORLD.imageSize;
    assert.deepEqual([meta.count, meta.side, meta.maxLength, meta.seed], [40, side, BUNDLED_MAX_TOKENS, 9]);
    assert.equal(images.length, 40 * side * side * 3);
    assert.equal(tokens.length, 40 * BUNDLED_MAX_TOKENS);
    const tokenizer = loadTokenizer(join(dir, 'tokenizer'));
    for (let i = 0; i < 40; i++) {
      assert.deepEqual(
        [...tokens.subarray(i * BUNDLED_MAX_TOKENS, (i + 1) * BUNDLED_MAX_TOKENS)],
        tokenizer.encode(meta.captions[i], { length: BUNDLED_MAX_TOKENS }).ids,
      );
      // The detector, reading the stored bytes, finds exactly the recorded objects, at their recorded
      // boxes give or take the antialiased edge pixel it may leave out.
      const bytes = images.subarray(i * side * side * 3, (i + 1) * side * side * 3);
      const image = createRgbImage(side, side);
      bytes.forEach((v, k) => (image.data[k] = v / 255));
      const found = detectShapes(image);
      const recorded = meta.scenes[i] as { label: string; box: number[] }[];
      assert.deepEqual(found.map((d) => d.label).sort(), recorded.map((o) => o.label).sort(), `scene ${i}`);
      for (const object of recorded) {
        const box = found.find((d) => d.label === object.label)!.box;
        assert.ok(
          box.every((v, k) => Math.abs(v - object.box[k]!) <= 1),
          `scene ${i} ${object.label}: detected ${box}, recorded ${object.box}`,
        );
      }
    }
    const again = mkdtempSync(join(tmpdir(), 'training-set-'));
    writeTrainingSet(again, { count: 40, seed: 9 });
    assert.ok(readFileSync(join(again, 'images.u8')).equals(images), 'the same seed gives the same data');
  });
});
