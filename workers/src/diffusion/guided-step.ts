/**
 * One denoising step's noise prediction, for a batch of images, and the U-Net passes it is made of.
 * The classifier-free guidance pair (an unconditional and a conditional pass) gives
 * eps = eps_u + w (eps_c - eps_u); a noise-correcting method (InfSplign, docs/method.md §1) runs the
 * conditional half through its guided U-Net on the steps it guides, which also gives its loss and
 * d loss / d latent, and adds weight g. A latent-updating method (latent-update-step.ts) evaluates its
 * guided U-Net on the latent first and then calls this step. The sampling loop (pipeline.ts) and
 * `infsplign guidance step` both call it, so the command shows what generation computes.
 */
import * as ort from 'onnxruntime-node';
import type { SamplerParams } from '../contracts/common-params.ts';
import type { PreparedGuidance } from '../methods/guided-unet.ts';
import type { AnyMethod, ImageEvaluation, MethodGuidance } from '../methods/method.ts';
import { allImages, type CostMeter } from './cost.ts';
import { float32Data, floatTensor, type FloatType } from './float-data.ts';
import type { UnetPart } from './model-folder.ts';
import type { Scheduler } from './schedulers/scheduler.ts';

export interface UnetSessions {
  /** the plain U-Net */
  unet: ort.InferenceSession;
  /** the method's guided U-Net; null for the baseline */
  guided: { session: ort.InferenceSession; prepared: PreparedGuidance } | null;
}

/** What every pass of one step shares. */
export interface StepContext {
  unet: Pick<UnetPart, 'sample' | 'timestep' | 'prediction'>;
  sessions: UnetSessions;
  method: AnyMethod;
  /** the method's parameters (the sampler's among them) */
  params: SamplerParams;
  scheduler: Scheduler;
  /** 0-based step of the scheduler's timesteps */
  stepIndex: number;
  /** the model's timestep (the scheduler's, unless a caller fixes it) */
  timestep: number;
  /** [channels, height, width] of one latent */
  latentDims: readonly number[];
  /** the U-Net's text inputs for the batch (encoder_hidden_states; SDXL's text_embeds and time_ids), batch first */
  cond: Record<string, ort.Tensor>;
  uncond: Record<string, ort.Tensor>;
  /** what the method's loss needs of each image (null: unguided), as its `prepare` gave it */
  rows: ReadonlyArray<unknown>;
  /** per image: the carry of its latest evaluation at an earlier step (method.ts ImageEvaluation.carry), kept by the sampling loop */
  carried?: ReadonlyArray<unknown>;
  /** counts the passes per image of the batch (cost.ts) */
  cost?: CostMeter;
}

export interface StepInputs extends StepContext {
  /** each image's latent z, unscaled */
  latents: Float32Array[];
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
  /** per image: its evaluation of the loss; null for an unguided image or step */
  images: Array<ImageEvaluation | null>;
}

/** The U-Net's timestep input for a batch. */
function timestepTensor(unet: StepContext['unet'], t: number, batch: number): ort.Tensor {
  const info = unet.timestep;
  const count = info.dims?.length === 1 && info.dims[0] === 1 ? 1 : batch;
  const dims = info.dims?.length === 0 ? [] : [count];
  // Euler's linspace timesteps are fractional; integer U-Nets get them truncated, as diffusers' ONNX pipeline does.
  if (info.type === 'int64') return new ort.Tensor('int64', new BigInt64Array(Math.max(count, 1)).fill(BigInt(Math.trunc(t))), dims);
  return floatTensor(info.type as FloatType, new Float32Array(Math.max(count, 1)).fill(t), dims);
}

/** The latent (scaled as the scheduler's model input) and timestep inputs for these latents. */
function latentInputs(ctx: StepContext, latents: readonly Float32Array[]): Record<string, ort.Tensor> {
  const size = ctx.latentDims.reduce((a, b) => a * b, 1);
  const input = new Float32Array(latents.length * size);
  latents.forEach((z, b) => input.set(ctx.scheduler.scaleModelInput(z, ctx.stepIndex), b * size));
  return {
    [ctx.unet.sample.name]: floatTensor(ctx.unet.sample.type as FloatType, input, [latents.length, ...ctx.latentDims]),
    [ctx.unet.timestep.name]: timestepTensor(ctx.unet, ctx.timestep, latents.length),
  };
}

/** The rows (along axis 0) of each batch-first tensor picked for a subset of the batch. */
function pickImages(tensors: Record<string, ort.Tensor>, images: readonly number[], batch: number): Record<string, ort.Tensor> {
  if (images.length === batch && images.every((b, k) => b === k)) return tensors;
  return Object.fromEntries(
    Object.entries(tensors).map(([name, t]) => {
      const row = t.size / t.dims[0]!;
      const data = t.data as Float32Array | Uint16Array;
      const picked = new (data.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(images.length * row);
      images.forEach((b, k) => picked.set(data.subarray(b * row, (b + 1) * row), k * row));
      return [name, new ort.Tensor(t.type as 'float32', picked as Float32Array, [images.length, ...t.dims.slice(1)])];
    }),
  );
}

const prediction = (ctx: StepContext, out: ort.InferenceSession.ReturnType, what: string) => float32Data(out[ctx.unet.prediction.name]!, what);

/** A plain U-Net pass over some images of the batch (all of them unless given). */
async function plainPass(
  ctx: StepContext,
  latents: readonly Float32Array[],
  text: Record<string, ort.Tensor>,
  images = allImages(latents.length),
): Promise<Float32Array> {
  const out = await ctx.sessions.unet.run({ ...latentInputs(ctx, latents), ...pickImages(text, images, ctx.rows.length) });
  ctx.cost?.forward(images);
  return prediction(ctx, out, 'the U-Net output');
}

export interface GuidedPass {
  epsCond: Float32Array;
  /** d loss / d (the U-Net's input) for the images passed */
  inputGradient: Float32Array;
  /** d loss / d z: the same times the scheduler's input scale (the chain rule through scaleModelInput) */
  gradient: Float32Array;
  images: Array<ImageEvaluation | null>;
}

/**
 * The guided U-Net's conditional pass over some images of the batch (`images`, with their latents
 * and rows; `refinement`: which of them evaluate inside a refinement loop): the conditional noise
 * prediction, each image's evaluation of the loss and d loss / d z.
 */
export async function guidedPass(
  ctx: StepContext,
  images: readonly number[],
  latents: readonly Float32Array[],
  refinement: readonly boolean[] = images.map(() => false),
): Promise<GuidedPass> {
  const { session, prepared } = ctx.sessions.guided!;
  const guidance = ctx.method.guidance as MethodGuidance<SamplerParams, unknown, unknown>;
  const rows = images.map((b) => ctx.rows[b] ?? null);
  const layout = { tokens: prepared.tokens };
  const step = { index: ctx.stepIndex, steps: ctx.scheduler.timesteps.length, refinement, carried: images.map((b) => ctx.carried?.[b]) };
  const feeds = Object.fromEntries(
    Object.entries(guidance.feeds(rows, ctx.params, layout, step)).map(([key, v]) => [prepared.io.inputs[key]!, new ort.Tensor('float32', v.data, v.dims)]),
  );
  const out = await session.run({ ...latentInputs(ctx, latents), ...pickImages(ctx.cond, images, ctx.rows.length), ...feeds });
  ctx.cost?.guided(images);
  const outputs = Object.fromEntries(Object.entries(prepared.io.outputs).map(([key, name]) => [key, float32Data(out[name]!, `the guided U-Net's ${name}`)]));
  // The guided U-Net differentiates with respect to its input, the scaled latent; the loss is a function of z.
  const scale = ctx.scheduler.modelInputScale(ctx.stepIndex);
  const inputGradient = float32Data(out[prepared.gradient]!, 'the latent gradient');
  return {
    epsCond: prediction(ctx, out, 'the guided U-Net output'),
    inputGradient,
    gradient: scale === 1 ? inputGradient : inputGradient.map((g) => g * scale),
    images: guidance.read(outputs, rows, prepared.maps),
  };
}

/** Whether step `stepIndex` runs the method's guided U-Net for its noise correction. */
export function isGuidedStep(ctx: Pick<StepContext, 'method' | 'params' | 'sessions' | 'rows' | 'stepIndex'>): boolean {
  const guidance = ctx.method.guidance;
  return (
    guidance?.kind === 'noise-correction' &&
    ctx.sessions.guided !== null &&
    ctx.rows.some((r) => r !== null) &&
    guidance.guides(ctx.params as never, ctx.stepIndex)
  );
}

/** The noise prediction of one step for a batch of images (see the file comment). */
export async function guidedStep(inputs: StepInputs): Promise<StepResult> {
  const { latents, params } = inputs;
  const epsUncond = await plainPass(inputs, latents, inputs.uncond);
  const guided = isGuidedStep(inputs);
  const pass = guided ? await guidedPass(inputs, allImages(latents.length), latents) : null;
  const epsCond = pass ? pass.epsCond : await plainPass(inputs, latents, inputs.cond);
  // s g with g = d loss / d z = d loss / d input times the input's scale
  const weight = pass
    ? (inputs.method.guidance as { weight(p: SamplerParams): number }).weight(params) * inputs.scheduler.modelInputScale(inputs.stepIndex)
    : 0;
  const eps = new Float32Array(epsUncond.length);
  for (let k = 0; k < eps.length; k++) {
    const u = epsUncond[k]!;
    eps[k] = u + params.cfg_scale * (epsCond[k]! - u) + (pass ? weight * pass.inputGradient[k]! : 0);
  }
  return { guided, epsUncond, epsCond, eps, gradient: pass?.gradient ?? null, images: pass?.images ?? latents.map(() => null) };
}
