/**
 * Divide & Bind's schedule at one denoising step (docs/method.md §6.3; DB = the official
 * pipeline_divide_and_bind_latest.py), written as a plan of evaluations and latent updates that
 * mirrors the official loop. The loss is read where it can act (steps that update or refine; the
 * official loop also reads it elsewhere, for nothing). Refinement at a thresholds step when the
 * threshold indicator (min TV, or min maximum) is below the threshold (DB:1071), as a loop whose
 * condition is the indicator of the iteration's evaluation, before its update (DB:751-774: one update
 * past the threshold), capped at max_refinement_steps_init_step at step 0 and max_refinement_steps
 * elsewhere (DB:775-784); then one more evaluation (DB:786-799) whose loss drives the step's regular
 * update when i < max_iter_to_alter (DB:1084-1090). An update is skipped when the loss is exactly 0
 * (DB:766, 1085).
 */
import type { ImageEvaluation, StepPlan } from '../method.ts';
import { referenceStepSize } from '../step-size.ts';
import { thresholdsOf, type DivideAndBindParams } from './params.ts';

/** D&B's linspace under the step size's square root is fixed (DB:1017). */
const SCALE_RANGE: [number, number] = [1, 0.5];

export interface DivideAndBindStep {
  stepSize: number;
  /** the regular update (i < max_iter_to_alter) */
  update: boolean;
  /** the refinement's threshold and cap at this step, if it may refine */
  refinement: { threshold: number; cap: number } | null;
}

/** What the schedule does at loop index i of a sampler loop of `steps`. */
export function scheduleAt(params: DivideAndBindParams, i: number, steps: number): DivideAndBindStep {
  const threshold = thresholdsOf(params)[String(i)];
  return {
    stepSize: referenceStepSize(params.scale_factor, SCALE_RANGE, steps, i),
    update: i < params.max_iter_to_alter,
    refinement: threshold === undefined ? null : { threshold, cap: i === 0 ? params.max_refinement_steps_init_step : params.max_refinement_steps },
  };
}

/** The reference compares a float32 tensor with a Python float: in float32. */
const f32 = Math.fround;

/** The indicator an evaluation reports (loss.ts's `threshold` output). */
function indicator(evaluation: ImageEvaluation): number {
  const value = evaluation.report.threshold;
  if (typeof value !== 'number') throw new Error('a divide-and-bind evaluation reports its threshold indicator');
  return value;
}

export function* divideAndBindPlan(step: DivideAndBindStep): StepPlan {
  if (!step.update && !step.refinement) return;
  let evaluation = yield { kind: 'evaluate', refinement: false };
  if (step.refinement && f32(indicator(evaluation)) < f32(step.refinement.threshold)) {
    const target = f32(step.refinement.threshold);
    for (let iteration = 1; ; iteration++) {
      evaluation = yield { kind: 'evaluate', refinement: true };
      if (evaluation.loss !== 0) yield { kind: 'update', stepSize: step.stepSize, refinement: true };
      if (!(f32(indicator(evaluation)) < target) || iteration >= step.refinement.cap) break;
    }
    // the refinement's last evaluation, at the refined latent: its loss drives the regular update
    evaluation = yield { kind: 'evaluate', refinement: true };
  }
  if (step.update && evaluation.loss !== 0) yield { kind: 'update', stepSize: step.stepSize, refinement: false };
}
