/**
 * STORM's schedule at one denoising step (docs/method.md §6.5; ST = the official pipeline.py),
 * written as a plan of evaluations and latent updates that mirrors the official loop (ST:798-856):
 * nothing at i = 0 or from max_iter_to_alter on (the reference evaluates there for nothing); else the
 * step's evaluation, then, at a thresholds step, refinement when L > 1 - threshold and the relation's
 * centroid gap (the gate, ST:819) is positive: a loop whose condition is the loss of the latent before
 * the iteration's update (ST:271-301: one update past the threshold), capped; then the step's
 * evaluation again at the current latent (ST:843-851) and its update. Every update's gradient is
 * clipped to norm max_norm (ST:235-243) and skipped when the loss is exactly 0 (ST:289, 853).
 */
import type { ImageEvaluation, StepPlan } from '../method.ts';
import { referenceStepSize } from '../step-size.ts';
import type { StormParams } from './params.ts';

export interface StormStep {
  stepSize: number;
  maxNorm: number;
  /** 0 < i < max_iter_to_alter: the step evaluates and updates */
  update: boolean;
  /** the refinement's threshold and cap at this step, if it may refine */
  refinement: { threshold: number; cap: number } | null;
}

/** The time weight w = 1 + 99 (1 - e^{-0.4 i}) as the reference computes it, in float32 (ST:313-316). */
export function stormTimeWeight(i: number): number {
  const f32 = Math.fround;
  return f32(1 + f32(99 * f32(1 - f32(Math.exp(f32(f32(-0.4) * i))))));
}

/** What the schedule does at loop index i of a sampler loop of `steps`. */
export function scheduleAt(params: StormParams, i: number, steps: number): StormStep {
  const update = i > 0 && i < params.max_iter_to_alter;
  const threshold = params.thresholds[String(i)];
  return {
    stepSize: referenceStepSize(params.scale_factor, params.scale_range, steps, i),
    maxNorm: params.max_norm,
    update,
    refinement: update && threshold !== undefined ? { threshold, cap: params.max_refinement_steps } : null,
  };
}

/** The gate: the centroid gap along the axis the prompt's words pick (ST:793, 819). */
function gate(evaluation: ImageEvaluation): number {
  const { coordinate, spatial_condition } = evaluation.report as { coordinate: [number, number]; spatial_condition: 0 | 1 };
  return coordinate[spatial_condition];
}

/** The reference compares a float32 loss with a Python float: in float32. */
const f32 = Math.fround;

export function* stormPlan(step: StormStep): StepPlan {
  if (!step.update) return;
  const update = (refinement: boolean) => ({ kind: 'update' as const, stepSize: step.stepSize, maxNorm: step.maxNorm, refinement });
  let evaluation = yield { kind: 'evaluate', refinement: false };
  if (step.refinement && evaluation.loss > f32(1 - step.refinement.threshold) && gate(evaluation) > 0) {
    const target = f32(Math.max(0, 1 - step.refinement.threshold));
    for (let iteration = 1; evaluation.loss > target; iteration++) {
      evaluation = yield { kind: 'evaluate', refinement: true };
      if (evaluation.loss !== 0) yield update(true);
      if (iteration >= step.refinement.cap) break;
    }
  }
  // the step's own evaluation at the (refined) latent drives its update
  evaluation = yield { kind: 'evaluate', refinement: false };
  if (evaluation.loss !== 0) yield update(false);
}
