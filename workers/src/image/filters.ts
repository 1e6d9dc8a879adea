import type { RgbImage } from './rgb-image.ts';

/**
 * The 3 x 3 box blur (every pixel becomes the mean of itself and its eight neighbours), with the
 * image's edge pixels repeated outside it so that borders keep their colour. Separable: one
 * horizontal and one vertical pass of three taps.
 */
export function boxBlur3x3(image: RgbImage): RgbImage {
  const horizontal = blurAlong(image, 1, 0);
  return blurAlong(horizontal, 0, 1);
}

function blurAlong(image: RgbImage, dx: number, dy: number): RgbImage {
  const { width, height, data } = image;
  const out = new Float32Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const before = (Math.max(0, y - dy) * width + Math.max(0, x - dx)) * 3;
      const here = (y * width + x) * 3;
      const after = (Math.min(height - 1, y + dy) * width + Math.min(width - 1, x + dx)) * 3;
      for (let c = 0; c < 3; c++) out[here + c] = (data[before + c] + data[here + c] + data[after + c]) / 3;
    }
  }
  return { width, height, data: out };
}
