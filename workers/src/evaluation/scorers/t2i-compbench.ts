import { t2iClassName, type T2IPrompt } from '../../prompts/t2i-compbench.ts';
import type { Relation } from '../../prompts/types.ts';
import { bootstrapIntervals, pointEstimates, type BootstrapOptions, type Interval, type Statistic } from '../bootstrap.ts';
import { boxCentre, boxIou } from '../box.ts';
import type { Box, Detection, ImageDetections } from '../detection.ts';
import { formatNumber, misplaced, notDetected } from './reasons.ts';

export const T2I_SCORER_VERSION = 't2i-compbench-spatial/1';

/** The reference's constants: boxes overlapping more than this are penalised; centres closer than this (px) are "near". */
export const IOU_THRESHOLD = 0.1;
export const DISTANCE_THRESHOLD = 150;
/** Image scores below this become 0. */
export const SCORE_FLOOR = 0.5;

export interface T2IImageResult {
  prompt: number;
  image: number;
  /** the benchmark's image score, 0 to 1, after the floor */
  score: number;
  /** the position term, 0 to 1; null unless both objects were detected */
  position: number | null;
  reason: string | null;
}

export interface T2IScore {
  images: T2IImageResult[];
  aggregates: { spatial: number | null };
  intervals: { spatial: Interval | null };
  prompts_scored: number;
}

/** Centre of object 2 minus centre of object 1, in pixels: (dx, dy) of the reference. */
function centreOffset(a: Box, b: Box): [dx: number, dy: number] {
  const [ax, ay] = boxCentre(a);
  const [bx, by] = boxCentre(b);
  return [bx - ax, by - ay];
}

/** The position between object 1 (box a) and object 2 (box b), with the reference's soft scores. */
export function t2iPosition(relation: Relation | null, a: Box, b: Box): number {
  const [dx, dy] = centreOffset(a, b);
  const overlapPenalty = () => {
    const iou = boxIou(a, b);
    return iou < IOU_THRESHOLD ? 1 : IOU_THRESHOLD / iou;
  };
  const horizontal = Math.abs(dx) > Math.abs(dy);
  const vertical = Math.abs(dy) > Math.abs(dx);
  switch (relation) {
    case 'near':
      return Math.abs(dx) < DISTANCE_THRESHOLD || Math.abs(dy) < DISTANCE_THRESHOLD ? 1 : DISTANCE_THRESHOLD / Math.max(Math.abs(dx), Math.abs(dy));
    case 'left of':
      return dx > 0 && horizontal ? overlapPenalty() : 0;
    case 'right of':
      return dx < 0 && horizontal ? overlapPenalty() : 0;
    case 'above':
      return dy > 0 && vertical ? overlapPenalty() : 0;
    case 'below':
      return dy < 0 && vertical ? overlapPenalty() : 0;
    case null:
      return 0; // reference quirk: a relation it does not list scores 0
  }
}

/** The dominant direction from object 1 to object 2, as the position rule sees it. */
function dominantPlacement(a: Box, b: Box): string {
  const [dx, dy] = centreOffset(a, b);
  if (Math.abs(dx) > Math.abs(dy)) return dx > 0 ? 'left of' : 'right of';
  if (Math.abs(dy) > Math.abs(dx)) return dy > 0 ? 'above' : 'below';
  return dx === 0 ? 'centred on' : 'diagonal to';
}

/** Why a detected pair earned less than full position credit. */
function positionShortfall(relation: Relation | null, names: readonly string[], a: Box, b: Box, position: number): string | null {
  if (position === 1) return null;
  if (relation === null) return `the relation is not one the benchmark scores, so position counts 0`;
  if (position === 0) return misplaced(names[0], dominantPlacement(a, b), names[1], relation);
  if (relation === 'near') {
    const distance = Math.max(...centreOffset(a, b).map(Math.abs));
    return `${names[0]} and ${names[1]} are ${formatNumber(distance)} px apart on both axes (near means under ${DISTANCE_THRESHOLD} on one), position ${formatNumber(position)}`;
  }
  return `${names[0]} and ${names[1]} overlap (IoU ${formatNumber(boxIou(a, b))}, at least ${IOU_THRESHOLD}), position ${formatNumber(position)}`;
}

function best(detections: readonly Detection[], name: string, threshold: number): Detection | undefined {
  let top: Detection | undefined;
  for (const d of detections) {
    if (d.score > threshold && t2iClassName(d.label) === name && (!top || d.score > top.score)) top = d;
  }
  return top;
}

function scoreImage(prompt: T2IPrompt, detections: readonly Detection[], threshold: number): Omit<T2IImageResult, 'prompt' | 'image'> {
  const names = prompt.objects;
  const [first, second] = names.map((name) => best(detections, name, threshold));
  if (!first || !second) {
    const found = first ?? second;
    const raw = found ? 0.25 * found.score : 0;
    const missing = names.filter((_, i) => !(i === 0 ? first : second));
    return { score: raw < SCORE_FLOOR ? 0 : raw, position: null, reason: notDetected(missing) };
  }
  const position = t2iPosition(prompt.relation, first.box, second.box);
  const raw = 0.25 * first.score + 0.25 * second.score + position / 2;
  if (raw >= SCORE_FLOOR) return { score: raw, position, reason: null };
  const shortfall = positionShortfall(prompt.relation, names, first.box, second.box, position);
  const below = `score ${formatNumber(raw)} is below the ${SCORE_FLOOR} floor`;
  return { score: 0, position, reason: shortfall ? `${shortfall}; ${below}` : `${below} (detector confidence ${formatNumber(first.score)} and ${formatNumber(second.score)})` };
}

const spatial: Statistic = (s) => (s[1] > 0 ? s[0] / s[1] : null);

/**
 * Scores images by T2I-CompBench's 2D spatial rule (BENCHMARKS.md §2): per image, the highest-scoring
 * box of each object; `spatial` is the mean image score. Every image must belong to one of `prompts`.
 */
export function scoreT2I(prompts: readonly T2IPrompt[], images: readonly ImageDetections[], threshold: number, bootstrap: BootstrapOptions = {}): T2IScore {
  const promptById = new Map(prompts.map((p) => [p.id, p]));
  const results = images.map((image) => ({ prompt: image.prompt, image: image.image, ...scoreImage(promptById.get(image.prompt)!, image.detections, threshold) }));
  // Per prompt: [sum of image scores, images]; prompts in id order so the bootstrap does not depend on input order.
  const rowsById = new Map<number, [number, number]>();
  for (const r of results) {
    const row = rowsById.get(r.prompt) ?? [0, 0];
    row[0] += r.score;
    row[1] += 1;
    rowsById.set(r.prompt, row);
  }
  const rows = [...rowsById.entries()].sort(([a], [b]) => a - b).map(([, row]) => row);
  return {
    images: results,
    aggregates: pointEstimates(rows, 2, { spatial }),
    intervals: bootstrapIntervals(rows, 2, { spatial }, bootstrap),
    prompts_scored: rows.length,
  };
}
