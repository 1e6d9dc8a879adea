/**
 * A run's aggregate figures, computed with the workers' `scoreImages` (the code behind `infsplign
 * score` and `evaluate`, so the stored numbers are the CLI's), and flattened into RunAggregate rows:
 * one per metric, overall (relation '') and per relation where the benchmark splits them.
 */
import { type ImageDetections, type PromptSet, scoreImages, type ScoreResult } from '@infsplign/workers/benchmarks';
import type { BenchmarkName } from '@infsplign/workers/contracts';

export interface AggregateRow {
  metricKey: string;
  /** '' for the whole run */
  relation: string;
  value: number | null;
  lower: number | null;
  upper: number | null;
}

/** The scorer's aggregates and intervals: figures at the top, and `by_relation` splits (VISOR). */
type Figures = Record<string, unknown>;

function isFigure(value: unknown): value is number | null {
  return value === null || typeof value === 'number';
}

function interval(intervals: Figures | undefined, key: string): [number | null, number | null] {
  const found = intervals?.[key];
  return Array.isArray(found) && found.length === 2 ? [found[0] as number, found[1] as number] : [null, null];
}

function figureRows(aggregates: Figures, intervals: Figures | undefined, relation: string): AggregateRow[] {
  return Object.entries(aggregates)
    .filter((entry): entry is [string, number | null] => isFigure(entry[1]))
    .map(([metricKey, value]) => {
      const [lower, upper] = interval(intervals, metricKey);
      return { metricKey, relation, value, lower, upper };
    });
}

/** The rows for a score result, overall first, then each relation in the scorer's order. */
export function aggregateRows(result: Pick<ScoreResult, 'aggregates' | 'intervals'>): AggregateRow[] {
  const rows = figureRows(result.aggregates, result.intervals, '');
  const byRelation = result.aggregates.by_relation as Record<string, Figures> | undefined;
  const intervalsByRelation = result.intervals.by_relation as Record<string, Figures> | undefined;
  for (const [relation, figures] of Object.entries(byRelation ?? {})) rows.push(...figureRows(figures, intervalsByRelation?.[relation], relation));
  return rows;
}

/** Scores the run's detections exactly as `infsplign score --detections` would, at the run's threshold. */
export function computeAggregates(
  benchmark: BenchmarkName,
  set: PromptSet,
  images: readonly ImageDetections[],
  threshold: number,
): { result: ScoreResult; rows: AggregateRow[] } {
  const result = scoreImages(benchmark, set, images, { threshold });
  return { result, rows: aggregateRows(result) };
}
