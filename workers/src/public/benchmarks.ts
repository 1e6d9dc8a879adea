/** Prompt sets, detections, scorers, metric definitions and bootstrap intervals: what the API seeds, scores with and aggregates. */
export * from '../prompts/load.ts';
export * from '../prompts/from-records.ts';
export * from '../prompts/official-files.ts';
export * from '../evaluation/score.ts';
export * from '../evaluation/detection.ts';
export * from '../evaluation/metrics.ts';
export * from '../evaluation/thresholds.ts';
export * from '../evaluation/scored-prompts.ts';
export * from '../evaluation/bootstrap.ts';
export type { VisorImageResult } from '../evaluation/scorers/visor.ts';
