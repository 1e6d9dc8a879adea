/**
 * Options of the official InfSplign command line (`pipeline_batch.py`) that this project refuses, each
 * with the reference's defect (docs/method.md §4.2): by the rule for defaults, a setting that crashes
 * the reference, or has no effect there, is refused with the reason rather than given a meaning the
 * reference never had. Line numbers are of the official code at commit 011f339.
 */

const NOT_A_LOSS_OPTION = "is a flag of the reference's command line without an effect on the loss";

/** Official option names that are refused whatever their value, with why. */
export const REFUSED_OPTIONS: Readonly<Record<string, string>> = {
  sg_grad_wt: 'the reference overwrites it with 1000 (pipeline_batch.py:551-556), so the flag has no effect; the guidance weight is guidance_weight',
  update_latents:
    'in the reference it only changes weights (guidance weight 7.5, edit weight 100; pipeline_batch.py:551-556) and nothing updates latents; set guidance_weight (and no_wt) instead',
  grad_norm_scale: 'the reference passes it to the pipeline and never reads it (models.py:583-584; set_scale is never called)',
  target_guidance: 'the reference passes it to the pipeline and never reads it (models.py:583-584; set_scale is never called)',
  use_energy: 'dead code in the reference: read only in commented-out lines (self_guide_batch.py:488-491)',
  lambda_sep: "a parameter of the reference's spatial_loss that no caller sets, so always 0 (self_guide_batch.py:544)",
  use_clip_loss:
    'left out: a CLIP score of the decoded prediction, another objective, which the reference cannot run (its scorer exists only with BIGPIPES = True, models.py:12, 698; otherwise it raises)',
  clip_weight: 'left out with use_clip_loss (a CLIP score of the decoded prediction, which the reference cannot run: models.py:12, 698)',
  self_guidance_mode:
    "left out: the Self-Guidance method's schedule, not InfSplign; in the reference its first guided step raises (centroid returns no loss, torch.stack([]) at models.py:788)",
  relationship: `${NOT_A_LOSS_OPTION}: parsed and never read (the relation comes from the prompt)`,
  sg_loss_rescale: `${NOT_A_LOSS_OPTION}: passed to the pipeline and never read`,
};

/** The message for a refused official option. */
export function refusedOptionMessage(name: string): string | undefined {
  const why = Object.hasOwn(REFUSED_OPTIONS, name) ? REFUSED_OPTIONS[name] : undefined;
  return why && `'${name}' is refused: ${why}`;
}
