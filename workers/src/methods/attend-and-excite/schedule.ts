/**
 * Attend-and-Excite's schedule at one denoising step (docs/method.md §6.2; AE = the official
 * pipeline_attend_and_excite.py), written as a plan of evaluations and latent updates that mirrors
 * the official loop: the loss is read where it can act (steps that update or refine); refinement at
 * a thresholds step when L > 1 - threshold (AE:534), as a loop whose condition is the loss of the
 * latent before the iteration's update (AE:284-324: one update past the threshold), capped; then one
 * more evaluation (AE:328-341) and the step's regular update when i < max_iter_to_alter (AE:553-558).
 * An update is skipped when the loss is exactly 0 (AE:305, 556).
 */
import type { StepPlan } from '../method.ts';
import { referenceStepSize } from '../step-size.ts';
import type { AttendAndExciteParams } from './params.ts';

export interface AttendAndExciteStep {
  stepSize: number;
  /** the regular update (i < max_iter_to_alter) */
  update: boolean;
  /** the refinement's threshold and cap at this step, if it refines */
  refinement: { threshold: number; cap: number } | null;
}

/** What the schedule does at loop index i of a sampler loop of `steps`. */
export function scheduleAt(params: AttendAndExciteParams, i: number, steps: number): AttendAndExciteStep {
  const threshold = params.thresholds[String(i)];
  return {
    stepSize: referenceStepSize(params.scale_factor, params.scale_range, steps, i),
    update: i < params.max_iter_to_alter,
    refinement: threshold === undefined ? null : { threshold, cap: params.max_refinement_steps },
  };
}

/** The reference compares a float32 loss with a Python float: in float32. */
const f32 = Math.fround;

export function* attendAndExcitePlan(step: AttendAndExciteStep): StepPlan {
  if (!step.update && !step.refinement) return; // the reference still evaluates here, for nothing
  let evaluation = yield { kind: 'evaluate', refinement: false };
  if (step.refinement && evaluation.loss > f32(1 - step.refinement.threshold)) {
    const target = f32(Math.max(0, 1 - step.refinement.threshold));
    for (let iteration = 1; evaluation.loss > target; iteration++) {
      evaluation = yield { kind: 'evaluate', refinement: true };
      if (evaluation.loss !== 0) yield { kind: 'update', stepSize: step.stepSize, refinement: true };
      if (iteration >= step.refinement.cap) break;
    }
    // the refinement's last evaluation, at the refined latent: its loss drives the regular update
    evaluation = yield { kind: 'evaluate', refinement: true };
  }
  if (step.update && evaluation.loss !== 0) yield { kind: 'update', stepSize: step.stepSize, refinement: false };
}
