/**
 * CONFORM's parameters (docs/method.md §6.4), under the official names of its pipeline's `__call__`
 * (gemlab-vt/CONFORM pipeline_conform.py = CF, :881-915), with the official defaults for Stable
 * Diffusion 1.x / 2.x and the project's rules for SDXL and other models. The strength the arena
 * tunes is scale_factor. The step size's linspace(1.0, 0.5) is fixed in the reference (CF:1009), not
 * a parameter.
 */
import { z } from 'zod';
import { MAX_STEPS, type ModelFamily } from '../../contracts/common-params.ts';
import { plainParams, type PlainParams } from '../params.ts';

const stepIndex = z.number().int().min(0).max(MAX_STEPS);

const shape = {
  scale_factor: z.number().min(0).describe("strength: the latent update's step size is scale_factor * sqrt(linspace(1.0, 0.5, N)[i]) (CF:904, 1009-1010)"),
  max_iter_to_alter: stepIndex.describe('the latent is updated at the steps i < max_iter_to_alter (CF:901, 1088)'),
  iterative_refinement_steps: z
    .array(stepIndex)
    .max(MAX_STEPS)
    .describe('the steps that refine: refinement_steps updates, each from a new evaluation, whatever the loss (CF:903, 1068)'),
  refinement_steps: z.number().int().min(0).max(1000).describe("the refinement's number of iterations (CF:902, 809)"),
  attn_res: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .describe('the maps read: the mean over every head of every cross-attention layer with attn_res x attn_res maps (CF:905, 69, 85-97)'),
  do_smoothing: z.boolean().describe("Gaussian smoothing of each token's map before it becomes an embedding (CF:907)"),
  smoothing_kernel_size: z.number().int().min(1).max(31).describe("the smoothing kernel's side; the reflect padding stays 1 (CF:908, 719)"),
  smoothing_sigma: z.number().positive().describe("the smoothing's sigma (CF:909; its formula makes a Gaussian of standard deviation sigma sqrt 2)"),
  temperature: z.number().positive().describe("the NT-Xent loss's temperature (CF:910)"),
  softmax_normalize: z.boolean().describe('softmax of 100 x the maps over the text columns [1:-1] before the embeddings (CF:911, 689-692)'),
  softmax_normalize_attention_maps: z.boolean().describe('softmax of 100 x each embedding over its pixels (CF:912, 724-726)'),
  add_previous_attention_maps: z
    .boolean()
    .describe("the previous step's maps of the same tokens join the embeddings, each in its token's class (CF:913, 1100-1104, 729-746)"),
};

export type ConformParams = PlainParams<typeof shape>;

/** The official defaults (`__call__`'s signature, CF:900-915) for SD 1.x. */
const OFFICIAL = {
  scale_factor: 20,
  max_iter_to_alter: 25,
  iterative_refinement_steps: [0, 10, 20],
  refinement_steps: 20,
  attn_res: 16,
  do_smoothing: true,
  smoothing_kernel_size: 3,
  smoothing_sigma: 0.5,
  temperature: 0.5,
  softmax_normalize: true,
  softmax_normalize_attention_maps: false,
  add_previous_attention_maps: true,
};

/**
 * SD 1.x and 2.x: the official defaults (the reference is the same for both); SDXL: maps at 32 x 32
 * (attn_res None gives width / 32, CF:1003-1004); other models: the official schedule and loss, their
 * map resolution from the model folder's conform.json.
 */
function defaults(family: ModelFamily): Partial<ConformParams> {
  const { attn_res: _res, ...rest } = OFFICIAL;
  const official = { ...rest, iterative_refinement_steps: [...OFFICIAL.iterative_refinement_steps] };
  switch (family) {
    case 'sd1':
    case 'sd2':
      return { ...official, attn_res: OFFICIAL.attn_res };
    case 'sdxl':
      return { ...official, attn_res: 32 };
    case 'custom':
      return official;
  }
}

/** Refinement steps past the sampler's last are never reached (as in the reference: its defaults refine at 20 under any number of steps). */
export const conformParams = plainParams({ shape, defaults });
