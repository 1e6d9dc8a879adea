import { z } from 'zod';
import { readJsonLines } from '../util/read-data-file.ts';
import type { ImageDetections } from './detection.ts';

// zod's number() rejects Infinity, which JSON.parse makes of 1e999, and NaN.
const boxSchema = z.tuple([z.number(), z.number(), z.number(), z.number()]).superRefine(([x0, y0, x1, y1], ctx) => {
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
  return readJsonLines(path, imageDetectionsSchema, (image, lineNumber) => {
    if (!promptIds.has(image.prompt)) throw new Error(`prompt ${image.prompt} is not in ${promptsSource}`);
    const key = `${image.prompt}_${image.image}`;
    const earlier = firstLineOf.get(key);
    if (earlier !== undefined) throw new Error(`prompt ${image.prompt} image ${image.image} was already given on line ${earlier}`);
    firstLineOf.set(key, lineNumber);
    return image;
  });
}
