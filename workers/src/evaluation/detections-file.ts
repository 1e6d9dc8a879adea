import { z } from 'zod';
import { readJsonLines } from '../util/read-data-file.ts';
import type { ImageDetections } from './detection.ts';

// JSON.parse turns 1e999 into Infinity, so "a number" is not enough.
const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });

const boxSchema = z.tuple([finite, finite, finite, finite]).superRefine(([x0, y0, x1, y1], ctx) => {
  if (x1 < x0) ctx.addIssue({ code: 'custom', message: `x1 (${x1}) < x0 (${x0}); boxes are [x0, y0, x1, y1]` });
  if (y1 < y0) ctx.addIssue({ code: 'custom', message: `y1 (${y1}) < y0 (${y0}); boxes are [x0, y0, x1, y1]` });
});

const detectionSchema = z.object({
  label: z.string().min(1),
  score: z.number().min(0).max(1),
  box: boxSchema,
});

/** One line of a detections file: `{"prompt": ID, "image": K, "width": W, "height": H, "detections": [...]}`. */
export const imageDetectionsSchema = z.object({
  prompt: z.number().int().nonnegative(),
  image: z.number().int().nonnegative(),
  width: z.number().positive(),
  height: z.number().positive(),
  detections: z.array(detectionSchema),
});

/**
 * Reads a detections JSONL file. Every line must be well-formed, name a prompt of the prompt set and
 * be the only line for its (prompt, image); errors name the file and line.
 */
export function readDetectionsFile(path: string, promptIds: ReadonlySet<number>, promptsSource: string): ImageDetections[] {
  const firstLineOf = new Map<string, number>();
  return readJsonLines(path, imageDetectionsSchema).map(({ lineNumber, value }) => {
    if (!promptIds.has(value.prompt)) throw new Error(`${path}:${lineNumber}: prompt ${value.prompt} is not in ${promptsSource}`);
    const key = `${value.prompt}_${value.image}`;
    const earlier = firstLineOf.get(key);
    if (earlier !== undefined) throw new Error(`${path}:${lineNumber}: prompt ${value.prompt} image ${value.image} was already given on line ${earlier}`);
    firstLineOf.set(key, lineNumber);
    return value;
  });
}
