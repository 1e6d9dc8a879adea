import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePng, encodePng, readPng, writePng } from '../../src/image/png.ts';
import { createRgbImage, rgbAt } from '../../src/image/rgb-image.ts';

describe('png', () => {
  test('round-trips an image to within one 8-bit level', () => {
    const image = createRgbImage(5, 3, [0.5, 0.25, 1]);
    image.data.set([0, 0.1, 1.3], (2 * 5 + 4) * 3); // out-of-range values are clamped
    const back = decodePng(encodePng(image));
    assert.equal(back.width, 5);
    assert.equal(back.height, 3);
    assert.deepEqual(
      rgbAt(back, 4, 2).map((v) => Math.round(v * 255)),
      [0, 26, 255],
    );
    for (let i = 0; i < image.data.length; i++) assert.ok(Math.abs(back.data[i] - Math.min(1, image.data[i])) <= 1 / 510 + 1e-7);
  });

  test('reads and writes files, and names the file in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'png-test-'));
    try {
      const path = join(dir, 'a.png');
      writePng(path, createRgbImage(2, 2, [1, 0, 0]));
      assert.deepEqual(rgbAt(readPng(path), 1, 1), [1, 0, 0]);
      const bad = join(dir, 'bad.png');
      writeFileSync(bad, 'not a png');
      assert.throws(
        () => readPng(bad),
        (err: Error) => err.message.startsWith(`${bad}: not a readable PNG`),
      );
      assert.throws(() => readPng(join(dir, 'missing.png')), /missing\.png: cannot read the image/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
