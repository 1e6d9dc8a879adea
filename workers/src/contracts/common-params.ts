/**
 * What every method's parameters share (docs/method.md §6): the sampler's parameters (the
 * classifier-free guidance scale, the number of denoising steps and the sampler; the arena compares
 * methods under one sampler, so each method's parameters are these plus its own, and a model's
 * settings of these are the same whatever method runs on it), the size limit, and the error.
 */
import { z } from 'zod';
import { describeZodError } from '../util/read-data-file.ts';

export class MethodParamsError extends Error {}

/** The most bytes of JSON a set of method parameters may take (they are stored with every run). */
export const MAX_PARAMS_JSON_BYTES = 16 * 1024;

/** A problem with the size of some parameters, or null. */
export function paramsSizeProblem(value: unknown): string | null {
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
  return bytes > MAX_PARAMS_JSON_BYTES ? `method parameters are ${bytes} bytes of JSON, over the limit of ${MAX_PARAMS_JSON_BYTES}` : null;
}

/** The message for parameter names a method does not know. */
export function unknownParamsMessage(keys: readonly string[], known: readonly string[]): string {
  return `unknown parameter ${keys.map((k) => `'${k}'`).join(', ')} (known: ${known.join(', ')})`;
}

/** Parses with a schema; a failure is a MethodParamsError starting with `source` and naming the key. */
export function parseParams<S extends z.ZodType>(schema: S, value: unknown, source: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new MethodParamsError(`${source}: ${describeZodError(result.error)}`);
  return result.data;
}

export const MODEL_FAMILIES = ['sd1', 'sd2', 'sdxl', 'custom'] as const;
/** Stable Diffusion 1.x, 2.x, XL, or any other model, whose defaults come from its folder's files. */
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

export const SCHEDULERS = ['ddpm', 'ddim', 'euler'] as const;

/** The most denoising steps a run may ask for: the schedulers' 1000 training timesteps. */
export const MAX_STEPS = 1000;

export const stepsSchema = z.number().int().min(1).max(MAX_STEPS);

/**
 * How forms show a parameter (JSON Schema annotations, read by the web app's submit form): what it
 * does, and `x-order` for the parameters that matter most, shown first in that order; the rest are advanced.
 */
export const first = (order: number, description: string) => ({ description, 'x-order': order });

export const samplerParamShape = {
  cfg_scale: z.number().min(0).meta(first(3, 'classifier-free guidance scale w')),
  steps: stepsSchema.meta(first(4, "denoising steps (the reference's num_inference_steps)")),
  scheduler: z.enum(SCHEDULERS).meta(first(5, "ddpm and ddim with trailing spacing (the reference's), or euler")),
};

export const SAMPLER_PARAM_NAMES = Object.keys(samplerParamShape) as Array<keyof typeof samplerParamShape>;

export type SamplerParams = z.output<z.ZodObject<typeof samplerParamShape>>;

/**
 * A family's sampler (docs/method.md §1): 50 DDPM steps, CFG 7.5 for SD 1.x/2.x and 5.0 for SDXL; a
 * custom model has no default CFG scale (its infsplign.json sets it).
 */
export function samplerDefaults(family: ModelFamily): Partial<SamplerParams> {
  const common = { steps: 50, scheduler: 'ddpm' } as const;
  switch (family) {
    case 'sd1':
    case 'sd2':
      return { ...common, cfg_scale: 7.5 };
    case 'sdxl':
      return { ...common, cfg_scale: 5.0 };
    case 'custom':
      return { ...common };
  }
}
