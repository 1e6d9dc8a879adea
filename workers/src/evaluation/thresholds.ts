import type { BenchmarkName } from '../prompts/types.ts';

/** Each benchmark's own detector threshold (docs/benchmarks.md §4), always applied as `score > threshold`. */
export const DEFAULT_THRESHOLDS: Record<BenchmarkName, number> = {
  visor: 0.1,
  'visor-shapes': 0.1,
  // UniDet's unified_roi_heads.py passes a literal 0.1; the 0.5 its configuration names is never read.
  t2i: 0.1,
  geneval: 0.3,
};

/** GenEval judges its counting tag with a stricter threshold of its own. */
export const GENEVAL_COUNTING_THRESHOLD = 0.9;

/**
 * The lowest threshold the scorer will apply, below which a detector need not report boxes:
 * GenEval's counting tag uses its own, possibly stricter, threshold.
 */
export function reportingThreshold(benchmark: BenchmarkName, threshold: number): number {
  return benchmark === 'geneval' ? Math.min(threshold, GENEVAL_COUNTING_THRESHOLD) : threshold;
}
