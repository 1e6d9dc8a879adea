import type { PromptSet } from '../prompts/load.ts';
import type { BenchmarkName } from '../prompts/types.ts';
import { DEFAULT_BOOTSTRAP, type BootstrapOptions } from './bootstrap.ts';
import type { ImageDetections } from './detection.ts';
import { GENEVAL_SCORER_VERSION, GENEVAL_SUPPORTED_TAGS, scoreGenEval, type GenEvalImageResult } from './scorers/geneval.ts';
import { scoreT2I, T2I_SCORER_VERSION, type T2IImageResult } from './scorers/t2i-compbench.ts';
import { scoreVisor, VISOR_SCORER_VERSION, type VisorImageResult } from './scorers/visor.ts';
import { DEFAULT_THRESHOLDS, GENEVAL_COUNTING_THRESHOLD } from './thresholds.ts';

export interface ScoreOptions {
  /** detector threshold; the benchmark's own by default (for GenEval it replaces 0.3, counting keeps 0.9) */
  threshold?: number;
  bootstrap?: BootstrapOptions;
}

/** RESULT.json: what `score` and `evaluate` write. Figures: VISOR in percent, T2I and GenEval 0 to 1. */
export interface ScoreResult {
  benchmark: BenchmarkName;
  threshold: number;
  counting_threshold?: number;
  scorer_version: string;
  prompts_scored: number;
  images_scored: number;
  images: (VisorImageResult | T2IImageResult | GenEvalImageResult)[];
  aggregates: Record<string, unknown>;
  intervals: Record<string, unknown>;
  bootstrap: Required<BootstrapOptions> & { unit: 'prompt' };
  unsupported?: Record<string, { images: number; reason: string }>;
  notes: string[];
}

/**
 * The version of each scoring rule, stored with every run it scores, so that results show which rule
 * produced them and a finished run scored under another version is never reused as a current one.
 */
export const SCORER_VERSIONS = { visor: VISOR_SCORER_VERSION, t2i: T2I_SCORER_VERSION, geneval: GENEVAL_SCORER_VERSION } as const satisfies Record<
  PromptSet['scoring'],
  string
>;

/** The benchmark-specific part of a result. */
type ScoredPart = Pick<ScoreResult, 'scorer_version' | 'prompts_scored' | 'images' | 'aggregates' | 'intervals' | 'unsupported' | 'notes'> & {
  counting_threshold?: number;
};

function scoreBySet(set: PromptSet, images: readonly ImageDetections[], threshold: number, bootstrap: BootstrapOptions): ScoredPart {
  switch (set.scoring) {
    case 'visor': {
      const { images_skipped: skipped, ...score } = scoreVisor(set.prompts, images, threshold, bootstrap);
      const notes = skipped > 0 ? [`${skipped} images of prompts with no relation ("and", single object) are not scored, as in VISOR`] : [];
      return { scorer_version: SCORER_VERSIONS.visor, ...score, notes };
    }
    case 't2i':
      return { scorer_version: SCORER_VERSIONS.t2i, ...scoreT2I(set.prompts, images, threshold, bootstrap), notes: [] };
    case 'geneval': {
      const score = scoreGenEval(set.prompts, images, { threshold, counting_threshold: GENEVAL_COUNTING_THRESHOLD }, bootstrap);
      const scoredTags = Object.keys(score.aggregates).filter((key) => key !== 'overall');
      const notes = [
        `overall is the mean over the tags scored here (${scoredTags.join(', ') || 'none'}); this project supports ${GENEVAL_SUPPORTED_TAGS.join(', ')}, so it is not GenEval's six-task overall`,
      ];
      const unsupported = Object.entries(score.unsupported);
      if (unsupported.length > 0) notes.push(`unsupported, not scored: ${unsupported.map(([tag, u]) => `${tag} (${u.images} images)`).join(', ')}`);
      return { scorer_version: SCORER_VERSIONS.geneval, counting_threshold: GENEVAL_COUNTING_THRESHOLD, ...score, notes };
    }
  }
}

/**
 * Scores images of a prompt set by its benchmark's rules. Images may come in any order; results list
 * them in (prompt, image) order, after the aggregates so that a person reading the file sees those first.
 */
export function scoreImages(benchmark: BenchmarkName, set: PromptSet, images: readonly ImageDetections[], options: ScoreOptions = {}): ScoreResult {
  const threshold = options.threshold ?? DEFAULT_THRESHOLDS[benchmark];
  const bootstrap = { ...DEFAULT_BOOTSTRAP, ...options.bootstrap };
  const sorted = [...images].sort((a, b) => a.prompt - b.prompt || a.image - b.image);
  const part = scoreBySet(set, sorted, threshold, bootstrap);
  return {
    benchmark,
    threshold,
    ...(part.counting_threshold !== undefined && { counting_threshold: part.counting_threshold }),
    scorer_version: part.scorer_version,
    prompts_scored: part.prompts_scored,
    images_scored: part.images.length,
    aggregates: part.aggregates,
    intervals: part.intervals,
    bootstrap: { ...bootstrap, unit: 'prompt' },
    ...(part.unsupported && { unsupported: part.unsupported }),
    notes: part.notes,
    images: part.images,
  };
}
