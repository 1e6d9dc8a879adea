import type { GenEvalIncludeClause, GenEvalPrompt } from '../../prompts/geneval.ts';
import { bootstrapIntervals, groupByPrompt, pointEstimates, type BootstrapOptions, type Interval, type Statistic } from '../bootstrap.ts';
import { boxCentre, boxSize } from '../box.ts';
import type { Detection, ImageDetections } from '../detection.ts';
import { keptBoxes } from '../kept-boxes.ts';
import { misplaced } from './reasons.ts';

export const GENEVAL_SCORER_VERSION = 'geneval/1';

/** The tags this project can judge: the colour tags need a colour classifier it does not have. */
export const GENEVAL_SUPPORTED_TAGS = ['single_object', 'two_object', 'counting', 'position'] as const;
/** The reference keeps at most this many boxes per class. */
export const MAX_OBJECTS_PER_CLASS = 16;
/** Part of both boxes' size that an offset must exceed before it counts as a direction. */
export const POSITION_MARGIN = 0.1;

export interface GenEvalThresholds {
  threshold: number;
  counting_threshold: number;
}

export interface GenEvalImageResult {
  prompt: number;
  image: number;
  tag: string;
  correct: boolean;
  reason: string | null;
}

export interface GenEvalScore {
  images: GenEvalImageResult[];
  /** one accuracy (0 to 1) per scored tag, plus `overall`: their mean */
  aggregates: Record<string, number | null>;
  intervals: Record<string, Interval | null>;
  prompts_scored: number;
  /** images left unscored, by tag, and why */
  unsupported: Record<string, { images: number; reason: string }>;
}

/** Why a prompt cannot be scored here, or null when it can. */
function unsupportedBecause(prompt: GenEvalPrompt): string | null {
  if (prompt.raw.include.some((clause) => clause.color !== undefined)) return 'colour clauses need a colour classifier, which this project does not have';
  if (!(GENEVAL_SUPPORTED_TAGS as readonly string[]).includes(prompt.raw.tag))
    return `tag '${prompt.raw.tag}' is not one of ${GENEVAL_SUPPORTED_TAGS.join(', ')}`;
  return null;
}

/** The image's objects by class as the reference keeps them: over the threshold, best first, at most 16. */
export function genevalObjects(detections: readonly Detection[], threshold: number): Map<string, Detection[]> {
  const byClass = new Map<string, Detection[]>();
  for (const label of new Set(detections.map((d) => d.label))) {
    const kept = keptBoxes(detections, label, threshold).slice(0, MAX_OBJECTS_PER_CLASS);
    if (kept.length > 0) byClass.set(label, kept);
  }
  return byClass;
}

/**
 * Where box a stands relative to box b: each axis offset shrinks by 10% of the two boxes' summed
 * size there; the remaining direction, normalised by the raw offset's length, must exceed 0.5 to count.
 * An empty set means the boxes are too close to tell.
 */
export function relativePosition(a: Detection, b: Detection): Set<string> {
  const [ca, cb] = [boxCentre(a.box), boxCentre(b.box)];
  const [da, db] = [boxSize(a.box), boxSize(b.box)];
  const offset = [ca[0] - cb[0], ca[1] - cb[1]];
  const revised = offset.map((o, axis) => Math.max(Math.abs(o) - POSITION_MARGIN * (da[axis] + db[axis]), 0) * Math.sign(o));
  const relations = new Set<string>();
  if (revised.every((r) => Math.abs(r) < 1e-3)) return relations;
  const norm = Math.hypot(offset[0], offset[1]);
  const [dx, dy] = revised.map((r) => r / norm);
  if (dx < -0.5) relations.add('left of');
  if (dx > 0.5) relations.add('right of');
  if (dy < -0.5) relations.add('above');
  if (dy > 0.5) relations.add('below');
  return relations;
}

/** Checks one position clause against the boxes of its target clause; returns the failure, if any. */
function positionFailure(clause: GenEvalIncludeClause, found: Detection[], target: { clause: GenEvalIncludeClause; found: Detection[] | null }): string | null {
  const [expected] = clause.position!;
  if (target.found === null) return `cannot check ${clause.class} ${expected} ${target.clause.class}: ${target.clause.class} was not matched`;
  for (const obj of found) {
    for (const targetObj of target.found) {
      const actual = relativePosition(obj, targetObj);
      if (!actual.has(expected)) {
        const placement = actual.size === 0 ? 'too close to tell from' : `${[...actual].join(' and ')}`;
        return misplaced(clause.class, placement, target.clause.class, expected);
      }
    }
  }
  return null;
}

/** GenEval's `evaluate`: include clauses in order (AND), then exclude clauses (OR). */
function evaluate(prompt: GenEvalPrompt, objects: Map<string, Detection[]>): string[] {
  const failures: string[] = [];
  const matched: (Detection[] | null)[] = [];
  for (const clause of prompt.raw.include) {
    const found = (objects.get(clause.class) ?? []).slice(0, clause.count);
    let failure: string | null = null;
    if (found.length < clause.count) failure = `found ${found.length} ${clause.class}, expected at least ${clause.count}`;
    else if (clause.position) {
      const targetIndex = clause.position[1];
      failure = positionFailure(clause, found, { clause: prompt.raw.include[targetIndex], found: matched[targetIndex] });
    }
    if (failure) failures.push(failure);
    matched.push(failure ? null : found);
  }
  for (const clause of prompt.raw.exclude ?? []) {
    const present = objects.get(clause.class)?.length ?? 0;
    if (present >= clause.count) failures.push(`found ${present} ${clause.class}, expected fewer than ${clause.count}`);
  }
  return failures;
}

/** Per prompt: [correct images, images] in its tag's two columns, one pair per supported tag. */
export const GENEVAL_TALLY_WIDTH = 2 * GENEVAL_SUPPORTED_TAGS.length;

/** One prompt's tallies from its images' results (all of one tag, the prompt's). */
export function genevalTallies(results: readonly Pick<GenEvalImageResult, 'tag' | 'correct'>[]): Float64Array {
  const row = new Float64Array(GENEVAL_TALLY_WIDTH);
  for (const r of results) {
    const column = 2 * GENEVAL_SUPPORTED_TAGS.indexOf(r.tag as (typeof GENEVAL_SUPPORTED_TAGS)[number]);
    row[column] += Number(r.correct);
    row[column + 1] += 1;
  }
  return row;
}

/** Each scored tag's accuracy, and `overall`: their mean, over the tags with images in the sums. */
export function genevalStatistics(tags: readonly string[] = GENEVAL_SUPPORTED_TAGS): Record<string, Statistic> {
  const accuracy = (tag: string): Statistic => {
    const t = GENEVAL_SUPPORTED_TAGS.indexOf(tag as (typeof GENEVAL_SUPPORTED_TAGS)[number]);
    return (s) => (s[2 * t + 1] > 0 ? s[2 * t] / s[2 * t + 1] : null);
  };
  const statistics: Record<string, Statistic> = Object.fromEntries(tags.map((tag) => [tag, accuracy(tag)]));
  statistics.overall = (s) => {
    const scored = tags.map((tag) => accuracy(tag)(s)).filter((v): v is number => v !== null);
    return scored.length ? scored.reduce((a, b) => a + b, 0) / scored.length : null;
  };
  return statistics;
}

/**
 * Scores images by GenEval's rules (docs/benchmarks.md §3). Tags: accuracy = correct images / images;
 * `overall` = mean over the supported tags scored. Images of unsupported prompts are counted, never scored.
 */
export function scoreGenEval(
  prompts: readonly GenEvalPrompt[],
  images: readonly ImageDetections[],
  thresholds: GenEvalThresholds,
  bootstrap: BootstrapOptions = {},
): GenEvalScore {
  const promptById = new Map(prompts.map((p) => [p.id, p]));
  const results: GenEvalImageResult[] = [];
  const unsupported: GenEvalScore['unsupported'] = {};
  for (const image of images) {
    const prompt = promptById.get(image.prompt)!;
    const tag = prompt.raw.tag;
    const because = unsupportedBecause(prompt);
    if (because) {
      unsupported[tag] = { images: (unsupported[tag]?.images ?? 0) + 1, reason: because };
      continue;
    }
    const threshold = tag === 'counting' ? thresholds.counting_threshold : thresholds.threshold;
    const failures = evaluate(prompt, genevalObjects(image.detections, threshold));
    results.push({ prompt: image.prompt, image: image.image, tag, correct: failures.length === 0, reason: failures.length ? failures.join('; ') : null });
  }

  const entries = groupByPrompt(results).map((list) => ({ tag: list[0].tag, row: genevalTallies(list) }));
  const statistics = genevalStatistics(GENEVAL_SUPPORTED_TAGS.filter((tag) => results.some((r) => r.tag === tag)));
  const rows = entries.map((e) => e.row);
  return {
    images: results,
    aggregates: pointEstimates(rows, GENEVAL_TALLY_WIDTH, statistics),
    // Resampling within each tag keeps every tag in every resample, as `overall` averages over tags.
    intervals: bootstrapIntervals(rows, GENEVAL_TALLY_WIDTH, statistics, { ...bootstrap, strata: entries.map((e) => e.tag) }),
    prompts_scored: rows.length,
    unsupported,
  };
}
