/**
 * Attend-and-Excite's parameters (docs/method.md §6.2), under the official names of its config.py
 * (AEC) and pipeline (AE), with the official defaults for Stable Diffusion 1.x / 2.x and the project's
 * rules for SDXL and other models (docs/method.md §6.2, "Other models"). The strength the arena tunes
 * is scale_factor.
 */
import { z } from 'zod';
import { MAX_STEPS, type ModelFamily } from '../../contracts/common-params.ts';
import { plainParams, refinementStepKey, type PlainParams } from '../params.ts';

const shape = {
  scale_factor: z.number().min(0).describe("strength: the latent update's step size is scale_factor * sqrt(linspace(scale_range)[i]) (AEC:31, AE:500)"),
  scale_range: z
    .tuple([z.number().min(0), z.number().min(0)])
    .describe("[start, end] of the linspace over the sampler's steps under the step size's square root (AEC:33)"),
  max_iter_to_alter: z.number().int().min(0).max(MAX_STEPS).describe('the latent is updated at the steps i < max_iter_to_alter (AEC:23, AE:554)'),
  thresholds: z
    .record(refinementStepKey, z.number().min(0).max(1))
    .describe('refinement: at step i (a key), while the loss exceeds 1 - threshold, at most max_refinement_steps updates (AEC:29, AE:534)'),
  max_refinement_steps: z
    .number()
    .int()
    .min(1, 'max_refinement_steps must be at least 1 (the reference always makes one refinement iteration)')
    .max(1000)
    .describe('the most refinement iterations at a step (AE:277)'),
  attention_res: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .describe('the maps read: the mean over every head of every cross-attention layer with attention_res x attention_res maps (AEC:25, AE:231)'),
  smooth_attentions: z.boolean().describe("Gaussian smoothing of each token's map before its maximum (AEC:35)"),
  sigma: z.number().positive().describe("the smoothing's sigma (AEC:37; its formula makes a Gaussian of standard deviation sigma sqrt 2)"),
  kernel_size: z.number().int().min(1).max(31).describe("the smoothing kernel's side; the reflect padding stays 1 (AEC:39, AE:218)"),
  normalize_eot: z
    .boolean()
    .describe(
      "softmax over the prompt's words only ([1:eot]); false keeps the end and padding tokens in it ([1:-1]); the reference sets it for SD 2.1 (AE:527)",
    ),
};

export type AttendAndExciteParams = PlainParams<typeof shape>;

/** The official defaults (config.py RunConfig, AE's refinement signature) for SD 1.x. */
const OFFICIAL = {
  scale_factor: 20,
  scale_range: [1, 0.5] as [number, number],
  max_iter_to_alter: 25,
  thresholds: { 0: 0.05, 10: 0.5, 20: 0.8 },
  max_refinement_steps: 20,
  attention_res: 16,
  smooth_attentions: true,
  sigma: 0.5,
  kernel_size: 3,
  normalize_eot: false,
};

/**
 * SD 1.x: the official defaults; SD 2.x: with normalize_eot (the reference's sd_2_1); SDXL: maps at
 * 32 x 32 (its 16 x 16 of SD at 1024 px: width / 32, D&B's and CONFORM's own rule) and normalize_eot
 * (its tokenizers pad with "!", as SD 2.x's); other models: the official schedule, their map
 * resolution and normalize_eot from the model folder's attend-and-excite.json.
 */
function defaults(family: ModelFamily): Partial<AttendAndExciteParams> {
  const { attention_res: _res, normalize_eot: _eot, ...schedule } = OFFICIAL;
  switch (family) {
    case 'sd1':
      return { ...OFFICIAL, thresholds: { ...OFFICIAL.thresholds } };
    case 'sd2':
      return { ...OFFICIAL, thresholds: { ...OFFICIAL.thresholds }, normalize_eot: true };
    case 'sdxl':
      return { ...OFFICIAL, thresholds: { ...OFFICIAL.thresholds }, attention_res: 32, normalize_eot: true };
    case 'custom':
      return { ...schedule, thresholds: { ...OFFICIAL.thresholds } };
  }
}

/** Thresholds at steps past the sampler's last are never reached (as in the reference: its defaults refine at 20 under any number of steps). */
export const attendAndExciteParams = plainParams({ shape, defaults });
