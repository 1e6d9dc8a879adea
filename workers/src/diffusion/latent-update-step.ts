/**
 * A latent-updating method's work at one denoising step (docs/method.md §6), before the step's
 * ordinary sampling: every guided image runs its method's plan (method.ts StepPlan), which asks for
 * evaluations of the loss at the image's current latent and for updates z <- z - step g. Each image
 * decides for itself; the engine batches the evaluations that images wait for at the same time into
 * one pass of the guided U-Net, so an image's result does not depend on the batch it is in. An
 * evaluation asked for at a latent already evaluated (no update since) is that evaluation again: the
 * references recompute it (the first iteration of a refinement, the evaluation after a refinement
 * that ended without an update), the engine does not.
 */
import type { SamplerParams } from '../contracts/common-params.ts';
import type { ImageEvaluation, LatentUpdate, PlanRequest, StepPlan } from '../methods/method.ts';
import { guidedPass, type StepContext } from './guided-step.ts';

/** One evaluation an image's plan received at this step. */
export interface PlanEvaluation {
  evaluation: ImageEvaluation;
  /** inside a refinement loop */
  refinement: boolean;
  /** latent updates made at this step before it */
  updatesBefore: number;
}

interface ImageState {
  plan: StepPlan;
  request: PlanRequest | null;
  /** the latest evaluation and its gradient, while the latent has not moved since (`refinement`: the kind of request it answered) */
  latest: { evaluation: ImageEvaluation; gradient: Float32Array; refinement: boolean } | null;
  updates: number;
  evaluations: PlanEvaluation[];
}

/** z - stepSize g, g first rescaled to L2 norm maxNorm when its norm exceeds it. */
export function updatedLatent(z: Float32Array, gradient: Float32Array, stepSize: number, maxNorm?: number): Float32Array {
  let factor = stepSize;
  if (maxNorm !== undefined) {
    let squares = 0;
    for (const g of gradient) squares += g * g;
    const norm = Math.sqrt(squares);
    if (norm > maxNorm) factor *= maxNorm / norm;
  }
  return z.map((v, k) => v - factor * gradient[k]!);
}

function advance(state: ImageState, value?: ImageEvaluation): void {
  const next = value === undefined ? state.plan.next() : state.plan.next(value);
  state.request = next.done ? null : next.value;
}

/**
 * Runs the plans of the batch's guided images at step `ctx.stepIndex` of `steps`; returns the latents
 * after their updates and what each image's plan evaluated.
 */
export async function latentUpdates(
  ctx: StepContext,
  latents: readonly Float32Array[],
  steps: number,
): Promise<{ latents: Float32Array[]; evaluations: PlanEvaluation[][] }> {
  const guidance = ctx.method.guidance as LatentUpdate<SamplerParams, unknown, unknown>;
  const distinctKinds = guidance.refinementLossDiffers?.(ctx.params) ?? false;
  const z = [...latents];
  const states = ctx.rows.map((row): ImageState | null =>
    row === null ? null : { plan: guidance.plan(ctx.params, ctx.stepIndex, steps), request: null, latest: null, updates: 0, evaluations: [] },
  );
  for (const state of states) if (state) advance(state);

  for (;;) {
    // each image moves its latent until it waits for an evaluation or is done
    states.forEach((state, b) => {
      while (state?.request?.kind === 'update') {
        if (!state.latest) throw new Error(`method ${ctx.method.name}: its plan asked for an update before an evaluation at step ${ctx.stepIndex}`);
        z[b] = updatedLatent(z[b]!, state.latest.gradient, state.request.stepSize, state.request.maxNorm);
        state.latest = null;
        state.updates++;
        advance(state);
      }
    });
    const waiting = states.flatMap((state, b) => (state?.request?.kind === 'evaluate' ? [b] : []));
    if (waiting.length === 0) break;
    // an evaluation is reused at an unmoved latent, unless the method's loss differs between the two kinds of request
    const kindOf = (b: number) => (states[b]!.request as { refinement: boolean }).refinement;
    for (const b of waiting) if (distinctKinds && states[b]!.latest && states[b]!.latest!.refinement !== kindOf(b)) states[b]!.latest = null;
    const needed = waiting.filter((b) => !states[b]!.latest);
    if (needed.length > 0) {
      const pass = await guidedPass(
        ctx,
        needed,
        needed.map((b) => z[b]!),
        needed.map(kindOf),
      );
      const size = z[0]!.length;
      needed.forEach(
        (b, k) => (states[b]!.latest = { evaluation: pass.images[k]!, gradient: pass.gradient.slice(k * size, (k + 1) * size), refinement: kindOf(b) }),
      );
    }
    for (const b of waiting) {
      const state = states[b]!;
      const { evaluation } = state.latest!;
      state.evaluations.push({ evaluation, refinement: (state.request as { refinement: boolean }).refinement, updatesBefore: state.updates });
      advance(state, evaluation);
    }
  }
  return { latents: z, evaluations: states.map((state) => state?.evaluations ?? []) };
}
