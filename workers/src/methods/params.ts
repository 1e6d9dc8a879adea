/**
 * The parameter contract of a method whose parameters are plain values (no aliases): the sampler's
 * parameters plus the method's own, each with a description, defaults per model family, and checks
 * across parameters. InfSplign's richer contract (aliases, refused options) is its own
 * (contracts/method-params.ts); every other method is built with `plainParams`.
 */
import { z } from 'zod';
import {
  MethodParamsError,
  paramsSizeProblem,
  parseParams,
  SAMPLER_PARAM_NAMES,
  samplerParamShape,
  unknownParamsMessage,
  type ModelFamily,
  type SamplerParams,
} from '../contracts/common-params.ts';
import type { MethodParamsSpec } from './method.ts';

export interface PlainParamsOptions<S extends z.ZodRawShape> {
  /** the method's own parameters, each `.describe`d (the API's JSON Schema shows the descriptions) */
  shape: S;
  /** its own defaults for a model family (the sampler's come from the model) */
  defaults(family: ModelFamily): Partial<z.output<z.ZodObject<S>>>;
  /** checks across parameters, the sampler's included (e.g. a step index below `steps`) */
  refine?(params: SamplerParams & z.output<z.ZodObject<S>>, ctx: z.RefinementCtx): void;
}

/** A key of a method's refinement thresholds: a step index (0, 1, 2, ...), as JSON object keys are strings. */
export const refinementStepKey = z.string().regex(/^(0|[1-9]\d{0,3})$/, 'a refinement step is a step index (0, 1, 2, ...)');

export type PlainParams<S extends z.ZodRawShape> = SamplerParams & z.output<z.ZodObject<S>>;

export function plainParams<S extends z.ZodRawShape>(options: PlainParamsOptions<S>): MethodParamsSpec<PlainParams<S>> {
  const own = Object.keys(options.shape);
  const clash = own.find((name) => (SAMPLER_PARAM_NAMES as readonly string[]).includes(name));
  if (clash) throw new Error(`a method's own parameter '${clash}' has the name of a sampler parameter`);
  const known = [...SAMPLER_PARAM_NAMES, ...own];
  const error = (issue: { code: string; keys?: string[] }) => (issue.code === 'unrecognized_keys' ? unknownParamsMessage(issue.keys ?? [], known) : undefined);
  const strict = z.strictObject({ ...samplerParamShape, ...options.shape }, { error });
  const full = (options.refine ? strict.superRefine((params, ctx) => options.refine!(params as PlainParams<S>, ctx)) : strict) as unknown as z.ZodType<
    PlainParams<S>
  >;
  const schema = strict.partial();
  const partial = z.preprocess((value, ctx) => {
    const tooLarge = paramsSizeProblem(value);
    if (tooLarge) ctx.addIssue({ code: 'custom', input: value, message: tooLarge });
    return value;
  }, schema) as unknown as z.ZodType<Record<string, unknown>>;
  return {
    schema,
    partial,
    defaults: (family) => ({ ...options.defaults(family) }),
    resolve(defaults, overrides, source) {
      const merged: Record<string, unknown> = { ...defaults, ...parseParams(partial, overrides, source) };
      const missing = known.find((name) => merged[name] === undefined);
      if (missing)
        throw new MethodParamsError(
          `${source}: ${missing}: no default for this model; set it in the parameters or the model folder's files (docs/method.md §6)`,
        );
      return parseParams(full, Object.fromEntries(known.map((name) => [name, merged[name]])), source);
    },
    canonical: (params) => full.parse(Object.fromEntries(known.map((name) => [name, (params as Record<string, unknown>)[name]]))) as Record<string, unknown>,
    canonicalSchema: full as unknown as z.ZodType<Record<string, unknown>>,
  };
}
