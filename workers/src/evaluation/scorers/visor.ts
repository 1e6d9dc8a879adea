import type { VisorPrompt } from '../../prompts/visor.ts';
import type { Relation } from '../../prompts/types.ts';
import { bootstrapIntervals, groupByPrompt, pointEstimates, type BootstrapOptions, type Interval, type Statistic } from '../bootstrap.ts';
import { centreX, centreY } from '../box.ts';
import type { Box, Detection, ImageDetections } from '../detection.ts';
import { misplaced, notDetected } from './reasons.ts';

export const VISOR_SCORER_VERSION = 'visor/1';

export interface VisorImageResult {
  prompt: number;
  image: number;
  relation: Relation;
  a_detected: boolean;
  b_detected: boolean;
  /** some (A box, B box) pair has centres in the prompt's relation */
  sra: boolean;
  /** both objects detected and sra: the image counts for VISOR */
  correct: boolean;
  /** why the image is not correct, in words; null when it is */
  reason: string | null;
}

/** The relations VISOR states, in the order of the per-relation splits of the aggregates. */
export const VISOR_RELATION_SPLITS = ['left of', 'right of', 'above', 'below'] as const satisfies readonly Relation[];

export const VISOR_FIGURES = ['OA', 'OA_A', 'OA_B', 'VISOR_cond', 'VISOR_uncond', 'VISOR_1', 'VISOR_2', 'VISOR_3', 'VISOR_4'] as const;
type Figure = (typeof VISOR_FIGURES)[number];
export type VisorFigures = Record<Figure, number | null>;
export type VisorAggregates = VisorFigures & { by_relation: Partial<Record<Relation, VisorFigures>> };
export type VisorIntervals = Record<Figure, Interval | null> & { by_relation: Partial<Record<Relation, Record<Figure, Interval | null>>> };

export interface VisorScore {
  images: VisorImageResult[];
  aggregates: VisorAggregates;
  intervals: VisorIntervals;
  prompts_scored: number;
  /** images of prompts that state no relation ("and", single object), which VISOR leaves out */
  images_skipped: number;
}

/** Whether box a's centre stands in `relation` to box b's centre, with no margin (y grows downward). */
function centresSatisfy(relation: Relation, a: Box, b: Box): boolean {
  switch (relation) {
    case 'left of':
      return centreX(a) < centreX(b);
    case 'right of':
      return centreX(a) > centreX(b);
    case 'above':
      return centreY(a) < centreY(b);
    case 'below':
      return centreY(a) > centreY(b);
    case 'near':
      throw new Error('VISOR has no "near" relation');
  }
}

/** How box a actually stands relative to box b, on the axis the prompt asks about. */
function actualPlacement(relation: Relation, a: Box, b: Box): string {
  const horizontal = relation === 'left of' || relation === 'right of';
  const [ca, cb] = horizontal ? [centreX(a), centreX(b)] : [centreY(a), centreY(b)];
  if (ca === cb) return horizontal ? 'at the same x as' : 'at the same y as';
  if (horizontal) return ca < cb ? 'left of' : 'right of';
  return ca < cb ? 'above' : 'below';
}

/** The highest-scoring detection; the first of equals. */
function best(detections: readonly Detection[]): Detection {
  return detections.reduce((top, d) => (d.score > top.score ? d : top));
}

function scoreImage(prompt: VisorPrompt, relation: Relation, detections: readonly Detection[], threshold: number): Omit<VisorImageResult, 'prompt' | 'image'> {
  const [nameA, nameB] = prompt.objects;
  const boxesA: Detection[] = [];
  const boxesB: Detection[] = [];
  for (const d of detections) {
    if (!(d.score > threshold)) continue;
    if (d.label === nameA) boxesA.push(d);
    if (d.label === nameB) boxesB.push(d);
  }
  const sra = boxesA.some((a) => boxesB.some((b) => centresSatisfy(relation, a.box, b.box)));
  const [aDetected, bDetected] = [boxesA.length > 0, boxesB.length > 0];
  const correct = aDetected && bDetected && sra;

  let reason: string | null = null;
  if (!aDetected || !bDetected) {
    reason = notDetected([...(aDetected ? [] : [nameA]), ...(bDetected ? [] : [nameB])]);
  } else if (!sra) {
    reason = misplaced(nameA, actualPlacement(relation, best(boxesA).box, best(boxesB).box), nameB, relation);
    if (boxesA.length * boxesB.length > 1) reason += ` (best boxes; no pair of the ${boxesA.length} ${nameA} and ${boxesB.length} ${nameB} boxes fits)`;
  }
  return { relation, a_detected: aDetected, b_detected: bDetected, sra, correct, reason };
}

// Per-prompt tallies; every VISOR figure is a function of their sums over prompts.
const PROMPTS = 0,
  IMAGES = 1,
  A = 2,
  B = 3,
  BOTH = 4,
  CORRECT = 5,
  AT_LEAST = 6; // AT_LEAST + n - 1: prompts with >= n correct images
export const VISOR_TALLY_WIDTH = AT_LEAST + 4;
const WIDTH = VISOR_TALLY_WIDTH;

const percent = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : null);
const visorCond: Statistic = (s) => percent(s[CORRECT], s[BOTH]);
const objectAccuracy: Statistic = (s) => percent(s[BOTH], s[IMAGES]);

/** Each figure as a function of the tallies' sums over prompts. */
export const VISOR_STATISTICS: Record<Figure, Statistic> = {
  OA: objectAccuracy,
  OA_A: (s) => percent(s[A], s[IMAGES]),
  OA_B: (s) => percent(s[B], s[IMAGES]),
  VISOR_cond: visorCond,
  // VISOR_cond * OA / 100, as the reference computes it; with no image holding both objects no image
  // is correct, so it is 0 where VISOR_cond is undefined.
  VISOR_uncond: (s) => {
    const cond = visorCond(s);
    const oa = objectAccuracy(s);
    return oa === null ? null : cond === null ? 0 : (cond * oa) / 100;
  },
  VISOR_1: (s) => percent(s[AT_LEAST], s[PROMPTS]),
  VISOR_2: (s) => percent(s[AT_LEAST + 1], s[PROMPTS]),
  VISOR_3: (s) => percent(s[AT_LEAST + 2], s[PROMPTS]),
  VISOR_4: (s) => percent(s[AT_LEAST + 3], s[PROMPTS]),
};

/** The fields of a per-image result that the tallies count. */
export type VisorTallied = Pick<VisorImageResult, 'a_detected' | 'b_detected' | 'correct'>;

/** One prompt's tallies from its images' results. */
export function visorTallies(results: readonly VisorTallied[]): Float64Array {
  const row = new Float64Array(WIDTH);
  row[PROMPTS] = 1;
  row[IMAGES] = results.length;
  for (const r of results) {
    row[A] += Number(r.a_detected);
    row[B] += Number(r.b_detected);
    row[BOTH] += Number(r.a_detected && r.b_detected);
    row[CORRECT] += Number(r.correct);
  }
  for (let n = 1; n <= 4; n++) row[AT_LEAST + n - 1] = Number(row[CORRECT] >= n);
  return row;
}

/**
 * Scores images by the VISOR rules (docs/benchmarks.md §1): only prompts that state a relation and have
 * images count. Every image must belong to one of `prompts`.
 */
export function scoreVisor(
  prompts: readonly VisorPrompt[],
  images: readonly ImageDetections[],
  threshold: number,
  bootstrap: BootstrapOptions = {},
): VisorScore {
  const promptById = new Map(prompts.map((p) => [p.id, p]));
  const results: VisorImageResult[] = [];
  let skipped = 0;
  for (const image of images) {
    const prompt = promptById.get(image.prompt)!;
    if (prompt.relation === null) {
      skipped++;
      continue;
    }
    const result = { prompt: image.prompt, image: image.image, ...scoreImage(prompt, prompt.relation, image.detections, threshold) };
    results.push(result);
  }

  const groups = groupByPrompt(results);
  const rows = groups.map(visorTallies);
  const relations = groups.map((list) => list[0].relation);
  const aggregates = { ...pointEstimates(rows, WIDTH, VISOR_STATISTICS), by_relation: {} } as VisorAggregates;
  const intervals = { ...bootstrapIntervals(rows, WIDTH, VISOR_STATISTICS, bootstrap), by_relation: {} } as VisorIntervals;
  for (const relation of VISOR_RELATION_SPLITS) {
    const subset = rows.filter((_, i) => relations[i] === relation);
    if (subset.length === 0) continue;
    aggregates.by_relation[relation] = pointEstimates(subset, WIDTH, VISOR_STATISTICS);
    intervals.by_relation[relation] = bootstrapIntervals(subset, WIDTH, VISOR_STATISTICS, bootstrap);
  }
  return { images: results, aggregates, intervals, prompts_scored: rows.length, images_skipped: skipped };
}
