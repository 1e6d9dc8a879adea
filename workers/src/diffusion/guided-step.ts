/**
 * One denoising step's noise prediction as docs/method.md §1 defines it, for a batch of images: the
 * unconditional pass through the plain U-Net; the conditional pass through the guided U-Net (which
 * also gives the loss, its terms and d loss / d latent) on guided steps, through the plain one
 * otherwise; then eps = eps_u + w (eps_c - eps_u) + s g. The sampling loop (pipeline.ts) and
 * `infsplign guidance step` both call it, so the command shows what generation computes.
 */
import * as ort from 'onnxruntime-node';
import type { MethodParams } from '../contracts/method-params.ts';
import { lossValueFeeds } from '../guidance/loss-evaluation.ts';
import { readLayerTable, type LayerReport } from '../guidance/loss-graph.ts';
import { GUIDED_IO, type PreparedGuidance } from '../guidance/prepare.ts';
import { relationOneHot, RELATIONS } from '../guidance/relations.ts';
import { tokenWeights } from '../guidance/token-spans.ts';
import type { Relation } from '../prompts/types.ts';
import { float32Data, floatTensor, type FloatType } from './float-data.ts';
import type { UnetPart } from './model-folder.ts';
import type { Scheduler } from './schedulers/scheduler.ts';

export interface UnetSessions {
  /** the plain U-Net */
  unet: ort.InferenceSession;
  /** the guided U-Net; null for the baseline */
  guided: { session: ort.InferenceSession; prepared: PreparedGuidance } | null;
}

/** What the loss needs of one image of the batch. */
export interface GuidanceRow {
  /** token weights [2][T] (token-spans.ts); null leaves the image unguided */
  weights: Float32Array | null;
  relation: Relation | null;
  /** the factor of its loss: 1, or 5 with no_wt off (loss-graph.ts promptLossWeight) */
  lossWeight: number;
}

export interface StepInputs {
  unet: Pick<UnetPart, 'sample' | 'timestep' | 'prediction'>;
  sessions: UnetSessions;
  params: MethodParams;
  scheduler: Scheduler;
  /** 0-based step of the scheduler's timesteps */
  stepIndex: number;
  /** the model's timestep (the scheduler's, unless a caller fixes it) */
  timestep: number;
  /** each image's latent z, unscaled */
  latents: Float32Array[];
  /** [channels, height, width] of one latent */
  latentDims: readonly number[];
  /** the U-Net's text inputs for the batch (encoder_hidden_states; SDXL's text_embeds and time_ids) */
  cond: Record<string, ort.Tensor>;
  uncond: Record<string, ort.Tensor>;
  rows: GuidanceRow[];
}

/** The loss at a guided step, for one guided image. */
export interface ImageGuidance {
  /** what is differentiated: the mean of the layers' totals times the image's loss weight */
  loss: number;
  /** [[x1, y1], [x2, y2]], averaged over layers */
  centroids: [[number, number], [number, number]];
  layers: LayerReport[];
}

export interface StepResult {
  /** whether the conditional pass ran the guided U-Net */
  guided: boolean;
  /** [batch * latent size] each */
  epsUncond: Float32Array;
  epsCond: Float32Array;
  /** eps = eps_u + w (eps_c - eps_u) + s g: what the scheduler steps with */
  eps: Float32Array;
  /** g = d loss / d z [batch * latent size] (the gradient with respect to the unscaled latent); null unguided */
  gradient: Float32Array | null;
  /** per image: its loss, centroids and layer terms; null for an unguided image or step */
  images: Array<ImageGuidance | null>;
}

/** The U-Net's timestep input for a batch. */
function timestepTensor(unet: StepInputs['unet'], t: number, batch: number): ort.Tensor {
  const info = unet.timestep;
  const count = info.dims?.length === 1 && info.dims[0] === 1 ? 1 : batch;
  const dims = info.dims?.length === 0 ? [] : [count];
  // Euler's linspace timesteps are fractional; integer U-Nets get them truncated, as diffusers' ONNX pipeline does.
  if (info.type === 'int64') return new ort.Tensor('int64', new BigInt64Array(Math.max(count, 1)).fill(BigInt(Math.trunc(t))), dims);
  return floatTensor(info.type as FloatType, new Float32Array(Math.max(count, 1)).fill(t), dims);
}

/** Whether step `stepIndex` runs the guided U-Net for this batch. */
export function isGuidedStep(params: MethodParams, sessions: UnetSessions, rows: readonly GuidanceRow[], stepIndex: number): boolean {
  const [start, end] = params.guide_steps;
  return sessions.guided !== null && rows.some((r) => r.weights) && stepIndex >= start && stepIndex < end;
}

/** The guided U-Net's loss inputs for the batch. */
function lossFeeds(rows: readonly GuidanceRow[], params: MethodParams, tokens: number): Record<string, ort.Tensor> {
  const batch = rows.length;
  const weights = new Float32Array(batch * 2 * tokens);
  const relation = new Float32Array(batch * RELATIONS.length);
  const promptWeight = new Float32Array(batch);
  rows.forEach((row, b) => {
    // Unguided rows still get valid maps (token 1 for both objects) so the loss stays finite.
    weights.set(row.weights ?? tokenWeights([[1], [1]], tokens), b * 2 * tokens);
    relation.set(relationOneHot(row.weights ? row.relation : null), b * RELATIONS.length);
    promptWeight[b] = row.weights ? row.lossWeight : 0;
  });
  return {
    ...lossValueFeeds(params, (name) => GUIDED_IO.values[name]),
    [GUIDED_IO.tokenWeights]: new ort.Tensor('float32', weights, [batch, 2, tokens]),
    [GUIDED_IO.relation]: new ort.Tensor('float32', relation, [batch, RELATIONS.length]),
    [GUIDED_IO.promptWeight]: new ort.Tensor('float32', promptWeight, [batch]),
  };
}

/** Each guided image's loss, centroids and layer terms from the guided U-Net's outputs. */
function readGuidance(out: ort.InferenceSession.ReturnType, rows: readonly GuidanceRow[], prepared: PreparedGuidance): Array<ImageGuidance | null> {
  const losses = out[GUIDED_IO.perPrompt]!.data as Float32Array;
  const centroids = out[GUIDED_IO.centroids]!.data as Float32Array;
  const table = out[GUIDED_IO.layers]!.data as Float32Array;
  const names = prepared.layers.map((l) => l.name);
  return rows.map((row, b) =>
    row.weights
      ? {
          loss: losses[b]! * row.lossWeight,
          centroids: [[centroids[b * 4]!, centroids[b * 4 + 1]!], [centroids[b * 4 + 2]!, centroids[b * 4 + 3]!]],
          layers: readLayerTable(table, names, b),
        }
      : null,
  );
}

/** The noise prediction of one step for a batch of images (see the file comment). */
export async function guidedStep(inputs: StepInputs): Promise<StepResult> {
  const { unet, sessions, params, scheduler, stepIndex, latents, rows } = inputs;
  const batch = latents.length;
  const size = inputs.latentDims.reduce((a, b) => a * b, 1);
  const input = new Float32Array(batch * size);
  latents.forEach((z, b) => input.set(scheduler.scaleModelInput(z, stepIndex), b * size));
  const common = {
    [unet.sample.name]: floatTensor(unet.sample.type as FloatType, input, [batch, ...inputs.latentDims]),
    [unet.timestep.name]: timestepTensor(unet, inputs.timestep, batch),
  };
  const prediction = (out: ort.InferenceSession.ReturnType, what: string) => float32Data(out[unet.prediction.name]!, what);
  const epsUncond = prediction(await sessions.unet.run({ ...common, ...inputs.uncond }), 'the U-Net output');

  let epsCond: Float32Array;
  let inputGradient: Float32Array | null = null;
  let images: Array<ImageGuidance | null> = rows.map(() => null);
  const guided = isGuidedStep(params, sessions, rows, stepIndex) ? sessions.guided : null;
  if (guided) {
    const { session, prepared } = guided;
    const out = await session.run({ ...common, ...inputs.cond, ...lossFeeds(rows, params, prepared.tokens) });
    epsCond = prediction(out, 'the guided U-Net output');
    inputGradient = float32Data(out[prepared.gradient]!, 'the latent gradient');
    images = readGuidance(out, rows, prepared);
  } else {
    epsCond = prediction(await sessions.unet.run({ ...common, ...inputs.cond }), 'the U-Net output');
  }

  // The guided U-Net differentiates with respect to its input, the scaled latent; the loss is a function of z.
  const scale = scheduler.modelInputScale(stepIndex);
  const gradientWeight = params.guidance_weight * scale;
  const eps = new Float32Array(batch * size);
  for (let k = 0; k < eps.length; k++) {
    const u = epsUncond[k]!;
    eps[k] = u + params.cfg_scale * (epsCond[k]! - u) + (inputGradient ? gradientWeight * inputGradient[k]! : 0);
  }
  const gradient = inputGradient && (scale === 1 ? inputGradient : inputGradient.map((g) => g * scale));
  return { guided: guided !== null, epsUncond, epsCond, eps, gradient, images };
}
