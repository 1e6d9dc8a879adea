/** A colour as red, green, blue in 0..1. */
export type Rgb = readonly [number, number, number];

/**
 * An RGB image with float channels in 0..1, stored row by row, each pixel's three channels together
 * (HWC): channel c of pixel (x, y) is data[(y * width + x) * 3 + c]. x grows rightwards, y downwards.
 */
export interface RgbImage {
  width: number;
  height: number;
  data: Float32Array;
}

export function createRgbImage(width: number, height: number, fill: Rgb = [0, 0, 0]): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`image size must be positive integers, got ${width} x ${height}`);
  }
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = fill[0];
    data[i + 1] = fill[1];
    data[i + 2] = fill[2];
  }
  return { width, height, data };
}

export function cloneRgbImage(image: RgbImage): RgbImage {
  return { width: image.width, height: image.height, data: image.data.slice() };
}

/** The colour of pixel (x, y). */
export function rgbAt(image: RgbImage, x: number, y: number): Rgb {
  const i = (y * image.width + x) * 3;
  return [image.data[i], image.data[i + 1], image.data[i + 2]];
}

/** Clamps every channel into 0..1, in place (noise and gains can push values outside). */
export function clampRgbImage(image: RgbImage): RgbImage {
  const { data } = image;
  for (let i = 0; i < data.length; i++) data[i] = Math.min(1, Math.max(0, data[i]));
  return image;
}
