/**
 * The sampling loop (docs/method.md §1, §6), the same for every method, in named steps: encode the
 * prompts; prepare each image's latent; per denoising step, the method's use of its gradient (a
 * latent-updating method moves the latent first, latent-update-step.ts) and the guided step
 * (guided-step.ts: eps = eps_u + w (eps_c - eps_u), plus InfSplign's noise correction), then the
 * scheduler's update; last decode. Images are independent of batching: each has its own noise stream,
 * every tensor op is per image, and a method's decisions are each image's own. The baseline never
 * loads a guided model.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { SamplerParams } from '../contracts/common-params.ts';
import { canonicalConfig, configHash } from '../contracts/run-config.ts';
import { entryExists, type GuidedCache } from '../guidance/guided-cache.ts';
import { ObjectNotFoundError } from '../guidance/token-spans.ts';
import { encodePng } from '../image/png.ts';
import { modelContentHash, prepareGuidedUnet, type MethodUnetSpec, type PreparedGuidance } from '../methods/guided-unet.ts';
import { UnguidablePromptError, type AnyMethod, type ImageEvaluation } from '../methods/method.ts';
import { requireMethod } from '../methods/registry.ts';
import { loadModel } from '../onnx/model-io.ts';
import type { Relation } from '../prompts/types.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { CostMeter } from './cost.ts';
import { decodeLatent } from './decode.ts';
import { floatTensor, type FloatType } from './float-data.ts';
import { guidedStep, type StepContext, type UnetSessions } from './guided-step.ts';
import { latentUpdates } from './latent-update-step.ts';
import { readManifest, writeManifest, type ImageRecord, type Manifest } from './manifest.ts';
import type { ModelFolder } from './model-folder.ts';
import { noiseStream, type NoiseSource } from './noise.ts';
import { createSession, type Device } from './providers.ts';
import { parseSchedulerConfig } from './schedulers/config.ts';
import { createScheduler, type Scheduler } from './schedulers/scheduler.ts';
import { encodePrompts, type PromptEncoding } from './text-encoder.ts';

export interface GenerationPrompt {
  id: number;
  text: string;
  /** Subject then reference; one name for single-object prompts (never guided). */
  objects: string[];
  /** null for prompts without a spatial relation ("and"): energy terms only. */
  relation: Relation | null;
}

export interface GenerateOptions {
  folder: ModelFolder;
  prompts: GenerationPrompt[];
  /** a registered method's name (methods/registry.ts) */
  method: string;
  /** the method's resolved parameters (contracts/model-defaults.ts resolveMethodParams) */
  params: SamplerParams;
  seed: number;
  imagesPerPrompt: number;
  batchSize: number;
  device: Device;
  outDir: string;
  resume: boolean;
  /** Where prepared (guided) U-Nets are cached. */
  cache: GuidedCache;
  onProgress?: (done: number, total: number) => void;
  /** checked before every denoising step: aborting stops the run there, with the signal's reason */
  signal?: AbortSignal;
}

interface Item {
  prompt: GenerationPrompt;
  index: number;
  /** What the method's loss needs of its prompt; null leaves it unguided. */
  row: unknown;
}

interface Sessions extends UnetSessions {
  vae: ort.InferenceSession | null;
}

export function imageFileName(promptId: number, index: number): string {
  return `${promptId}_${index}.png`;
}

/** The rows of a [n, ...rowDims] table picked for the images of a batch. */
function pickRows(data: Float32Array, rowDims: readonly number[], rows: number[]): ort.Tensor {
  const size = rowDims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(rows.length * size);
  rows.forEach((r, k) => out.set(data.subarray(r * size, (r + 1) * size), k * size));
  return new ort.Tensor('float32', out, [rows.length, ...rowDims]);
}

/**
 * The U-Net inputs that carry the text, per image of the batch: the hidden states and, for SDXL,
 * the pooled embedding and the size conditioning (original size, crop (0, 0), target size).
 */
export function conditioning(folder: ModelFolder, encoding: PromptEncoding, rows: number[]): Record<string, ort.Tensor> {
  const { unet } = folder;
  const [, tokens, dim] = encoding.dims;
  const inputs: Record<string, ort.Tensor> = { [unet.encoderHiddenStates.name]: pickRows(encoding.embeddings, [tokens, dim], rows) };
  if (unet.textEmbeds && encoding.pooled) inputs[unet.textEmbeds.name] = pickRows(encoding.pooled.data, [encoding.pooled.dims[1]], rows);
  if (unet.timeIds) {
    const [height, width] = [unet.latent.height * VAE_DOWNSAMPLING, unet.latent.width * VAE_DOWNSAMPLING];
    const ids = new Float32Array(rows.length * 6);
    rows.forEach((_, k) => ids.set([height, width, 0, 0, height, width], k * 6));
    inputs[unet.timeIds.name] = floatTensor(unet.timeIds.type as FloatType, ids, [rows.length, 6]);
  }
  return inputs;
}

/** Pixels per latent cell of the Stable Diffusion VAEs (SDXL's time_ids are in pixels). */
const VAE_DOWNSAMPLING = 8;

/**
 * A session on a method's guided U-Net, prepared or found in the cache, whose entry stays pinned until
 * the session is open. Should another process remove it all the same (a narrow race), it is prepared again.
 */
export async function openGuidedUnet(
  unetFile: string,
  spec: MethodUnetSpec,
  cache: GuidedCache,
  device: Device,
): Promise<{ session: ort.InferenceSession; prepared: PreparedGuidance }> {
  for (let attempt = 1; ; attempt++) {
    const prepared = prepareGuidedUnet(unetFile, spec, cache);
    try {
      return { session: await createSession(prepared.path, device), prepared };
    } catch (err) {
      if (entryExists(dirname(prepared.path))) throw err;
      if (attempt === 3)
        throw new Error(
          `the guided U-Net's cache entry keeps being removed before it can be opened; is ${cache.dir} too small for it (INFSPLIGN_CACHE_MAX_BYTES)?`,
          { cause: err },
        );
    } finally {
      prepared.unpin();
    }
  }
}

/** The plain U-Net, the VAE decoder and, for a method with a loss, its guided U-Net. */
async function openSessions(options: GenerateOptions, method: AnyMethod): Promise<Sessions> {
  const { folder, device } = options;
  const sessions: Sessions = {
    unet: await createSession(folder.unet.file, device),
    guided: null,
    vae: folder.vaeDecoder ? await createSession(folder.vaeDecoder.file, device) : null,
  };
  if (method.guidance) {
    const { height, width } = folder.unet.latent;
    sessions.guided = await openGuidedUnet(
      folder.unet.file,
      { method, params: options.params, latentHeight: height, latentWidth: width, latentInput: folder.unet.sample.name },
      options.cache,
      device,
    );
  }
  return sessions;
}

export async function generate(options: GenerateOptions): Promise<Manifest> {
  const { folder, params, outDir } = options;
  const method = requireMethod(options.method);
  const config = canonicalConfig(method.name, params);
  const hash = configHash(config);
  const manifest = readManifest(outDir, hash, options.seed, options.resume) ?? {
    config,
    config_hash: hash,
    model: { dir: folder.dir, family: folder.family, unet_sha256: modelContentHash(folder.unet.file, loadModel(folder.unet.file)) },
    device: options.device,
    provider: options.device,
    seed: options.seed,
    images: [],
    failures: [],
  };

  const sessions = await openSessions(options, method);
  const { cond, uncond } = await encode(folder, options);
  const items = itemsToMake(options, method, cond, manifest);

  const total = items.length;
  let finished = 0;
  options.onProgress?.(0, total);
  for (let start = 0; start < items.length; start += options.batchSize) {
    const batch = items.slice(start, start + options.batchSize);
    const records = await sampleBatch(options, method, sessions, batch, cond, uncond);
    for (const record of records) manifest.images.push(record);
    writeManifest(outDir, manifest);
    finished += batch.length;
    options.onProgress?.(finished, total);
  }
  return manifest;
}

/** The prompts' text conditioning and the unconditional one (zeros where the folder says so). */
async function encode(folder: ModelFolder, options: GenerateOptions): Promise<{ cond: PromptEncoding; uncond: PromptEncoding }> {
  const cond = await encodePrompts(
    folder,
    options.prompts.map((p) => p.text),
    options.device,
  );
  const uncond = await encodePrompts(folder, [''], options.device, { zeros: folder.zeroUnconditional });
  return { cond, uncond };
}

/** What the method's loss needs of a prompt (null: unguided); a prompt it cannot guide fails alone, with the reason. */
function guidanceRow(options: GenerateOptions, method: AnyMethod, cond: PromptEncoding, row: number): unknown {
  const prompt = options.prompts[row]!;
  if (!method.guidance) return null;
  return method.guidance.prepare(
    { text: prompt.text, objects: prompt.objects, relation: prompt.relation, tokenizer: cond.tokenizer, encoding: cond.encodings[row]!, tokens: cond.dims[1] },
    options.params as never,
  );
}

/** The images still to make (a resumed run skips those it has), each with its prompt's guidance; failed prompts go to the manifest. */
function itemsToMake(options: GenerateOptions, method: AnyMethod, cond: PromptEncoding, manifest: Manifest): Item[] {
  const items: Item[] = [];
  const done = new Set(manifest.images.map((i) => `${i.prompt}_${i.index}`));
  options.prompts.forEach((prompt, row) => {
    let guidance: unknown;
    try {
      guidance = guidanceRow(options, method, cond, row);
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError || err instanceof UnguidablePromptError)) throw err;
      manifest.failures.push({ prompt: prompt.id, reason: err.message });
      return;
    }
    for (let k = 0; k < options.imagesPerPrompt; k++) {
      if (done.has(`${prompt.id}_${k}`) && existsSync(join(options.outDir, imageFileName(prompt.id, k)))) continue;
      items.push({ prompt, index: k, row: guidance });
    }
  });
  return items;
}

/** Each image's initial latent: its own seeded noise stream, scaled to the scheduler's first sigma. */
function prepareLatents(options: GenerateOptions, scheduler: Scheduler, batch: Item[]): { latents: Float32Array[]; noise: NoiseSource[] } {
  const { channels, height, width } = options.folder.unet.latent;
  const noise = batch.map((item) => noiseStream(options.seed, item.index));
  return { latents: noise.map((n) => n.normal(channels * height * width).map((v) => v * scheduler.initNoiseSigma)), noise };
}

/** An image's guidance trace: the loss at every step that evaluated it, the step, and the centroids where the method gives them. */
class ImageTrace {
  readonly steps: number[] = [];
  readonly loss: number[] = [];
  readonly centroids: Array<[[number, number], [number, number]]> = [];

  record(step: number, evaluation: ImageEvaluation | null | undefined): void {
    if (!evaluation) return;
    this.steps.push(step);
    this.loss.push(evaluation.loss);
    if (evaluation.centroids) this.centroids.push(evaluation.centroids);
  }
}

/**
 * One denoising step for the batch: a latent-updating method first moves the latents (recording each
 * image's first evaluation, and keeping in `carried` the carry of its last one for the next steps),
 * then the guided step and the scheduler's update from them.
 */
async function denoisingStep(ctx: StepContext, z: Float32Array[], noise: NoiseSource[], traces: ImageTrace[], carried: unknown[]): Promise<Float32Array[]> {
  const { scheduler, stepIndex: i } = ctx;
  if (ctx.method.guidance?.kind === 'latent-update') {
    const updated = await latentUpdates(ctx, z, scheduler.timesteps.length);
    updated.evaluations.forEach((evaluations, b) => {
      traces[b]!.record(i, evaluations[0]?.evaluation);
      const carry = evaluations.at(-1)?.evaluation.carry;
      if (carry !== undefined) carried[b] = carry;
    });
    z = updated.latents;
  }
  const step = await guidedStep({ ...ctx, latents: z });
  step.images.forEach((image, b) => traces[b]!.record(i, image));
  const size = z[0]!.length;
  return z.map((zb, b) => scheduler.step(step.eps.subarray(b * size, (b + 1) * size), i, zb, noise[b]!));
}

async function sampleBatch(
  options: GenerateOptions,
  method: AnyMethod,
  sessions: Sessions,
  batch: Item[],
  cond: PromptEncoding,
  uncond: PromptEncoding,
): Promise<ImageRecord[]> {
  const { folder, params } = options;
  const cost = new CostMeter(batch.length);
  const { latent } = folder.unet;
  const scheduler = createScheduler(params.scheduler, parseSchedulerConfig(folder.scheduler.config, folder.scheduler.file), params.steps);
  const initial = prepareLatents(options, scheduler, batch);
  const noise = initial.noise;
  let z = initial.latents;
  const rows = batch.map((item) => options.prompts.indexOf(item.prompt));
  const context = {
    unet: folder.unet,
    sessions,
    method,
    params,
    scheduler,
    latentDims: [latent.channels, latent.height, latent.width],
    cond: conditioning(folder, cond, rows),
    uncond: conditioning(
      folder,
      uncond,
      batch.map(() => 0),
    ),
    rows: batch.map((item) => item.row),
    cost,
  };
  const traces = batch.map(() => new ImageTrace());
  const carried: unknown[] = batch.map(() => undefined);
  for (let i = 0; i < scheduler.timesteps.length; i++) {
    options.signal?.throwIfAborted();
    // each step reads the carries of the steps before it: a copy, which this step's evaluations leave alone
    z = await denoisingStep({ ...context, stepIndex: i, timestep: scheduler.timesteps[i]!, carried: [...carried] }, z, noise, traces, carried);
  }

  const costs = cost.costs();
  const records: ImageRecord[] = [];
  for (const [b, item] of batch.entries()) {
    const image = await decodeLatent(z[b]!, latent, sessions.vae && folder.vaeDecoder ? { part: folder.vaeDecoder, session: sessions.vae } : null);
    const file = imageFileName(item.prompt.id, item.index);
    writeFileAtomic(join(options.outDir, file), encodePng(image));
    const trace = traces[b]!;
    records.push({
      prompt: item.prompt.id,
      index: item.index,
      file,
      ms: Math.round(costs[b]!.seconds * 1000),
      guided: item.row !== null,
      loss: trace.loss,
      centroids: trace.centroids,
      ...(trace.loss.length > 0 ? { steps: trace.steps } : {}),
      cost: costs[b]!,
    });
  }
  return records;
}
