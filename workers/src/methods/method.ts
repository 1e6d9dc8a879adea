/**
 * What a method of the arena is (docs/method.md §6): its parameters, and, unless it is the baseline,
 * a loss on the U-Net's cross-attention maps and how its gradient with respect to the latent is
 * used. The engine (sampler, guided U-Net, CLI, jobs, API) knows methods only through this contract
 * and the registry (registry.ts); a method is one folder `methods/<name>/` that exports one
 * `MethodDefinition`, registered there.
 *
 * Nothing here imports onnxruntime: the API reads the parameter contracts of every method.
 */
import type { z } from 'zod';
import type { ModelFamily, SamplerParams } from '../contracts/common-params.ts';
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import type { Dim } from '../onnx/proto.ts';
import type { Relation } from '../prompts/types.ts';
import type { Encoding, Tokenizer } from '../text/tokenizer.ts';

/** A method's parameter contract: one definition for `--params`, a model's defaults, the API and the configuration hash. */
export interface MethodParamsSpec<P extends SamplerParams> {
  /** Some parameters as an object schema (every key optional): what the API describes as JSON Schema and forms offer. */
  schema: z.ZodObject;
  /** Validates some parameters as given (untrusted: `--params`, a submission, a model's file), issues at the key (contracts/common-params.ts parseParams). */
  partial: z.ZodType<Record<string, unknown>>;
  /** The method's defaults for a model family (a model's own files replace them key by key, contracts/model-defaults.ts). */
  defaults(family: ModelFamily): Record<string, unknown>;
  /** Every parameter: `defaults` replaced key by key by `overrides` (untrusted), checked together. */
  resolve(defaults: Record<string, unknown>, overrides: unknown, source: string, family: ModelFamily): P;
  /** What identifies a run of the method (sorted, normalised: equal runs give equal JSON). */
  canonical(params: P): Record<string, unknown>;
  /** Validates a canonical configuration's params (a job's, the database's). */
  canonicalSchema: z.ZodType<Record<string, unknown>>;
}

/**
 * Which attention maps a method reads: the layers (by module-path pattern, or every cross-attention
 * layer whose maps have resolution x resolution pixels) and how they are aggregated over layers and
 * heads: `per-layer` gives each layer's head average; `pooled` one map, the mean over every head of
 * every selected layer (A&E's aggregate_attention: layers weigh by their heads).
 */
export type MapSelection = ({ layers: readonly string[] } | { resolution: number }) & { aggregate: 'per-layer' | 'pooled' };

/** An aggregated map as a method's loss graph receives it. */
export interface AttentionMap {
  /** the layer's module path, or for a pooled map the resolution it pools (`16x16`) */
  name: string;
  /** [B, height * width, T] probabilities over the T token positions */
  probs: string;
  height: number;
  width: number;
}

/** What the engine knows of the prompts' tokens when it builds a graph. */
export interface GraphLayout {
  /** token positions of the attention maps (77 for CLIP) */
  tokens: number;
}

/** The loss graph a method builds on its maps. */
export interface LossGraph {
  /** Scalar: the sum over the batch of each image's loss (so each image's gradient is its own). */
  loss: string;
  /** Values read back per evaluation, by key (`loss_per_image`, ...), with their dims ('batch' for the batch axis). */
  outputs: Record<string, { value: string; dims: Dim[] }>;
}

/** A prompt as a method sees it when deciding what its loss needs of it. */
export interface GuidedPrompt {
  text: string;
  /** subject then reference */
  objects: string[];
  relation: Relation | null;
  /** the tokenizer whose positions index the maps' token axis, and the prompt's encoding by it */
  tokenizer: Tokenizer;
  encoding: Encoding;
  /** token positions of the maps */
  tokens: number;
}

/** A prompt the method cannot guide: the image fails with this reason (in the manifest, and the run's failures). */
export class UnguidablePromptError extends Error {}

/** Where an evaluation happens: what a loss whose inputs depend on the step reads (STORM's time weight, D&B's coefficient). */
export interface EvaluationStep {
  /** 0-based loop index */
  index: number;
  /** the sampler's loop length */
  steps: number;
  /** per image of the batch: inside a refinement loop */
  refinement: readonly boolean[];
  /**
   * per image of the batch: the `carry` of the image's latest evaluation at an earlier step
   * (undefined: none yet), for a loss that reads what the previous step saw (CONFORM's previous maps)
   */
  carried?: readonly unknown[];
}

/** A prompt as a maps file (`guidance loss`, maps-file.ts) gives it: its objects' token positions, its end token, the relation asked. */
export interface MapsPrompt {
  objects: Array<{ name: string; tokens: number[] }>;
  /** the end token's position, when the file gives it */
  eot?: number;
  /** token positions of the maps */
  tokens: number;
  relation: Relation | null;
  /** the prompt's text, when given (`guidance loss --prompt`): for a method that reads the prompt's words (STORM) */
  text?: string;
}

/** A graph input's values for a batch. */
export interface FeedValues {
  data: Float32Array;
  dims: number[];
}

/** One evaluation of the loss for one image. */
export interface ImageEvaluation {
  /** the image's loss (what its gradient is the gradient of) */
  loss: number;
  /** what the method reports and its schedule reads (per-token maxima, per-layer terms, ...) */
  report: Record<string, unknown>;
  /** [[x1, y1], [x2, y2]]: the objects' attention centroids, for methods that compute them (InfSplign) */
  centroids?: [[number, number], [number, number]];
  /**
   * What this evaluation leaves the image's later steps: the engine keeps each image's latest carry
   * from one step to the next and hands it to `feeds` as `step.carried` (CONFORM: the maps it read)
   */
  carry?: unknown;
}

/** What every guided method declares; `P` its parameters, `S` its graph's structure, `R` what it needs of a prompt. */
export interface GuidanceBase<P extends SamplerParams, S, R> {
  /** Prefix of the guided U-Net's extra inputs and outputs (`infsplign_`). */
  ioPrefix: string;
  maps(params: P): MapSelection;
  /** The parameters the graph is built from (the guided U-Net's cache key); every other value is a graph input. */
  structure(params: P): S;
  /** The loss's graph inputs besides the maps, by key, with their dims ('batch' for the batch axis). */
  inputs(structure: S, layout: GraphLayout): Record<string, Dim[]>;
  /**
   * Emits the loss on the aggregated maps; `inputs` are the graph names of the declared inputs.
   * `source`: the U-Net's maps, or a maps file's (`guidance loss`), which gives them as the method
   * documents for its conformance fixtures.
   */
  buildLoss(b: GraphBuilder, maps: AttentionMap[], inputs: Record<string, string>, structure: S, source: 'unet' | 'maps-file'): LossGraph;
  /** What the loss needs of a prompt; null leaves the image unguided; UnguidablePromptError fails it. */
  prepare(prompt: GuidedPrompt, params: P): R | null;
  /** The same for a maps file's prompt (`guidance loss`); UnguidablePromptError names what the file lacks. */
  prepareFromMaps(prompt: MapsPrompt, params: P): R;
  /** The loss inputs for a batch (null rows: unguided images in a batch that a noise correction runs whole). */
  feeds(rows: ReadonlyArray<R | null>, params: P, layout: GraphLayout, step: EvaluationStep): Record<string, FeedValues>;
  /** Each image's evaluation from the outputs (by key); null for an unguided row. */
  read(outputs: Record<string, Float32Array>, rows: ReadonlyArray<R | null>, mapNames: readonly string[]): Array<ImageEvaluation | null>;
}

/** InfSplign's use of the gradient: eps = eps_u + w (eps_c - eps_u) + weight g on the steps it guides (docs/method.md §1). */
export interface NoiseCorrection<P extends SamplerParams, S, R> extends GuidanceBase<P, S, R> {
  kind: 'noise-correction';
  /** Whether step i (0-based) is guided. */
  guides(params: P, stepIndex: number): boolean;
  /** The weight of d loss / d z in the noise prediction. */
  weight(params: P): number;
}

/** What a latent-update plan asks of the engine. */
export type PlanRequest =
  /** the loss, its report and gradient at the image's current latent (`refinement`: inside a refinement loop, for traces) */
  | { kind: 'evaluate'; refinement: boolean }
  /** z <- z - stepSize g, g the gradient of the latest evaluation (at the current latent), its L2 norm first clipped to maxNorm */
  | { kind: 'update'; stepSize: number; maxNorm?: number; refinement: boolean };

/**
 * One image's work at one denoising step, before the step's ordinary sampling: a coroutine that
 * yields requests and receives each evaluation. Decisions are the image's own, so an image does not
 * depend on the batch it is sampled in.
 */
export type StepPlan = Generator<PlanRequest, void, ImageEvaluation>;

/** A-&-E-style use of the gradient: the latent itself is moved by the loss's gradient, then the step samples from it. */
export interface LatentUpdate<P extends SamplerParams, S, R> extends GuidanceBase<P, S, R> {
  kind: 'latent-update';
  /** The image's plan at step i of `steps` (the sampler's loop length). */
  plan(params: P, stepIndex: number, steps: number): StepPlan;
  /**
   * Whether an evaluation inside a refinement loop computes another loss than the step's own
   * evaluations (STORM normalises by the end token outside refinement only): then an evaluation is
   * not reused for a request of the other kind at the same latent. Absent: the same loss.
   */
  refinementLossDiffers?(params: P): boolean;
}

export type MethodGuidance<P extends SamplerParams, S, R> = NoiseCorrection<P, S, R> | LatentUpdate<P, S, R>;

/** How many strengths the arena tries per method: the same for every method, so that none is tuned harder. */
export const ARENA_GRID_SIZE = 3;

/**
 * What the arena (`npm run arena`) tunes of a guided method on the VISOR-Shapes tune split: one
 * parameter, its strength (a step size or a weight), over ARENA_GRID_SIZE values, ascending; every
 * other parameter keeps the model's defaults.
 */
export interface ArenaTuning {
  /** a numeric parameter of the method's schema */
  strength: string;
  grid: readonly [number, number, number];
}

export interface MethodDefinition<P extends SamplerParams = SamplerParams, S = unknown, R = unknown> {
  /** lower-case words joined by '-' (the CLI's --method, the API's method) */
  name: string;
  description: string;
  params: MethodParamsSpec<P>;
  /** null: no loss (the baseline). */
  guidance: MethodGuidance<P, S, R> | null;
  /** The arena's strength grid; every guided method needs one to enter the arena (the baseline has no strength). */
  arena?: ArenaTuning;
}

/** A method of any parameters: the registry holds methods whose parameter types differ, so it erases them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- `unknown` would refuse every concrete method (its parameters are contravariant)
export type AnyMethod = MethodDefinition<any, any, any>;
