/**
 * The InfSplign method parameters (docs/method.md §4): one definition for the CLI's `--params`, a model
 * folder's `infsplign.json`, the API's validation and the configuration hash, so that a value means
 * the same thing, and is checked the same way, wherever it enters.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { layerPatternProblem, MAX_LAYER_PATTERN_LENGTH } from '../guidance/layers.ts';
import { describeZodError } from '../util/read-data-file.ts';

export const MODEL_FAMILIES = ['sd1', 'sd2', 'sdxl', 'custom'] as const;
/** Stable Diffusion 1.x, 2.x, XL, or any other model, whose defaults come from its `infsplign.json`. */
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

export const METHODS = ['baseline', 'infsplign'] as const;
export type Method = (typeof METHODS)[number];

export const SCHEDULERS = ['ddpm', 'ddim', 'euler'] as const;
/** docs/method.md §2.4's phi. */
export const ACTIVATIONS = ['gelu', 'relu', 'leaky_relu', 'squared_relu', 'sigmoid', 'softplus', 'silu', 'selu', 'celu', 'elu', 'hardtanh', 'linear', 'softsign', 'logrelu'] as const;
/** docs/method.md §2.5; `none` makes L_energy = 0. */
export const STRATEGIES = ['diff', 'dec', 'both', 'inc', 'none'] as const;
export const ENERGIES = ['var'] as const;
export const OBJECT_TOKEN_CHOICES = ['last_word', 'whole_phrase'] as const;
export const TOKEN_ALIGNMENTS = ['correct', 'reference'] as const;

/** The most denoising steps a run may ask for: the schedulers' 1000 training timesteps. */
export const MAX_STEPS = 1000;

/** The most layer patterns a configuration may list. */
export const MAX_LAYER_PATTERNS = 100;
/** The most bytes of JSON a set of method parameters may take (they are stored with every run). */
export const MAX_PARAMS_JSON_BYTES = 16 * 1024;

/**
 * A layer pattern as the guidance code reads it (guidance/layers.ts: docs/method.md module paths, `*`
 * within a segment, `{a,b}` alternatives; never a regular expression); checked here for what can be
 * checked without a model: its length and syntax.
 */
const layerPatternSchema = z
  .string()
  .max(MAX_LAYER_PATTERN_LENGTH, `a layer pattern is at most ${MAX_LAYER_PATTERN_LENGTH} characters`)
  .trim()
  .min(1, 'a layer pattern must not be empty')
  .superRefine((pattern, ctx) => {
    if (pattern.length === 0 || pattern.length > MAX_LAYER_PATTERN_LENGTH) return; // said above
    const problem = layerPatternProblem(pattern);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const stepIndex = z.number().int().min(0).max(MAX_STEPS);

/**
 * How forms show a parameter (JSON Schema annotations, read by the web app's submit form): what it
 * does, and `x-order` for the parameters that matter most, shown first in that order; the rest are advanced.
 */
const first = (order: number, description: string) => ({ description, 'x-order': order });

const paramShape = {
  guidance_weight: z.number().meta(first(1, 'InfSplign step size s: how hard each guided step pushes the latent (0 is the baseline)')),
  cfg_scale: z.number().min(0).meta(first(3, 'classifier-free guidance scale')),
  steps: z.number().int().min(1).max(MAX_STEPS).meta(first(4, 'denoising steps')),
  scheduler: z.enum(SCHEDULERS).meta(first(5, 'the sampler')),
  /** [start, end): the steps i with start <= i < end are guided. */
  guide_steps: z.tuple([stepIndex, stepIndex]).refine(([start, end]) => start <= end, 'the start of [start, end) must not exceed its end').meta(first(2, 'the guided steps [start, end); all of them when unset')),
  layers: z.array(layerPatternSchema).min(1, 'at least one layer pattern is needed').max(MAX_LAYER_PATTERNS, `at most ${MAX_LAYER_PATTERNS} layer patterns`).describe('cross-attention layers whose maps the loss reads: module path patterns, * within a segment, {a,b} alternatives'),
  map_size: z.number().int().min(1).max(1024).describe('side of the square the attention maps are resized to'),
  loss_type: z.enum(ACTIVATIONS).describe('activation phi of the spatial loss'),
  alpha: z.number().describe('scale inside the spatial loss: phi(alpha (margin - centroid distance))'),
  margin: z.number().describe('the centroid distance the spatial loss asks for: phi(alpha (margin - distance))'),
  leaky_relu_slope: z.number().describe('negative slope of leaky_relu'),
  energy_loss: z.enum(ENERGIES).describe('energy of each object map (var: its variance)'),
  strategy: z.enum(STRATEGIES).describe('how the two energies combine: diff balances them, dec makes both maps compact'),
  top_loss: z.enum(ENERGIES).describe('energy on the top layer (the presence pair)'),
  top_strategy: z.enum(STRATEGIES).describe('how the top layer combines its energies'),
  lambda_spatial: z.number().describe('weight of the spatial loss'),
  lambda_presence: z.number().describe('weight of the top layer energy term'),
  lambda_balance: z.number().describe('weight of the other layers energy term'),
  object_tokens: z.enum(OBJECT_TOKEN_CHOICES).describe("which tokens stand for an object: its phrase's last word or the whole phrase"),
  token_alignment: z.enum(TOKEN_ALIGNMENTS).describe("token positions as counted correctly or as the reference's slicing counts them"),
};

export const PARAM_NAMES = Object.keys(paramShape) as Array<keyof typeof paramShape>;

const strictParams = z.strictObject(paramShape, {
  error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown parameter ${issue.keys.map((k) => `'${k}'`).join(', ')} (known: ${PARAM_NAMES.join(', ')})` : undefined),
});

/** Some parameters as an object schema (to pick from, or to describe as JSON Schema). */
export const partialMethodParamsObject = strictParams.partial();

/**
 * Some parameters, e.g. `--params`, `infsplign.json` or a submission's: unknown keys are errors,
 * and so is more than MAX_PARAMS_JSON_BYTES of JSON, before anything else is looked at.
 */
export const partialMethodParamsSchema = z.preprocess((value, ctx) => {
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
  if (bytes > MAX_PARAMS_JSON_BYTES) ctx.addIssue({ code: 'custom', input: value, message: `method parameters are ${bytes} bytes of JSON, over the limit of ${MAX_PARAMS_JSON_BYTES}` });
  return value;
}, partialMethodParamsObject);

/** Every parameter, consistent with each other. */
export const methodParamsSchema = strictParams.superRefine((params, ctx) => {
  const [start, end] = params.guide_steps;
  if (end > params.steps) {
    ctx.addIssue({ code: 'custom', path: ['guide_steps'], message: `[${start}, ${end}) goes past the last step (steps is ${params.steps})` });
  }
});

export type MethodParams = z.output<typeof methodParamsSchema>;
export type PartialMethodParams = z.output<typeof partialMethodParamsSchema>;

export class MethodParamsError extends Error {}

/** Validates some parameters; `source` (e.g. a file, `--params`) starts the error message. */
export function parsePartialParams(value: unknown, source: string): PartialMethodParams {
  const result = partialMethodParamsSchema.safeParse(value);
  if (!result.success) throw new MethodParamsError(`${source}: ${describeZodError(result.error)}`);
  return result.data;
}

/** What docs/method.md §1/§4 fix for every family. */
const COMMON_DEFAULTS = {
  guidance_weight: 1000,
  steps: 50,
  scheduler: 'ddpm',
  map_size: 64,
  loss_type: 'gelu',
  alpha: 0.75,
  margin: 0.25,
  leaky_relu_slope: 0.05,
  energy_loss: 'var',
  strategy: 'diff',
  top_loss: 'var',
  top_strategy: 'dec',
  lambda_spatial: 1,
  lambda_presence: 1,
  lambda_balance: 1,
  object_tokens: 'last_word',
  token_alignment: 'correct',
} as const satisfies PartialMethodParams;

/**
 * The Stable Diffusion families reproduce the reference, quirks included (docs/method.md §2.2): its
 * token slicing is their default. Other models (the bundled one) have no published numbers to match.
 */
const REFERENCE_DEFAULTS = { ...COMMON_DEFAULTS, token_alignment: 'reference' } as const satisfies PartialMethodParams;

const SD_LAYERS = ['up_blocks.{1,2}.attentions.{0,1,2}.transformer_blocks.0.attn2'];
const SDXL_LAYERS = ['up_blocks.0.attentions.1.transformer_blocks.{1,2,3}.attn2'];

/**
 * The defaults of a model family (docs/method.md §1, §2.1, §4). A custom model has no default CFG scale
 * or layers (layer names depend on its architecture): its `infsplign.json` or the caller sets them.
 * `guide_steps` is left out everywhere: unless set, it is every step, [0, steps).
 */
export function defaultParams(family: ModelFamily): PartialMethodParams {
  switch (family) {
    case 'sd1':
    case 'sd2':
      return { ...REFERENCE_DEFAULTS, cfg_scale: 7.5, layers: [...SD_LAYERS] };
    case 'sdxl':
      return { ...REFERENCE_DEFAULTS, cfg_scale: 5.0, layers: [...SDXL_LAYERS] };
    case 'custom':
      return { ...COMMON_DEFAULTS };
  }
}

/**
 * The full parameters: `overrides` (untrusted, e.g. `--params`) replace the model's defaults key by
 * key; every key must then have a value. Errors start with `source` and name the key.
 */
export function resolveParams(modelDefaults: PartialMethodParams, overrides: unknown = {}, source = 'method parameters'): MethodParams {
  const merged: PartialMethodParams = { ...modelDefaults, ...parsePartialParams(overrides, source) };
  const missing = PARAM_NAMES.find((name) => name !== 'guide_steps' && merged[name] === undefined);
  if (missing) throw new MethodParamsError(`${source}: ${missing}: no default for this model; set it in the model folder's infsplign.json or in the parameters`);
  const complete = { ...merged, guide_steps: merged.guide_steps ?? [0, merged.steps!] };
  const result = methodParamsSchema.safeParse(complete);
  if (!result.success) throw new MethodParamsError(`${source}: ${describeZodError(result.error)}`);
  return result.data;
}

/** The settings a baseline run depends on: plain sampling, no loss. */
export interface BaselineParams {
  guidance_weight: 0;
  cfg_scale: number;
  steps: number;
  scheduler: MethodParams['scheduler'];
}

/**
 * The version of what the sampler computes for given parameters, part of every run's identity, so a
 * finished run made under older defaults is never reused as if it were made under the current ones.
 * 1: the first release. 2: DDIM with trailing spacing, the gradient under Euler taken with respect
 * to the unscaled latent, "on top of" / "on bottom of" without a spatial term (docs/method.md §1, §2.4).
 */
export const SAMPLER_VERSION = 2;

export type CanonicalConfig =
  | { method: 'baseline'; sampler_version: number; params: BaselineParams }
  | { method: 'infsplign'; sampler_version: number; params: MethodParams };

/**
 * The configuration that identifies a run's method. A baseline is sampling with s = 0 (docs/method.md
 * §1): loss settings change nothing it computes, so they are not part of its identity. Layer
 * patterns are a set (the loss averages over the layers they select), so they are sorted.
 */
export function canonicalConfig(method: Method, params: MethodParams): CanonicalConfig {
  const checked = methodParamsSchema.parse(params);
  const sampler_version = SAMPLER_VERSION;
  if (method === 'baseline') {
    const { cfg_scale, steps, scheduler } = checked;
    return { method, sampler_version, params: { guidance_weight: 0, cfg_scale, steps, scheduler } };
  }
  return { method, sampler_version, params: { ...checked, layers: [...new Set(checked.layers)].sort() } };
}

/**
 * JSON with the keys of every object sorted (by code unit, at every depth), so equal values always
 * give equal text. Written out rather than via a JSON.stringify replacer because objects list
 * integer-like keys first whatever order they were inserted in.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 (hex) of the canonical configuration's sorted-key JSON (docs/method.md §4). */
export function configHash(config: CanonicalConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}
