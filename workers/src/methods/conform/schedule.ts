/**
 * CONFORM's schedule at one denoising step (docs/method.md §6.4; CF = the official
 * pipeline_conform.py), as a plan of evaluations and latent updates mirroring the official loop
 * (CF:1031-1098): at a refinement step, whatever the loss, refinement_steps iterations of an
 * evaluation and an update (CF:809-833), then one more evaluation (CF:835-855) whose loss drives the
 * regular update at i < max_iter_to_alter (CF:1088-1095). An update is skipped when the loss is
 * exactly 0 (CF:832, 1089). The official loop evaluates at every step; the plan evaluates where the
 * loss can act, and where the next step acts and reads this step's maps (its previous maps, CF:1100-1104).
 */
import type { StepPlan } from '../method.ts';
import { referenceStepSize } from '../step-size.ts';
import type { ConformParams } from './params.ts';

/** The reference's step-size range (CF:1009: np.linspace(1.0, 0.5, N), not a parameter). */
const SCALE_RANGE: [number, number] = [1, 0.5];

export interface ConformStep {
  stepSize: number;
  /** the regular update (i < max_iter_to_alter) */
  update: boolean;
  /** the refinement's number of iterations at this step, if it refines */
  refinement: number | null;
  /** the next step acts and reads this step's maps as its previous maps */
  keepsMaps: boolean;
}

/** Whether the method reads its loss at loop index i (updates or refines there). */
function acts(params: ConformParams, i: number, steps: number): boolean {
  return i < steps && (i < params.max_iter_to_alter || params.iterative_refinement_steps.includes(i));
}

/** What the schedule does at loop index i of a sampler loop of `steps`. */
export function scheduleAt(params: ConformParams, i: number, steps: number): ConformStep {
  return {
    stepSize: referenceStepSize(params.scale_factor, SCALE_RANGE, steps, i),
    update: i < params.max_iter_to_alter,
    refinement: params.iterative_refinement_steps.includes(i) ? params.refinement_steps : null,
    keepsMaps: params.add_previous_attention_maps && acts(params, i + 1, steps),
  };
}

export function* conformPlan(step: ConformStep): StepPlan {
  if (!step.update && step.refinement === null && !step.keepsMaps) return;
  let evaluation = yield { kind: 'evaluate', refinement: false };
  if (step.refinement !== null) {
    for (let iteration = 0; iteration < step.refinement; iteration++) {
      evaluation = yield { kind: 'evaluate', refinement: true };
      if (evaluation.loss !== 0) yield { kind: 'update', stepSize: step.stepSize, refinement: true };
    }
    // the refinement's last evaluation, at the refined latent: its loss drives the regular update
    evaluation = yield { kind: 'evaluate', refinement: true };
  }
  if (step.update && evaluation.loss !== 0) yield { kind: 'update', stepSize: step.stepSize, refinement: false };
}
