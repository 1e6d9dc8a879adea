import { t2iLocality, type T2IPrompt } from '../../prompts/t2i-compbench.ts';
import type { Relation } from '../../prompts/types.ts';
import { bootstrapIntervals, groupByPrompt, pointEstimates, type BootstrapOptions, type Interval, type Statistic } from '../bootstrap.ts';
import { boxCentre, boxIou } from '../box.ts';
import type { Box, ImageDetections } from '../detection.ts';
import { formatNumber, misplaced, notDetected } from './reasons.ts';
import { MAX_BOXES_PER_IMAGE, t2iBoxes, type T2IBoxes } from './t2i-boxes.ts';

/**
 * `/2`: the official evaluation's rules (docs/benchmarks.md §2): each class's last box among the 100
 * kept, boxes in the Resize(479, max 480) frame, the locality as a plain substring, person words
 * mapped on the prompt side only. `/1` took each class's best box in image pixels.
 */
export const T2I_SCORER_VERSION = 't2i-compbench-spatial/2';

/** spatial_eval.py's determine_position defaults: overlap above this is penalised; centres closer than this (frame px) are "near". */
export const IOU_THRESHOLD = 0.1;
export const DISTANCE_THRESHOLD = 150;
/** Image scores below this become 0. */
export const SCORE_FLOOR = 0.5;

/** The official script looks for these prompt words as UniDet's "person". */
const PERSON_WORDS = new Set(['girl', 'boy', 'man', 'woman']);

/** The detector class that stands for a prompt object: "person" for girl/boy/man/woman, else the word itself. */
export function t2iDetectorClass(object: string): string {
  return PERSON_WORDS.has(object) ? 'person' : object;
}

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

/** Centre of object 2 minus centre of object 1: (dx, dy) of determine_position. */
function centreOffset(a: Box, b: Box): [dx: number, dy: number] {
  const [ax, ay] = boxCentre(a);
  const [bx, by] = boxCentre(b);
  return [bx - ax, by - ay];
}

/**
 * determine_position for object 1 (box a) and object 2 (box b), boxes in the official frame. Where
 * both boxes have no area the official division 0/0 would raise; here their IoU is 0 (box.ts).
 */
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
      return 0; // "on top of", or no locality at all: determine_position has no branch for it
  }
}

/** The dominant direction from object 1 to object 2, as the position rule sees it. */
function dominantPlacement(a: Box, b: Box): string {
  const [dx, dy] = centreOffset(a, b);
  if (Math.abs(dx) > Math.abs(dy)) return dx > 0 ? 'left of' : 'right of';
  if (Math.abs(dy) > Math.abs(dx)) return dy > 0 ? 'above' : 'below';
  return dx === 0 ? 'centred on' : 'diagonal to';
}

/** Why a detected pair earned less than full position credit (the only way both found can fall below the floor). */
function positionShortfall(prompt: T2IPrompt, names: readonly string[], a: Box, b: Box, position: number, frame: readonly number[]): string {
  if (prompt.relation === null) {
    const locality = t2iLocality(prompt.text);
    return locality
      ? `"${locality.phrase}" is a relation the benchmark does not place, so position counts 0`
      : 'the prompt names no relation the benchmark scores, so position counts 0';
  }
  if (position === 0) return misplaced(names[0], dominantPlacement(a, b), names[1], prompt.relation);
  if (prompt.relation === 'near') {
    const [dx, dy] = centreOffset(a, b).map(Math.abs);
    return `${names[0]} and ${names[1]} are ${formatNumber(dx)} px apart horizontally and ${formatNumber(dy)} vertically in the ${frame[0]} x ${frame[1]} frame the benchmark measures (near means under ${DISTANCE_THRESHOLD} on one), position ${formatNumber(position)}`;
  }
  return `${names[0]} and ${names[1]} overlap (IoU ${formatNumber(boxIou(a, b))}, at least ${IOU_THRESHOLD}), position ${formatNumber(position)}`;
}

/** Said when an object had several kept boxes: the score used the last (lowest-scoring) one. */
function lastBoxNote(classes: readonly string[], names: readonly string[], boxes: T2IBoxes): string {
  const several = [...new Set(classes)].filter((c) => boxes.kept.get(c)! > 1);
  if (several.length === 0) return '';
  const which = several.map((c) => `${names[classes.indexOf(c)]} ${formatNumber(boxes.used.get(c)!.score)}, the last of ${boxes.kept.get(c)}`).join('; ');
  return ` (each object is its lowest-scoring kept box, as in the official script: ${which})`;
}

/** "cup not detected", or why not: its boxes were crowded out of the 100 kept. */
function notFound(missing: readonly string[], missingClasses: readonly string[], boxes: T2IBoxes): string {
  const crowded = missingClasses.some((c) => boxes.crowdedOut.has(c));
  return crowded ? `${notDetected(missing)} among the ${MAX_BOXES_PER_IMAGE} highest-scoring boxes` : notDetected(missing);
}

function scoreImage(prompt: T2IPrompt, image: ImageDetections, threshold: number): Omit<T2IImageResult, 'prompt' | 'image'> {
  const boxes = t2iBoxes(image, threshold);
  const classes = prompt.objects.map(t2iDetectorClass);
  const names = prompt.objects.map((object, i) => (object === classes[i] ? object : `${object} (${classes[i]})`));
  const [first, second] = classes.map((c) => boxes.used.get(c));
  if (!first || !second) {
    // The official score of one object alone, 0.25 times its confidence, never reaches the floor.
    const missing = [first, second].flatMap((d, i) => (d ? [] : [i]));
    return {
      score: 0,
      position: null,
      reason: notFound(
        missing.map((i) => names[i]),
        missing.map((i) => classes[i]),
        boxes,
      ),
    };
  }
  const position = t2iPosition(prompt.relation, first.box, second.box);
  const raw = 0.25 * first.score + 0.25 * second.score + position / 2;
  if (raw >= SCORE_FLOOR) return { score: raw, position, reason: null };
  // Below the floor means position < 1: full position credit alone reaches 0.5.
  const shortfall = positionShortfall(prompt, names, first.box, second.box, position, boxes.frame);
  return { score: 0, position, reason: `${shortfall}; score ${formatNumber(raw)} is below the ${SCORE_FLOOR} floor${lastBoxNote(classes, names, boxes)}` };
}

/** Per prompt: [sum of its image scores, its images]; `spatial` is the mean image score. */
export const T2I_TALLY_WIDTH = 2;
export const T2I_STATISTICS: { spatial: Statistic } = { spatial: (s) => (s[1] > 0 ? s[0] / s[1] : null) };

export function t2iTallies(results: readonly Pick<T2IImageResult, 'score'>[]): Float64Array {
  return Float64Array.of(
    results.reduce((sum, r) => sum + r.score, 0),
    results.length,
  );
}

/**
 * Scores images by T2I-CompBench's 2D spatial rule as its official evaluation applies it
 * (docs/benchmarks.md §2); `spatial` is the mean image score. Every image must belong to one of `prompts`.
 */
export function scoreT2I(prompts: readonly T2IPrompt[], images: readonly ImageDetections[], threshold: number, bootstrap: BootstrapOptions = {}): T2IScore {
  const promptById = new Map(prompts.map((p) => [p.id, p]));
  const results = images.map((image) => ({ prompt: image.prompt, image: image.image, ...scoreImage(promptById.get(image.prompt)!, image, threshold) }));
  const rows = groupByPrompt(results).map(t2iTallies);
  return {
    images: results,
    aggregates: pointEstimates(rows, T2I_TALLY_WIDTH, T2I_STATISTICS),
    intervals: bootstrapIntervals(rows, T2I_TALLY_WIDTH, T2I_STATISTICS, bootstrap),
    prompts_scored: rows.length,
  };
}
