/**
 * InfSplign's parameters (docs/method.md §4): one definition for the CLI's `--params`, a model
 * folder's `infsplign.json`, the API's validation and the configuration hash, so that a value means
 * the same thing, and is checked the same way, wherever it enters. The sampler's parameters
 * (cfg_scale, steps, scheduler) are every method's (common-params.ts) and part of these.
 */
import { z } from 'zod';
import { layerPatternProblem, MAX_LAYER_PATTERN_LENGTH } from '../guidance/layers.ts';
import {
  MAX_STEPS,
  MethodParamsError,
  paramsSizeProblem,
  parseParams,
  first,
  samplerParamShape,
  stepsSchema,
  unknownParamsMessage,
  type ModelFamily,
} from './common-params.ts';
import { refusedOptionMessage } from './refused-options.ts';

export { MAX_PARAMS_JSON_BYTES, MAX_STEPS, MethodParamsError, MODEL_FAMILIES, SCHEDULERS, type ModelFamily } from './common-params.ts';

/** docs/method.md §2.4's phi: the 15 activations of the reference's spatial_loss. */
export const ACTIVATIONS = [
  'gelu',
  'relu',
  'leaky_relu',
  'squared_relu',
  'sigmoid',
  'softplus',
  'silu',
  'selu',
  'celu',
  'elu',
  'hardtanh',
  'linear',
  'softsign',
  'logrelu',
  'rrelu',
] as const;
/** docs/method.md §2.5's L_energy; `none` (the reference's "") makes it 0. */
export const STRATEGIES = ['diff', 'dec', 'both', 'inc', 'std', 'second', 'entgibs', 'mutual', 'none'] as const;
/** docs/method.md §2.5's per-object energy E_k; `none` (the reference's "") makes it 0. */
export const ENERGIES = ['var', 'log', 'entropy', 'prob', 'mean', 'gibs', 'gibsent', 'lin', 'square', 'exp', 'none'] as const;
export const OBJECT_TOKEN_CHOICES = ['last_word', 'whole_phrase'] as const;
export const TOKEN_ALIGNMENTS = ['correct', 'reference'] as const;

/** The most layer patterns a configuration may list. */
export const MAX_LAYER_PATTERNS = 100;

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
 * One of the reference's names for an energy or a strategy. The reference silently computes 0 for a
 * name it does not know, so an unknown one is refused (a misspelling must not become "none"); its
 * own empty value "" is read as `none`.
 */
function referenceChoice<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  const choice = z.enum(values, {
    error: (issue) => `${JSON.stringify(issue.input)} is not ${what} the reference knows (${values.join(', ')}; "" is none): it would silently compute 0 there`,
  });
  return z.preprocess((value) => (value === '' ? 'none' : value), choice);
}

/** The InfSplign options of the official command line that change the loss (docs/method.md §4.1). */
const officialLossShape = {
  loss_num: z
    .number({ error: 'loss_num must be 1, 2 or 3' })
    .int('loss_num must be an integer (the reference calls int() on it and raises)')
    .min(
      1,
      'loss_num must be 1, 2 or 3: with any other value the reference silently drops the spatial term (self_guide_batch.py spatial_loss); use lambda_spatial 0',
    )
    .max(
      3,
      'loss_num must be 1, 2 or 3: with any other value the reference silently drops the spatial term (self_guide_batch.py spatial_loss); use lambda_spatial 0',
    )
    .describe('1: phi only; 2: + |y1 - y2| for left/right/near, |x1 - x2| for above/below; 3: + half its square'),
  L2_norm: z.boolean().describe('strategies std, second, entgibs compare with 0.5 (a - b)^2 instead of |a - b|'),
  gaussian_smoothing: z.boolean().describe("filter each object map with the reference's 3 x 3 kernel (reflect padding) before its statistics"),
  masked_mean: z
    .boolean()
    .describe('add masked_mean_weight * relu(masked_mean_thresh - mm) to the spatial term, mm the mean of A1 + A2 where it is at least its mean'),
  masked_mean_thresh: z.number().describe('masked_mean threshold (0: no effect)'),
  masked_mean_weight: z.number().describe('masked_mean weight (0: no effect)'),
  object_presence: z
    .boolean()
    .describe('add relu(|Delta| - 0.9) to the spatial term; prompts without a listed relation are refused (the reference raises on them)'),
  no_wt: z.boolean().describe("true: a prompt's loss is the mean over layers; false: 5 times it (the reference's edit weight)"),
};

const paramShape = {
  guidance_weight: z.number().meta(first(1, "s of docs/method.md §1: the weight of d loss / d latent in the noise prediction; 0 is the baseline's sampling")),
  ...samplerParamShape,
  /** [start, end): the steps i with start <= i < end are guided. */
  guide_steps: z
    .tuple([stepIndex, stepIndex])
    .refine(([start, end]) => start <= end, 'the start of [start, end) must not exceed its end')
    .meta(first(2, "[start, end): the steps i with start <= i < end are guided (the reference's sg_t_start, sg_t_end)")),
  layers: z
    .array(layerPatternSchema)
    .min(1, 'at least one layer pattern is needed')
    .max(MAX_LAYER_PATTERNS, `at most ${MAX_LAYER_PATTERNS} layer patterns`)
    .describe('cross-attention layers read, as dotted module paths with * and {a,b} (see num_attn_layers)'),
  map_size: z.number().int().min(1).max(1024).describe('side of the maps the statistics are computed on (the reference: 64)'),
  loss_type: z
    .enum(ACTIVATIONS, {
      error: (issue) =>
        `${JSON.stringify(issue.input)} is not one of the reference's 15 activations (${ACTIVATIONS.join(', ')}): with any other, its spatial_loss raises`,
    })
    .describe('phi of the spatial term (rrelu: its evaluation form, slope 11/48)'),
  alpha: z.number().describe('phi(alpha (margin - Delta))'),
  margin: z.number().describe('phi(alpha (margin - Delta))'),
  leaky_relu_slope: z.number().describe('negative slope of loss_type leaky_relu'),
  energy_loss: referenceChoice(ENERGIES, 'an energy').describe('E_k on layers whose name lacks blocks.1 ("" is none)'),
  strategy: referenceChoice(STRATEGIES, 'a strategy').describe('L_energy from E_1, E_2 on layers whose name lacks blocks.1 ("" is none)'),
  top_loss: referenceChoice(ENERGIES, 'an energy').describe('E_k on layers whose name contains blocks.1 ("" is none)'),
  top_strategy: referenceChoice(STRATEGIES, 'a strategy').describe('L_energy on layers whose name contains blocks.1 ("" is none)'),
  lambda_spatial: z.number().describe('weight of the spatial term'),
  lambda_presence: z.number().describe('weight of the energy term on layers whose name contains blocks.1'),
  lambda_balance: z.number().describe('weight of the energy term on the other layers'),
  ...officialLossShape,
  object_tokens: z.enum(OBJECT_TOKEN_CHOICES).describe("which words of an object's name are searched (last_word: the reference's)"),
  token_alignment: z.enum(TOKEN_ALIGNMENTS).describe("reference: the reference's token slicing; correct: each object its own tokens"),
};

/** The reference's num_attn_layers list (pipeline_batch.py:536-548): its first n are read. */
const REFERENCE_LAYER_BLOCKS = [1, 2, 3];
const REFERENCE_LAYER_ATTENTIONS = [0, 1, 2];
export const MAX_NUM_ATTN_LAYERS = REFERENCE_LAYER_BLOCKS.length * REFERENCE_LAYER_ATTENTIONS.length;

/** Marks each as an alias in its JSON Schema (`x-alias`): forms leave out what is never stored. */
function asAliases<T extends Record<string, z.ZodType>>(shape: T): T {
  return Object.fromEntries(Object.entries(shape).map(([name, schema]) => [name, schema.meta({ 'x-alias': true })])) as T;
}

/**
 * The reference's names for what a parameter above already says, and options with a single value:
 * accepted in parameters, turned into the parameters above by resolveParams, never stored.
 */
const aliasShape = asAliases({
  num_inference_steps: stepsSchema.describe('another name for steps'),
  sg_t_start: z
    .number()
    .int()
    .min(0, 'sg_t_start must be at least 0')
    .max(MAX_STEPS)
    .describe('another way to write guide_steps: the first guided step (default 0)'),
  sg_t_end: z
    .number()
    .int()
    .min(-MAX_STEPS)
    .max(MAX_STEPS)
    .describe('another way to write guide_steps: steps before it are guided; negative or beyond the steps: every step'),
  num_attn_layers: z
    .number()
    .int()
    .min(0, 'num_attn_layers must be at least 0 (the reference reads a negative value as a Python slice from the end of its list)')
    .max(MAX_NUM_ATTN_LAYERS, `num_attn_layers is at most ${MAX_NUM_ATTN_LAYERS}, the length of the reference's list`)
    .describe(
      'another way to write layers (SD 1.x/2.x only): the first n of up_blocks.{1,2,3}.attentions.{0,1,2}.transformer_blocks.0.attn2; 0: every cross-attention layer',
    ),
  centroid_type: z
    .enum(['mean'], {
      error: (issue) =>
        issue.input === 'sg'
          ? "centroid_type 'sg' crashes the reference: it computes _centroid_sg, then appends the undefined obj_energy and raises (self_guide_batch.py:338-346)"
          : `centroid_type ${JSON.stringify(issue.input)}: the reference assigns no centroid for it and raises (self_guide_batch.py:338-345); only 'mean'`,
    })
    .describe('mean, the only value the reference runs'),
  two_objects: z
    .literal(true, {
      error:
        "two_objects false crashes the reference: its single-map branch hands every token's map to the centroid at once and raises (self_guide_batch.py:528-534)",
    })
    .describe('true, the only value the reference runs'),
});

export const PARAM_NAMES = Object.keys(paramShape) as Array<keyof typeof paramShape>;
const ACCEPTED_NAMES = [...PARAM_NAMES, ...Object.keys(aliasShape)];

const unknownKeys = (keys: readonly string[]) => unknownParamsMessage(keys, ACCEPTED_NAMES);
const strictParams = z.strictObject(paramShape, { error: (issue) => (issue.code === 'unrecognized_keys' ? unknownKeys(issue.keys) : undefined) });

/** Some parameters as an object schema (to pick from, or to describe as JSON Schema): the parameters and their aliases. */
export const partialMethodParamsObject = z
  .strictObject({ ...paramShape, ...aliasShape }, { error: (issue) => (issue.code === 'unrecognized_keys' ? unknownKeys(issue.keys) : undefined) })
  .partial();

/**
 * Some parameters, e.g. `--params`, `infsplign.json` or a submission's: more than
 * MAX_PARAMS_JSON_BYTES of JSON is an error before anything else is looked at; an option of the
 * reference that is refused says why (refused-options.ts); other unknown keys are errors.
 */
export const partialMethodParamsSchema = z.preprocess((value, ctx) => {
  const tooLarge = paramsSizeProblem(value);
  if (tooLarge) ctx.addIssue({ code: 'custom', input: value, message: tooLarge });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const kept: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const refused = refusedOptionMessage(key);
    if (refused) ctx.addIssue({ code: 'custom', input: v, path: [key], message: refused });
    else kept[key] = v;
  }
  return kept;
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

/** Validates some parameters; `source` (e.g. a file, `--params`) starts the error message. */
export function parsePartialParams(value: unknown, source: string): PartialMethodParams {
  return parseParams(partialMethodParamsSchema, value, source);
}

/** What docs/method.md §1/§4 fix for every family: the reference's command-line defaults. */
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
  loss_num: 1,
  L2_norm: false,
  gaussian_smoothing: false,
  masked_mean: false,
  masked_mean_thresh: 0,
  masked_mean_weight: 0,
  object_presence: false,
  no_wt: true,
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

/** `{a,b}` for several texts, the text itself for one. */
const alternatives = (values: readonly number[]) => (values.length === 1 ? String(values[0]) : `{${values.join(',')}}`);

/**
 * The layer patterns of the reference's `num_attn_layers` n: the first n of its nine SD layers, written
 * as SD_LAYERS writes its six (so n = 6 is the default configuration, hash included); 0 is every
 * cross-attention layer, which is what the reference does with its empty list (utils/model_utils.py:131).
 */
export function referenceLayerPatterns(n: number): string[] {
  if (n === 0) return ['attn2'];
  const per = REFERENCE_LAYER_ATTENTIONS.length;
  const full = REFERENCE_LAYER_BLOCKS.slice(0, Math.floor(n / per));
  const rest = n % per;
  const attention = (block: string, count: number) =>
    `up_blocks.${block}.attentions.${alternatives(REFERENCE_LAYER_ATTENTIONS.slice(0, count))}.transformer_blocks.0.attn2`;
  return [...(full.length ? [attention(alternatives(full), per)] : []), ...(rest ? [attention(String(REFERENCE_LAYER_BLOCKS[full.length]), rest)] : [])];
}

type CanonicalPartial = Omit<PartialMethodParams, keyof typeof aliasShape>;

/** A set of parameters with its aliases turned into parameters; sg_t_start / sg_t_end wait for the number of steps. */
interface Normalised {
  params: CanonicalPartial;
  window?: { start?: number; end?: number };
}

function normalise(given: PartialMethodParams, family: ModelFamily, source: string): Normalised {
  const { num_inference_steps, sg_t_start, sg_t_end, num_attn_layers, centroid_type: _mean, two_objects: _two, ...params } = given;
  const clash = (a: string, b: string) => new MethodParamsError(`${source}: ${a} and ${b} are two names for one setting; give one`);
  if (num_inference_steps !== undefined) {
    if (params.steps !== undefined) throw clash('steps', 'num_inference_steps');
    params.steps = num_inference_steps;
  }
  if (num_attn_layers !== undefined) {
    if (params.layers !== undefined) throw clash('layers', 'num_attn_layers');
    if (family !== 'sd1' && family !== 'sd2') {
      const why =
        family === 'sdxl'
          ? 'the reference ignores it for SDXL (it always reads its three layers, pipeline_batch.py:528-533)'
          : "its list is Stable Diffusion 1.x/2.x's";
      throw new MethodParamsError(`${source}: num_attn_layers is refused for this ${family} model: ${why}; name the layers with layers`);
    }
    params.layers = referenceLayerPatterns(num_attn_layers);
  }
  if (sg_t_start === undefined && sg_t_end === undefined) return { params };
  if (params.guide_steps !== undefined) throw clash('guide_steps', sg_t_start === undefined ? 'sg_t_end' : 'sg_t_start');
  return { params, window: { start: sg_t_start, end: sg_t_end } };
}

/**
 * The full parameters: `overrides` (untrusted, e.g. `--params`) replace the model's defaults key by
 * key; every key must then have a value. Aliases become the parameters they stand for: `sg_t_start`
 * / `sg_t_end` set `guide_steps` (a missing one being the reference's 0 or every step; a negative
 * end, or one past the last step, every step), `num_attn_layers` sets `layers` (for the `family`'s
 * models only). Errors start with `source` and name the key.
 */
export function resolveParams(
  modelDefaults: PartialMethodParams,
  overrides: unknown = {},
  source = 'method parameters',
  family: ModelFamily = 'custom',
): MethodParams {
  const defaults = normalise(modelDefaults, family, 'the model defaults');
  const given = normalise(parsePartialParams(overrides, source), family, source);
  const merged: CanonicalPartial = { ...defaults.params, ...given.params };
  const missing = PARAM_NAMES.find((name) => name !== 'guide_steps' && merged[name] === undefined);
  if (missing)
    throw new MethodParamsError(`${source}: ${missing}: no default for this model; set it in the model folder's infsplign.json or in the parameters`);
  const steps = merged.steps!;
  const window = given.window ?? (given.params.guide_steps === undefined ? defaults.window : undefined);
  const end = window?.end;
  const guideSteps = window ? [window.start ?? 0, end === undefined || end < 0 || end > steps ? steps : end] : (merged.guide_steps ?? [0, steps]);
  return parseParams(methodParamsSchema, { ...merged, guide_steps: guideSteps }, source);
}

/**
 * InfSplign's canonical parameters: every default filled in, layer patterns as a sorted set (the loss
 * averages over the layers they select).
 */
export function canonicalInfsplignParams(params: MethodParams): MethodParams {
  const checked = methodParamsSchema.parse(params);
  return { ...checked, layers: [...new Set(checked.layers)].sort() };
}
