import type { Box } from '../evaluation/detection.ts';

/** The tightest box (pixel corners) around the given pixels, each given as its index y * width + x. */
export function boxAroundPixels(pixels: readonly number[], width: number): Box {
  if (pixels.length === 0) throw new Error('boxAroundPixels: no pixels');
  const box: Box = [Infinity, Infinity, -Infinity, -Infinity];
  for (const p of pixels) {
    const x = p % width;
    const y = (p - x) / width;
    box[0] = Math.min(box[0], x);
    box[1] = Math.min(box[1], y);
    box[2] = Math.max(box[2], x + 1);
    box[3] = Math.max(box[3], y + 1);
  }
  return box;
}
