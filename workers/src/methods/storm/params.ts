/**
 * STORM's parameters (docs/method.md §6.5), under the official names of its config.py (STC) and
 * pipeline (ST), with the official defaults for Stable Diffusion 1.x / 2.x and the project's rules for
 * other models. The strength the arena tunes is scale_factor.
 */
import { z } from 'zod';
import { MAX_STEPS, type ModelFamily } from '../../contracts/common-params.ts';
import { plainParams, type PlainParams } from '../params.ts';

const stepKey = z.string().regex(/^(0|[1-9]\d{0,3})$/, 'a refinement step is a step index (0, 1, 2, ...)');

const shape = {
  scale_factor: z.number().min(0).describe("strength: the latent update's step size is scale_factor * sqrt(linspace(scale_range)[i]) (STC:30, ST:788)"),
  scale_range: z
    .tuple([z.number().min(0), z.number().min(0)])
    .describe("[start, end] of the linspace over the sampler's steps under the step size's square root (STC:32)"),
  max_iter_to_alter: z
    .number()
    .int()
    .min(0)
    .max(MAX_STEPS)
    .describe(
      'the latent is updated, and may be refined, at the steps 0 < i < max_iter_to_alter (STC:22; the pipeline writes the default 25 as a literal, ST:819, 840)',
    ),
  thresholds: z
    .record(stepKey, z.number().min(0).max(1))
    .describe(
      "refinement: at step i (a key), when the loss exceeds 1 - threshold and the relation's centroid gap is positive, updates while it does, at most max_refinement_steps (STC:28, ST:819)",
    ),
  max_refinement_steps: z
    .number()
    .int()
    .min(1, 'max_refinement_steps must be at least 1 (the reference always makes one refinement iteration)')
    .max(1000)
    .describe('the most refinement iterations at a step (ST:260)'),
  max_norm: z.number().positive().describe("each update's gradient is rescaled to this L2 norm (over the latent) when its norm exceeds it (ST:235-243)"),
  attention_res: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .describe(
      "the maps read: the mean over every head of every cross-attention layer with attention_res x attention_res maps (STC:24); STORM's targets lie on a fixed 16 x 16 grid, so the smoothed maps must be 16 x 16",
    ),
  smooth_attentions: z.boolean().describe("Gaussian smoothing of each object's map (STC:34)"),
  sigma: z.number().positive().describe("the smoothing's sigma (STC:36; its formula makes a Gaussian of standard deviation sigma sqrt 2)"),
  kernel_size: z.number().int().min(1).max(31).describe("the smoothing kernel's side; the reflect padding stays 1 (STC:38, ST:466)"),
  normalize_eot: z
    .boolean()
    .describe(
      "in the step's main evaluations, softmax over the prompt's words only ([1:eot]); refinement evaluations never do (ST:286); the reference sets it for SD 2.1 (its sd_2_1)",
    ),
};

export type StormParams = PlainParams<typeof shape>;

/** The official defaults (config.py RunConfig, which run.py passes; the refinement's and the update's signatures) for SD 1.x. */
const OFFICIAL = {
  scale_factor: 20,
  scale_range: [1, 0.5] as [number, number],
  max_iter_to_alter: 25,
  thresholds: { 0: 0.9, 5: 0.95, 10: 0.99, 15: 0.995, 20: 0.999 },
  max_refinement_steps: 30,
  max_norm: 1,
  attention_res: 16,
  smooth_attentions: true,
  sigma: 0.5,
  kernel_size: 3,
  normalize_eot: false,
};

/**
 * SD 1.x: the official defaults; SD 2.x: with normalize_eot (the reference's sd_2_1); SDXL: 16 x 16
 * maps, which SDXL at 1024 px does not have (its shallowest cross-attention maps are 32 x 32), so a run
 * fails naming them; other models: the official schedule, their map resolution and normalize_eot from
 * the model folder's storm.json.
 */
function defaults(family: ModelFamily): Partial<StormParams> {
  const { attention_res: _res, normalize_eot: _eot, ...schedule } = OFFICIAL;
  switch (family) {
    case 'sd1':
      return { ...OFFICIAL, thresholds: { ...OFFICIAL.thresholds } };
    case 'sd2':
    case 'sdxl':
      return { ...OFFICIAL, thresholds: { ...OFFICIAL.thresholds }, normalize_eot: true };
    case 'custom':
      return { ...schedule, thresholds: { ...OFFICIAL.thresholds } };
  }
}

export const stormParams = plainParams({ shape, defaults });
