/**
 * The baseline: the model's own sampling with classifier-free guidance and no loss (docs/method.md §1
 * with s = 0). Its parameters are the sampler's; its identity keeps InfSplign's s = 0 as
 * `guidance_weight: 0`, so a baseline run's configuration hash is what it always was.
 */
import { z } from 'zod';
import { parseParams, samplerParamShape, type SamplerParams } from '../../contracts/common-params.ts';
import type { MethodDefinition } from '../method.ts';
import { plainParams } from '../params.ts';

const sampler = plainParams({ shape: {}, defaults: () => ({}) });

/** guidance_weight 0 is accepted as the baseline's own value (its canonical form carries it); any other weight is not a baseline. */
const partial = z.preprocess((value, ctx) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !('guidance_weight' in value)) return value;
  const { guidance_weight: weight, ...rest } = value as Record<string, unknown>;
  if (weight !== 0)
    ctx.addIssue({
      code: 'custom',
      input: weight,
      path: ['guidance_weight'],
      message: 'the baseline samples without guidance (0); a weight belongs to a guided method such as infsplign',
    });
  return rest;
}, sampler.partial) as unknown as z.ZodType<Record<string, unknown>>;

export const baseline: MethodDefinition<SamplerParams> = {
  name: 'baseline',
  description: 'Plain sampling with classifier-free guidance and no spatial loss (docs/method.md §1 with s = 0).',
  guidance: null,
  params: {
    ...sampler,
    partial,
    resolve: (defaults, overrides, source, family) => sampler.resolve(defaults, parseParams(partial, overrides, source), source, family),
    canonical: (params) => ({ guidance_weight: 0, ...sampler.canonical(params as Parameters<typeof sampler.canonical>[0]) }),
    canonicalSchema: z.strictObject({ guidance_weight: z.literal(0), ...samplerParamShape }),
  },
};
