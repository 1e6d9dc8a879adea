/**
 * Every benchmark's metrics, declared once: what each means and how it reads (the seed stores these as
 * the catalogue's metric definitions), which one the benchmark is judged by (its primary metric: the
 * leaderboard's default sort, its delta column and the sweep's metric), and how two runs are compared
 * on each: per prompt, the tallies a metric is a function of (the scorers' own, so that a paired test
 * computes exactly the figure the run reports), and, for the metrics that are a rate of a per-image
 * outcome, that outcome, on which two runs' images can be paired one to one (McNemar).
 */
import type { BenchmarkName } from '../prompts/types.ts';
import type { Statistic } from './bootstrap.ts';
import { GENEVAL_SUPPORTED_TAGS, GENEVAL_TALLY_WIDTH, genevalStatistics, genevalTallies } from './scorers/geneval.ts';
import { T2I_STATISTICS, T2I_TALLY_WIDTH, t2iTallies } from './scorers/t2i-compbench.ts';
import { VISOR_STATISTICS, VISOR_TALLY_WIDTH, visorTallies } from './scorers/visor.ts';

export type ScoringRules = 'visor' | 't2i' | 'geneval';

/** `%`: 0 to 100, shown with one decimal; `fraction`: 0 to 1, shown with three. */
export type MetricUnit = '%' | 'fraction';

export interface MetricSpec {
  key: string;
  label: string;
  description: string;
  unit: MetricUnit;
  higherIsBetter: boolean;
  /** undefined (shown as n/a) for runs with fewer images per prompt: VISOR_n needs n */
  minImagesPerPrompt?: number;
}

export interface BenchmarkMetrics {
  scoring: ScoringRules;
  /** the key of the metric the benchmark is judged by */
  primary: string;
  /** in display order */
  metrics: readonly MetricSpec[];
}

const visorPercent = (key: string, label: string, description: string, minImagesPerPrompt?: number): MetricSpec => ({
  key,
  label,
  description,
  unit: '%',
  higherIsBetter: true,
  ...(minImagesPerPrompt !== undefined && { minImagesPerPrompt }),
});

/** docs/benchmarks.md §1: every figure over spatial prompts only ("and" and single-object prompts are not scored). */
const VISOR_METRICS: readonly MetricSpec[] = [
  visorPercent('OA', 'Object accuracy', 'Images in which both objects are detected, in percent of all images.'),
  visorPercent('OA_A', 'Object accuracy (A)', 'Images in which the first object (A) is detected, in percent.'),
  visorPercent('OA_B', 'Object accuracy (B)', 'Images in which the second object (B) is detected, in percent.'),
  visorPercent(
    'VISOR_cond',
    'VISOR (conditional)',
    "Of the images in which both objects are detected, those whose boxes stand in the prompt's relation, in percent; undefined when no image holds both.",
  ),
  visorPercent(
    'VISOR_uncond',
    'VISOR (unconditional)',
    "Images with both objects detected in the prompt's relation, in percent of all images (VISOR_cond × OA / 100).",
  ),
  visorPercent('VISOR_1', 'VISOR_1', 'Prompts with at least one of their images correct, in percent of prompts.', 1),
  ...[2, 3, 4].map((n) =>
    visorPercent(
      `VISOR_${n}`,
      `VISOR_${n}`,
      `Prompts with at least ${n} of their images correct, in percent of prompts; undefined with fewer than ${n} images per prompt.`,
      n,
    ),
  ),
];

const fraction = (key: string, label: string, description: string): MetricSpec => ({ key, label, description, unit: 'fraction', higherIsBetter: true });

export const BENCHMARK_METRICS: Record<BenchmarkName, BenchmarkMetrics> = {
  visor: { scoring: 'visor', primary: 'VISOR_cond', metrics: VISOR_METRICS },
  'visor-shapes': { scoring: 'visor', primary: 'VISOR_cond', metrics: VISOR_METRICS },
  t2i: {
    scoring: 't2i',
    primary: 'spatial',
    metrics: [
      fraction(
        'spatial',
        'Spatial score',
        'T2I-CompBench 2D spatial: the mean image score (detection confidences plus position; image scores below 0.5 count as 0), 0 to 1.',
      ),
    ],
  },
  geneval: {
    scoring: 'geneval',
    primary: 'position',
    metrics: [
      fraction('position', 'Position', "Images with both objects found in the prompt's relation, as a fraction of the position prompts' images."),
      fraction('single_object', 'Single object', 'Images in which the one object is found, as a fraction.'),
      fraction('two_object', 'Two objects', 'Images in which both objects are found, as a fraction.'),
      fraction('counting', 'Counting', 'Images with exactly the asked number of objects (threshold 0.9), as a fraction.'),
      fraction('overall', 'Overall', "Mean over the tags scored; the colour tags are unsupported, so this is not GenEval's six-task overall."),
    ],
  },
};

/**
 * The fields of a scored image that the tallies read, whatever the benchmark: correct, the image score,
 * and the benchmark's details (contracts/jobs.ts ImageScore: VISOR a_detected and b_detected, GenEval tag).
 */
export interface ScoredImage {
  correct: boolean;
  score: number;
  aDetected: boolean;
  bDetected: boolean;
  tag: string | null;
}

/** How a benchmark's per-image results make its metrics, for comparing two runs. */
export interface TallyRules {
  width: number;
  /** one prompt's tallies from its images */
  tally(images: readonly ScoredImage[]): Float64Array;
  /** each metric as a function of the tallies' sums over prompts */
  statistics: Record<string, Statistic>;
  /**
   * For a metric that is the rate of a per-image outcome: that outcome, or null for an image outside
   * the rate's denominator. Only these metrics may be compared image by image (McNemar).
   */
  imageOutcomes: Partial<Record<string, (image: ScoredImage) => boolean | null>>;
  /** the stratum a prompt's rows are resampled within (GenEval's tags), from one of its images */
  stratum?: (image: ScoredImage) => string;
}

export const TALLY_RULES: Record<ScoringRules, TallyRules> = {
  visor: {
    width: VISOR_TALLY_WIDTH,
    tally: (images) => visorTallies(images.map((i) => ({ a_detected: i.aDetected, b_detected: i.bDetected, correct: i.correct }))),
    statistics: VISOR_STATISTICS,
    imageOutcomes: {
      OA: (i) => i.aDetected && i.bDetected,
      OA_A: (i) => i.aDetected,
      OA_B: (i) => i.bDetected,
      // correct images over all images: VISOR_cond × OA / 100
      VISOR_uncond: (i) => i.correct,
    },
  },
  t2i: {
    width: T2I_TALLY_WIDTH,
    tally: (images) => t2iTallies(images),
    statistics: T2I_STATISTICS,
    imageOutcomes: {},
  },
  geneval: {
    width: GENEVAL_TALLY_WIDTH,
    tally: (images) => genevalTallies(images.map((i) => ({ tag: i.tag ?? '', correct: i.correct }))),
    statistics: genevalStatistics(),
    imageOutcomes: Object.fromEntries(GENEVAL_SUPPORTED_TAGS.map((tag) => [tag, (i: ScoredImage) => (i.tag === tag ? i.correct : null)])),
    stratum: (i) => i.tag ?? '',
  },
};

/** Whether a metric that needs `minImagesPerPrompt` (MetricSpec's; null or undefined: none) is defined for a run with `imagesPerPrompt`. */
export function metricDefined(minImagesPerPrompt: number | null | undefined, imagesPerPrompt: number): boolean {
  return minImagesPerPrompt === undefined || minImagesPerPrompt === null || imagesPerPrompt >= minImagesPerPrompt;
}
