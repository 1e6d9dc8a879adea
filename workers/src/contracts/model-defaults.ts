/**
 * A model's defaults for every method (docs/method.md §6): its sampler settings (cfg_scale, steps,
 * scheduler), which every method shares, and each method's own defaults for it. A model folder holds
 * them in `infsplign.json` (InfSplign's parameters and the model's sampler settings) and
 * `<method>.json` for any other method (diffusion/model-folder.ts); the seed stores them per model.
 * A method's defaults for a model are its family's, replaced key by key by the model's.
 */
import { z } from 'zod';
import type { AnyMethod } from '../methods/method.ts';
import { samplerDefaults, type ModelFamily } from './common-params.ts';

export const modelDefaultsSchema = z.strictObject({
  /** cfg_scale, steps, scheduler as the model sets them */
  sampler: z.record(z.string(), z.unknown()),
  /** per method name, the parameters the model sets (validated by the method when read) */
  methods: z.record(z.string(), z.record(z.string(), z.unknown())),
});
export type ModelDefaults = z.output<typeof modelDefaultsSchema>;

/** A method's defaults for a model: the family's sampler and method defaults, then the model's sampler settings and its own for the method. */
export function methodDefaults(method: AnyMethod, family: ModelFamily, model: ModelDefaults | null): Record<string, unknown> {
  return { ...samplerDefaults(family), ...method.params.defaults(family), ...model?.sampler, ...model?.methods[method.name] };
}

/** A method's full parameters on a model: its defaults there replaced key by key by `overrides` (untrusted). */
export function resolveMethodParams(
  method: AnyMethod,
  family: ModelFamily,
  model: ModelDefaults | null,
  overrides: unknown,
  source: string,
): Record<string, unknown> & { cfg_scale: number; steps: number; scheduler: 'ddpm' | 'ddim' | 'euler' } {
  return method.params.resolve(methodDefaults(method, family, model), overrides, source, family);
}
