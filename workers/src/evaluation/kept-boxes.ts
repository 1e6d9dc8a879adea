import type { Detection } from './detection.ts';

/**
 * The detections of one class that pass the threshold (strictly: `score > threshold`), highest
 * score first; ties keep the detector's order.
 */
export function keptBoxes(detections: readonly Detection[], label: string, threshold: number): Detection[] {
  return detections.filter((d) => d.label === label && d.score > threshold).sort((a, b) => b.score - a.score);
}
