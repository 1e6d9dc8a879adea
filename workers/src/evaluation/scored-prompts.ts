/** Which of a run's prompts the benchmark scores. */
import { scoreImages } from './score.ts';
import type { PromptSet } from '../prompts/load.ts';
import type { BenchmarkName } from '../prompts/types.ts';

/**
 * The ids of the prompts whose images the benchmark scores. VISOR leaves out prompts that state no
 * relation and GenEval the tags it cannot judge; a run neither generates nor evaluates those, so that
 * every image of a run gets a score row and "all images scored" is a count. The scorer itself is asked
 * (one imageless probe per prompt) rather than its rules being restated here.
 */
export function scoredPromptIds(benchmark: BenchmarkName, set: PromptSet): Set<number> {
  const probe = set.prompts.map((p) => ({ prompt: p.id, image: 0, width: 1, height: 1, detections: [] }));
  const result = scoreImages(benchmark, set, probe, { bootstrap: { resamples: 1 } });
  return new Set(result.images.map((image) => image.prompt));
}
