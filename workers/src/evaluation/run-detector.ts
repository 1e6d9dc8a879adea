import { readPng } from '../image/png.ts';
import type { PromptSet } from '../prompts/load.ts';
import type { ImageDetections } from './detection.ts';
import type { Detector } from './detectors/detector.ts';
import type { GeneratedImage } from './generated-images.ts';
import { t2iDetectorClass } from './scorers/t2i-compbench.ts';

/**
 * The class names the scorer looks for in each prompt's images, which are what the detector is
 * asked for: the prompt's objects (for T2I-CompBench the detector classes that stand for them, e.g.
 * "person" for "girl"), and for GenEval also the classes its exclude clauses count.
 */
export function detectorQueries(set: PromptSet): Map<number, string[]> {
  const queries = new Map<number, string[]>();
  if (set.scoring === 'geneval') {
    for (const p of set.prompts) queries.set(p.id, [...new Set([...p.objects, ...(p.raw.exclude ?? []).map((clause) => clause.class)])]);
  } else if (set.scoring === 't2i') {
    for (const p of set.prompts) queries.set(p.id, [...new Set(p.objects.map(t2iDetectorClass))]);
  } else {
    for (const p of set.prompts) queries.set(p.id, [...new Set(p.objects)]);
  }
  return queries;
}

/**
 * Checks, before any image is read, that a closed-set detector knows every class the prompts with
 * images ask for: scoring them anyway would count each such object as missed.
 */
export function assertDetectorCovers(
  detector: Detector,
  queries: ReadonlyMap<number, string[]>,
  images: readonly GeneratedImage[],
  promptsSource: string,
): void {
  if (!detector.labels) return;
  for (const prompt of new Set(images.map((i) => i.prompt))) {
    const unknown = queries.get(prompt)?.find((name) => !detector.labels!.includes(name));
    if (unknown !== undefined)
      throw new Error(`${promptsSource}: prompt ${prompt} asks for '${unknown}', which is not among the labels of detector ${detector.name}`);
  }
}

/** Runs the detector on every image, one at a time, asking for its prompt's classes; `onProgress` hears after each image. */
export async function detectImages(
  detector: Detector,
  images: readonly GeneratedImage[],
  queries: ReadonlyMap<number, string[]>,
  onProgress: (done: number, total: number) => void = () => {},
  signal?: AbortSignal,
): Promise<ImageDetections[]> {
  const results: ImageDetections[] = [];
  for (const file of images) {
    signal?.throwIfAborted();
    const image = readPng(file.path);
    const detections = await detector.detect(image, queries.get(file.prompt) ?? []).catch((err: unknown) => {
      throw new Error(`${file.path}: ${err instanceof Error ? err.message : String(err)}`);
    });
    results.push({ prompt: file.prompt, image: file.image, width: image.width, height: image.height, detections });
    onProgress(results.length, images.length);
  }
  return results;
}

/** The detections as a JSON Lines file that `score --detections` reads back. */
export function formatDetectionsFile(images: readonly ImageDetections[]): string {
  return images.map((i) => JSON.stringify({ prompt: i.prompt, image: i.image, width: i.width, height: i.height, detections: i.detections })).join('\n') + '\n';
}
