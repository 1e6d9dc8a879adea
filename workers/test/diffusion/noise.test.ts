import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { noiseStream } from '../../src/diffusion/noise.ts';

describe('noiseStream', () => {
  test('the same (seed, image index) gives the same numbers; another index or seed gives others', () => {
    const draw = (seed: number, index: number) => Array.from(noiseStream(seed, index).normal(64));
    assert.deepEqual(draw(42, 3), draw(42, 3));
    assert.notDeepEqual(draw(42, 3), draw(42, 4));
    assert.notDeepEqual(draw(42, 0), draw(43, 0));
  });

  test('is pinned: changing these numbers would change every image generated from a seed', () => {
    assert.deepEqual(Array.from(noiseStream(42, 0).normal(3)), [1.0271775722503662, 1.0517370700836182, 0.19312959909439087]);
    assert.deepEqual(Array.from(noiseStream(42, 1).normal(3)), [-0.5369675159454346, -1.3587205410003662, 0.09210558980703354]);
  });

  test('successive draws continue one stream: the latent, then each step, in order', () => {
    const stream = noiseStream(7, 2);
    const pieces = [...stream.normal(3), ...stream.normal(5), ...stream.normal(1)];
    assert.deepEqual(pieces, Array.from(noiseStream(7, 2).normal(9)));
  });

  test("an image's noise does not depend on the batch it is drawn in", () => {
    // A batch of three, drawing latent then two steps' noise image by image, against image 1 alone.
    const batch = [0, 1, 2].map((k) => noiseStream(42, k));
    const drawn: number[][] = [[], [], []];
    for (const count of [16, 16, 16]) batch.forEach((stream, k) => drawn[k].push(...stream.normal(count)));
    const alone = noiseStream(42, 1);
    assert.deepEqual(drawn[1], [...alone.normal(16), ...alone.normal(16), ...alone.normal(16)]);
  });

  test('samples are standard normal, within one stream and across streams', () => {
    const moments = (values: Float32Array) => {
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
      return { mean, variance };
    };
    const one = moments(noiseStream(42, 0).normal(100_000));
    assert.ok(Math.abs(one.mean) < 0.015 && Math.abs(one.variance - 1) < 0.015, JSON.stringify(one));
    // The first values of a thousand streams (stream k costs k jumps, so not more).
    const starts = new Float32Array(16_000);
    for (let k = 0; k < 1000; k++) starts.set(noiseStream(1, k).normal(16), 16 * k);
    const across = moments(starts);
    assert.ok(Math.abs(across.mean) < 0.04 && Math.abs(across.variance - 1) < 0.05, JSON.stringify(across));
  });

  test('rejects seeds outside [0, 2^32) and bad image indices', () => {
    assert.throws(() => noiseStream(2 ** 32, 0), /seed must be an integer in \[0, 2\^32\)/);
    assert.throws(() => noiseStream(-1, 0), /seed/);
    assert.throws(() => noiseStream(1.5, 0), /seed/);
    assert.throws(() => noiseStream(42, -1), /image index/);
  });
});
