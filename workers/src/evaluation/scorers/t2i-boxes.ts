/**
 * Which detector boxes T2I-CompBench's official evaluation scores, and in what frame
 * (docs/benchmarks.md §2). UniDet runs on the image resized by torchvision's
 * Resize(size=479, max_size=480) and reports boxes in that frame; detectron2 keeps boxes scoring
 * above the threshold (a literal 0.1 in unified_roi_heads.py), the 100 highest-scoring of them
 * (topk_per_image), best first; spatial_eval.py then maps each class name to its index box by box,
 * so the class's LAST box in that order is the one it uses.
 */
import type { Box, Detection, ImageDetections } from '../detection.ts';

/** torchvision Resize(size=479, max_size=480): the short side's target, and the cap on the long side. */
export const FRAME_SHORT_SIDE = 479;
export const FRAME_MAX_SIDE = 480;
/** detectron2's topk_per_image in UniDet's configuration. */
export const MAX_BOXES_PER_IMAGE = 100;

/** [width, height] of a width x height image after Resize(size=479, max_size=480), with torchvision's integer truncations. */
export function officialFrame(width: number, height: number): [width: number, height: number] {
  const [short, long] = width <= height ? [width, height] : [height, width];
  let newShort = FRAME_SHORT_SIDE;
  let newLong = Math.trunc((FRAME_SHORT_SIDE * long) / short);
  if (newLong > FRAME_MAX_SIDE) {
    newShort = Math.trunc((FRAME_MAX_SIDE * newShort) / newLong);
    newLong = FRAME_MAX_SIDE;
  }
  return width <= height ? [newShort, newLong] : [newLong, newShort];
}

export interface T2IBoxes {
  /** the frame the boxes are measured in, [width, height] */
  frame: [width: number, height: number];
  /** per detector label, the box the official script uses (the lowest-scoring one kept), in the frame */
  used: Map<string, Detection>;
  /** per detector label, how many of its boxes are kept (above the threshold and among the 100 highest) */
  kept: Map<string, number>;
  /** labels with boxes above the threshold none of which is among the 100 highest-scoring */
  crowdedOut: Set<string>;
}

/** The boxes of one image as the official evaluation sees them, `threshold` applied as `score > threshold`. */
export function t2iBoxes(image: ImageDetections, threshold: number): T2IBoxes {
  const frame = officialFrame(image.width, image.height);
  const [sx, sy] = [frame[0] / image.width, frame[1] / image.height];
  // Array.prototype.sort is stable: boxes of equal score keep the detector's order.
  const ranked = image.detections.filter((d) => d.score > threshold).sort((a, b) => b.score - a.score);
  const used = new Map<string, Detection>();
  const kept = new Map<string, number>();
  for (const d of ranked.slice(0, MAX_BOXES_PER_IMAGE)) {
    const box: Box = [d.box[0] * sx, d.box[1] * sy, d.box[2] * sx, d.box[3] * sy];
    used.set(d.label, { label: d.label, score: d.score, box });
    kept.set(d.label, (kept.get(d.label) ?? 0) + 1);
  }
  const crowdedOut = new Set(
    ranked
      .slice(MAX_BOXES_PER_IMAGE)
      .map((d) => d.label)
      .filter((label) => !used.has(label)),
  );
  return { frame, used, kept, crowdedOut };
}
