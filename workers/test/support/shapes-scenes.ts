/** Hand-placed Shapes scenes over an apple and a box, shared by the evaluate CLI and job tests. */
import type { LabelledBox } from '../../src/shapes/render.ts';

export const APPLE_LEFT: LabelledBox[] = [
  { label: 'apple', box: [2, 10, 12, 20] },
  { label: 'box', box: [20, 10, 30, 20] },
];
export const APPLE_RIGHT: LabelledBox[] = [
  { label: 'box', box: [2, 10, 12, 20] },
  { label: 'apple', box: [20, 10, 30, 20] },
];
export const APPLE_ONLY: LabelledBox[] = [{ label: 'apple', box: [10, 10, 20, 20] }];
