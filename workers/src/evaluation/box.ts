import type { Box } from './detection.ts';

export function boxCentre(box: Box): [x: number, y: number] {
  return [centreX(box), centreY(box)];
}

// Scalar forms, for hot loops that compare many boxes without allocating.
export const centreX = (box: Box): number => (box[0] + box[2]) / 2;
export const centreY = (box: Box): number => (box[1] + box[3]) / 2;

export function boxSize(box: Box): [width: number, height: number] {
  return [box[2] - box[0], box[3] - box[1]];
}

/** Intersection over union; 0 when both boxes are degenerate (no area), where the ratio is undefined. */
export function boxIou(a: Box, b: Box): number {
  const overlapX = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const overlapY = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const intersection = overlapX * overlapY;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - intersection;
  return union > 0 ? intersection / union : 0;
}
