import type { Box, Detection, ImageDetections } from '../../../src/evaluation/detection.ts';

/** A box of size w x h centred on (cx, cy). */
export function centred(cx: number, cy: number, w = 10, h = 10): Box {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

export function det(label: string, score: number, box: Box): Detection {
  return { label, score, box };
}

export function image(prompt: number, k: number, detections: Detection[], [width, height] = [512, 512]): ImageDetections {
  return { prompt, image: k, width, height, detections };
}
