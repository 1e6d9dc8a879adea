import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { RgbImage } from './rgb-image.ts';

/**
 * Encodes as an 8-bit RGB PNG (no alpha). Channels are clamped to 0..1 and rounded to the nearest
 * of the 256 levels, so decodePng(encodePng(image)) is within 1/510 of the image.
 */
export function encodePng(image: RgbImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  const pixels = image.width * image.height;
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) png.data[p * 4 + c] = Math.round(Math.min(1, Math.max(0, image.data[p * 3 + c])) * 255);
    png.data[p * 4 + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: 2 });
}

/**
 * Decodes any PNG (grey, palette, RGB, with or without alpha, 8 or 16 bits; pngjs brings them all to
 * 8-bit RGBA). Alpha is ignored: generated images are opaque, and there is no right backdrop to
 * composite a transparent one over. `source` names the bytes' origin in error messages.
 */
export function decodePng(bytes: Uint8Array, source = 'PNG data'): RgbImage {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new Error(`${source}: not a readable PNG (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const pixels = png.width * png.height;
  const data = new Float32Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) data[p * 3 + c] = png.data[p * 4 + c] / 255;
  }
  return { width: png.width, height: png.height, data };
}

export function readPng(path: string): RgbImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`${path}: cannot read the image (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  return decodePng(bytes, path);
}

export function writePng(path: string, image: RgbImage): void {
  writeFileAtomic(path, encodePng(image));
}
