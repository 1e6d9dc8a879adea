import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RESAMPLE_FILTERS, resizeLikePil, type ResampleFilter, type Rgb8Image } from '../../../src/evaluation/detectors/pil-resize.ts';

/** The patterned test image the Pillow values below were made from: channel c of (x, y) = (37x + 91y + 53c + 11xy) mod 256. */
function pattern(width: number, height: number): Rgb8Image {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = (x * 37 + y * 91 + c * 53 + x * y * 11) % 256;
  return { width, height, data };
}

/*
 * Pillow 12.3's output for the same resizes, from
 *   np.array(Image.fromarray(pattern).resize((W, H), resample=Image.BICUBIC or Image.BILINEAR, reducing_gap=None)).flatten()
 */
const PILLOW: Array<{ from: [number, number]; to: [number, number]; filter: ResampleFilter; pixels: number[] }> = [
  {
    from: [6, 4],
    to: [5, 7],
    filter: 'bicubic',
    pixels: [
      0, 50, 102, 39, 90, 151, 82, 147, 211, 142, 202, 255, 191, 243, 62, 28, 83, 148, 78, 143, 164, 140, 143, 147, 122, 143, 213, 138, 203, 107, 89, 143, 214,
      147, 221, 180, 225, 137, 48, 93, 53, 126, 60, 130, 175, 165, 190, 125, 177, 134, 144, 142, 132, 121, 119, 129, 86, 137, 73, 111, 195, 199, 37, 176, 47,
      107, 61, 126, 191, 145, 204, 76, 214, 53, 56, 82, 118, 104, 129, 130, 123, 156, 120, 83, 116, 109, 110, 135, 121, 157, 11, 68, 150, 101, 185, 135, 219,
      116, 14, 98, 47, 131, 82, 164, 221,
    ],
  },
  {
    from: [9, 7],
    to: [4, 3],
    filter: 'bicubic',
    pixels: [
      102, 132, 147, 135, 138, 146, 133, 133, 129, 115, 109, 118, 122, 146, 116, 127, 121, 107, 113, 129, 119, 155, 131, 126, 115, 154, 145, 139, 117, 135, 119,
      138, 156, 161, 127, 115,
    ],
  },
  {
    from: [5, 5],
    to: [8, 3],
    filter: 'bilinear',
    pixels: [
      39, 92, 145, 57, 110, 163, 83, 136, 182, 109, 162, 140, 136, 154, 132, 162, 112, 158, 126, 131, 184, 96, 149, 202, 125, 178, 89, 151, 142, 115, 179, 99,
      145, 127, 136, 110, 119, 137, 111, 156, 102, 148, 129, 132, 105, 105, 158, 69, 69, 122, 175, 102, 155, 144, 141, 194, 103, 97, 150, 82, 99, 118, 95, 147,
      97, 143, 133, 138, 109, 118, 171, 78,
    ],
  },
];

/**
 * An independent, floating-point reading of the same resampling: each output sample is the
 * normalised kernel-weighted mean of the input samples under a kernel widened by the shrink factor,
 * x first, then y; between the passes values are clamped to 0..255 (a cubic overshoots at sharp
 * edges, and the 8-bit intermediate cannot hold that) but not rounded.
 */
function floatResize(image: Rgb8Image, width: number, height: number, filter: ResampleFilter): Float64Array {
  const f = RESAMPLE_FILTERS[filter];
  const weights = (inSize: number, outSize: number, out: number) => {
    const scale = inSize / outSize;
    const stretch = Math.max(1, scale);
    const centre = (out + 0.5) * scale;
    const w = Array.from({ length: inSize }, (_, i) => f.weight((i + 0.5 - centre) / stretch));
    const total = w.reduce((a, b) => a + b, 0);
    return w.map((v) => v / total);
  };
  const clamp = (v: number) => Math.min(255, Math.max(0, v));
  const rows = new Float64Array(width * image.height * 3);
  for (let x = 0; x < width; x++) {
    const wx = weights(image.width, width, x);
    for (let y = 0; y < image.height; y++) {
      for (let c = 0; c < 3; c++) rows[(y * width + x) * 3 + c] = clamp(wx.reduce((sum, w, i) => sum + w * image.data[(y * image.width + i) * 3 + c], 0));
    }
  }
  const out = new Float64Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const wy = weights(image.height, height, y);
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = clamp(wy.reduce((sum, w, j) => sum + w * rows[(j * width + x) * 3 + c], 0));
    }
  }
  return out;
}

describe('resizeLikePil', () => {
  for (const { from, to, filter, pixels } of PILLOW) {
    test(`${filter} ${from.join('x')} -> ${to.join('x')} matches Pillow value for value`, () => {
      assert.deepEqual(Array.from(resizeLikePil(pattern(...from), ...to, filter).data), pixels);
    });
  }

  for (const filter of ['bicubic', 'bilinear'] as const) {
    test(`${filter} stays within rounding of a floating-point reference, enlarging and shrinking`, () => {
      const cases: Array<[from: [number, number], to: [number, number]]> = [
        [
          [7, 5],
          [16, 11],
        ],
        [
          [23, 17],
          [6, 9],
        ],
      ];
      for (const [from, to] of cases) {
        const image = pattern(...from);
        const exact = floatResize(image, to[0], to[1], filter);
        const fixed = resizeLikePil(image, to[0], to[1], filter).data;
        // The 8-bit intermediate's rounding (half a level), carried through the second pass, plus the final rounding.
        for (let i = 0; i < exact.length; i++)
          assert.ok(Math.abs(fixed[i] - exact[i]) <= 1.5, `${from} -> ${to} sample ${i}: ${fixed[i]} vs ${exact[i].toFixed(3)}`);
      }
    });
  }

  test('keeps a uniform image uniform and leaves an axis of unchanged size alone', () => {
    const flat = { width: 5, height: 3, data: new Uint8Array(45).fill(200) };
    assert.ok(resizeLikePil(flat, 768, 768, 'bicubic').data.every((v) => v === 200));
    const image = pattern(4, 6);
    assert.deepEqual(resizeLikePil(image, 4, 6, 'bicubic'), image);
  });

  test('rejects a size that is not a positive integer', () => {
    assert.throws(() => resizeLikePil(pattern(2, 2), 0, 3, 'bilinear'), { message: 'resize target must be positive integers, got 0 x 3' });
  });
});
