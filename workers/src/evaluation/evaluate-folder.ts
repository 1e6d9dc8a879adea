import type { PromptSet } from '../prompts/load.ts';
import type { BenchmarkName } from '../prompts/types.ts';
import type { ImageDetections } from './detection.ts';
import { createDetector } from './detectors/detector.ts';
import { listGeneratedImages } from './generated-images.ts';
import { assertDetectorCovers, detectImages, detectorQueries } from './run-detector.ts';
import { scoreImages, type ScoreResult } from './score.ts';
import { reportingThreshold } from './thresholds.ts';

export interface FolderEvaluation {
  scored: ScoreResult;
  detections: ImageDetections[];
  detector: string;
}

/**
 * A detector over a folder of {ID}_{K}.png images, then the benchmark's scoring: what `evaluate`
 * prints and `experiment` tabulates. Reads and checks everything before detecting, writes nothing.
 */
export async function evaluateImageFolder(options: {
  benchmark: BenchmarkName;
  set: PromptSet;
  promptsSource: string;
  imagesDir: string;
  detectorSpec: string;
  threshold: number;
  onProgress?: (done: number, total: number) => void;
}): Promise<FolderEvaluation> {
  const { benchmark, set, threshold } = options;
  const images = listGeneratedImages(options.imagesDir, new Set(set.prompts.map((p) => p.id)), options.promptsSource);
  const queries = detectorQueries(set);
  const detector = await createDetector(options.detectorSpec, { threshold: reportingThreshold(benchmark, threshold) });
  assertDetectorCovers(detector, queries, images, options.promptsSource);
  const detections = await detectImages(detector, images, queries, options.onProgress);
  return { scored: scoreImages(benchmark, set, detections, { threshold }), detections, detector: detector.name };
}
