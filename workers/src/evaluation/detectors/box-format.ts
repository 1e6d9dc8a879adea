import type { Box } from '../detection.ts';

/** A centre-size box (cx, cy, w, h) to corners, each coordinate multiplied by the axis's scale (image size for [0, 1] boxes). */
export function centreSizeToCorners(cx: number, cy: number, w: number, h: number, scaleX = 1, scaleY = 1): Box {
  return [(cx - w / 2) * scaleX, (cy - h / 2) * scaleY, (cx + w / 2) * scaleX, (cy + h / 2) * scaleY];
}
