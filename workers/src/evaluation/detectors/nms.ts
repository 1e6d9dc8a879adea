import { boxIou } from '../box.ts';
import type { Box } from '../detection.ts';

export interface Candidate {
  score: number;
  box: Box;
  /** boxes only suppress boxes of the same class */
  classIndex: number;
}

/**
 * Greedy class-aware non-maximum suppression, as torchvision's batched_nms: highest score first, a
 * box is dropped when its IoU with a kept box of its class is above `iouThreshold`. Returns at most
 * `maxDetections`, highest score first.
 */
export function nonMaxSuppression<C extends Candidate>(candidates: readonly C[], iouThreshold: number, maxDetections = Infinity): C[] {
  const kept: C[] = [];
  for (const candidate of [...candidates].sort((a, b) => b.score - a.score)) {
    if (kept.length >= maxDetections) break;
    if (kept.some((k) => k.classIndex === candidate.classIndex && boxIou(k.box, candidate.box) > iouThreshold)) continue;
    kept.push(candidate);
  }
  return kept;
}
