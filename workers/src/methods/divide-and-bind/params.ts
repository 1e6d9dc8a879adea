/**
 * Divide & Bind's parameters (docs/method.md §6.3), under the official names of its pipeline
 * (boschresearch/Divide-and-Bind @ 644dfda, pipeline_divide_and_bind_latest.py = DB): `__call__`'s
 * (DB:851-858), the refinement's caps (DB:739-740) and the loss's smoothing (DB:556, 1171-1233), with
 * the official defaults for Stable Diffusion and the project's rules for SDXL and other models. The
 * strength the arena tunes is scale_factor.
 */
import { z } from 'zod';
import { MAX_STEPS, type ModelFamily } from '../../contracts/common-params.ts';
import { plainParams, refinementStepKey, type PlainParams } from '../params.ts';

/** The loss modes of the official pipeline; only tv and max are run here (docs/method.md §6.3). */
const LOSS_MODES = ['tv', 'max', 'tv_bind', 'tv_max'] as const;
export type DivideAndBindLossMode = 'tv' | 'max';

const INDICATORS = ['tv_loss', 'max_attn'] as const;
export type ThresholdIndicator = (typeof INDICATORS)[number];

const shape = {
  scale_factor: z.number().min(0).describe("strength: the latent update's step size is scale_factor * sqrt(linspace(1, 0.5, N)[i]) (DB:852, 1017-1018)"),
  max_iter_to_alter: z.number().int().min(0).max(MAX_STEPS).describe('the latent is updated at the steps i < max_iter_to_alter (DB:851, 1084)'),
  loss_mode: z
    .enum(LOSS_MODES)
    .describe(
      "tv: L = max over the objects of -TV (the smoothed map's total variation, DB:640); max: L = max of -(the map's maximum) (DB:636-638); tv_bind and tv_max are refused (DB:853)",
    ),
  attn_res: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .describe('the maps read: the mean over every head of every cross-attention layer with attn_res x attn_res maps (DB:854, 56-67)'),
  thresholds: z
    .record(refinementStepKey, z.number().min(0))
    .nullable()
    .describe(
      "refinement: at step i (a key), while the threshold indicator is below the value (DB:1071, 751); null: the loss mode's own, tv {0: 0.05, 10: 0.2, 20: 0.3}, max {0: 0.05, 10: 0.5, 20: 0.8} (DB:1144-1169)",
    ),
  threshold_indicator: z
    .enum(INDICATORS)
    .nullable()
    .describe(
      "what refinement compares with the thresholds: tv_loss the smallest TV of the objects, max_attn the smallest maximum (DB:715-718); null: the loss mode's own (tv: tv_loss, max: max_attn)",
    ),
  max_refinement_steps: z
    .number()
    .int()
    .min(1, 'max_refinement_steps must be at least 1 (the reference always makes one refinement iteration)')
    .max(1000)
    .describe('the most refinement iterations at a step other than 0 (DB:739, 782)'),
  max_refinement_steps_init_step: z
    .number()
    .int()
    .min(1, 'max_refinement_steps_init_step must be at least 1 (the reference always makes one refinement iteration)')
    .max(1000)
    .describe('the most refinement iterations at step 0 (DB:740, 777)'),
  smooth_attentions: z.boolean().describe("Gaussian smoothing of each token's map before its TV or maximum (DB:556, 624-628)"),
  sigma: z.number().positive().describe("the smoothing's sigma (DB:1188; its formula makes a Gaussian of standard deviation sigma sqrt 2)"),
  kernel_size: z.number().int().min(1).max(31).describe("the smoothing kernel's side; the reflect padding stays 1 (DB:1187, 622)"),
};

export type DivideAndBindParams = PlainParams<typeof shape>;

/** The official defaults (`__call__`, the refinement's signature, GaussianSmoothing's) for Stable Diffusion. */
const OFFICIAL = {
  scale_factor: 20,
  max_iter_to_alter: 25,
  loss_mode: 'tv' as const,
  attn_res: 16,
  thresholds: null,
  threshold_indicator: null,
  max_refinement_steps: 50,
  max_refinement_steps_init_step: 100,
  smooth_attentions: true,
  sigma: 0.5,
  kernel_size: 3,
};

/** The loss mode's thresholds and indicator when none is given (DB's default_param, DB:1144-1169). */
const MODE_DEFAULTS: Record<DivideAndBindLossMode, { thresholds: Record<string, number>; indicator: ThresholdIndicator }> = {
  tv: { thresholds: { 0: 0.05, 10: 0.2, 20: 0.3 }, indicator: 'tv_loss' },
  max: { thresholds: { 0: 0.05, 10: 0.5, 20: 0.8 }, indicator: 'max_attn' },
};

/** The loss mode the parameters run (the schema refuses the others). */
export const lossModeOf = (params: DivideAndBindParams) => params.loss_mode as DivideAndBindLossMode;

/** The thresholds refinement uses: the given ones, or the loss mode's. */
export const thresholdsOf = (params: DivideAndBindParams): Record<string, number> => params.thresholds ?? MODE_DEFAULTS[lossModeOf(params)].thresholds;

/** The indicator refinement compares: the given one, or the loss mode's. */
export const indicatorOf = (params: DivideAndBindParams): ThresholdIndicator => params.threshold_indicator ?? MODE_DEFAULTS[lossModeOf(params)].indicator;

/** Why a loss mode of the official pipeline is not run here. */
const REFUSED_MODES: Record<string, string> = {
  tv_bind:
    "loss_mode tv_bind is not implemented: its bind term needs the attribute (colour) words' token positions (the official color_indices) and the 32x32 and 64x64 maps (DB:642-687), and the arena's spatial prompts have no colour words; use tv, the official default",
  tv_max: 'loss_mode tv_max is refused as the official pipeline refuses it: its default_param accepts max, tv and tv_bind only (DB:967-970, 1145)',
};

/**
 * SD 1.x and 2.x: the official defaults (D&B has no SD 2.1 switch); SDXL: maps at 32 x 32 (D&B's own
 * rule for attn_res None, width / 32, DB:1012-1013); other models: the official schedule, their map
 * resolution from the model folder's divide-and-bind.json.
 */
function defaults(family: ModelFamily): Partial<DivideAndBindParams> {
  const { attn_res: _res, ...schedule } = OFFICIAL;
  switch (family) {
    case 'sd1':
    case 'sd2':
      return { ...OFFICIAL };
    case 'sdxl':
      return { ...OFFICIAL, attn_res: 32 };
    case 'custom':
      return { ...schedule };
  }
}

export const divideAndBindParams = plainParams({
  shape,
  defaults,
  refine(params, ctx) {
    const refused = REFUSED_MODES[params.loss_mode];
    if (refused) ctx.addIssue({ code: 'custom', path: ['loss_mode'], message: refused });
    else if (params.loss_mode === 'max' && params.threshold_indicator === 'tv_loss')
      ctx.addIssue({
        code: 'custom',
        path: ['threshold_indicator'],
        message:
          'threshold_indicator tv_loss needs loss_mode tv: under max the official loss computes no TV (its indicator would be a constant 0, DB:626, 716)',
      });
  },
});
