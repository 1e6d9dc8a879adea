/**
 * The sampling loop of docs/method.md §1, in named steps: encode the prompts, prepare each image's
 * latent, then per denoising step the guided step (guided-step.ts: eps = eps_u + w (eps_c - eps_u) +
 * s g, the conditional half through the guided U-Net on guided steps) and the scheduler's update,
 * and last decode. Images are independent of batching: each has its own noise stream and every
 * tensor op is per image. The baseline (s = 0) never loads the guided model.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { canonicalConfig, configHash, type Method, type MethodParams } from '../contracts/method-params.ts';
import { entryExists, type GuidedCache } from '../guidance/guided-cache.ts';
import { relationProblem } from '../guidance/loss-evaluation.ts';
import { promptLossWeight } from '../guidance/loss-graph.ts';
import { prepareGuidedUnet, modelContentHash, type GuidanceSpec, type PreparedGuidance } from '../guidance/prepare.ts';
import { objectTokenSpans, tokenWeights, ObjectNotFoundError } from '../guidance/token-spans.ts';
import { encodePng } from '../image/png.ts';
import { loadModel } from '../onnx/model-io.ts';
import type { Relation } from '../prompts/types.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { decodeLatent } from './decode.ts';
import { floatTensor, type FloatType } from './float-data.ts';
import { guidedStep, type GuidanceRow, type UnetSessions } from './guided-step.ts';
import type { ModelFolder } from './model-folder.ts';
import { noiseStream, type NoiseSource } from './noise.ts';
import { createSession, type Device } from './providers.ts';
import { parseSchedulerConfig } from './schedulers/config.ts';
import { createScheduler, type Scheduler } from './schedulers/scheduler.ts';
import { encodePrompts, type PromptEncoding } from './text-encoder.ts';
import { readManifest, writeManifest, type ImageRecord, type Manifest } from './manifest.ts';

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
  method: Method;
  params: MethodParams;
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
  /** What the loss needs of its prompt (token weights null for an unguided prompt). */
  guidance: GuidanceRow;
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
 * A session on the guided U-Net, prepared or found in the cache, whose entry stays pinned until the
 * session is open. Should another process remove it all the same (a narrow race), it is prepared again.
 */
export async function openGuidedUnet(unetFile: string, spec: GuidanceSpec, cache: GuidedCache, device: Device): Promise<{ session: ort.InferenceSession; prepared: PreparedGuidance }> {
  for (let attempt = 1; ; attempt++) {
    const prepared = prepareGuidedUnet(unetFile, spec, cache);
    try {
      return { session: await createSession(prepared.path, device), prepared };
    } catch (err) {
      if (entryExists(dirname(prepared.path))) throw err;
      if (attempt === 3) throw new Error(`the guided U-Net's cache entry keeps being removed before it can be opened; is ${cache.dir} too small for it (INFSPLIGN_CACHE_MAX_BYTES)?`);
    } finally {
      prepared.unpin();
    }
  }
}

export async function generate(options: GenerateOptions): Promise<Manifest> {
  const { folder, params, outDir } = options;
  const guided = options.method === 'infsplign';
  const config = canonicalConfig(options.method, params);
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
  const { height, width } = folder.unet.latent;

  const sessions: Sessions = {
    unet: await createSession(folder.unet.file, options.device),
    guided: null,
    vae: folder.vaeDecoder ? await createSession(folder.vaeDecoder.file, options.device) : null,
  };
  if (guided) {
    sessions.guided = await openGuidedUnet(folder.unet.file, { layers: params.layers, params, latentHeight: height, latentWidth: width, latentInput: folder.unet.sample.name }, options.cache, options.device);
  }

  const { cond, uncond } = await encode(folder, options);
  const items = itemsToMake(options, cond, manifest);

  const total = items.length;
  let finished = 0;
  options.onProgress?.(0, total);
  for (let start = 0; start < items.length; start += options.batchSize) {
    const batch = items.slice(start, start + options.batchSize);
    const records = await sampleBatch(options, sessions, batch, cond, uncond);
    for (const record of records) manifest.images.push(record);
    writeManifest(outDir, manifest);
    finished += batch.length;
    options.onProgress?.(finished, total);
  }
  return manifest;
}

/** The prompts' text conditioning and the unconditional one (zeros where the folder says so). */
async function encode(folder: ModelFolder, options: GenerateOptions): Promise<{ cond: PromptEncoding; uncond: PromptEncoding }> {
  const cond = await encodePrompts(folder, options.prompts.map((p) => p.text), options.device);
  const uncond = await encodePrompts(folder, [''], options.device, { zeros: folder.zeroUnconditional });
  return { cond, uncond };
}

/** A prompt the reference cannot guide with these parameters (docs/method.md §4.2). */
class UnguidablePromptError extends Error {}

/**
 * What the loss reads of a prompt (docs/method.md §2.2): its objects' token weights, relation and loss
 * weight; unguided (null weights) for the baseline and single-object prompts. A prompt the reference
 * could not guide fails alone, with the reason.
 */
function guidanceRow(options: GenerateOptions, cond: PromptEncoding, row: number): GuidanceRow {
  const { params } = options;
  const prompt = options.prompts[row]!;
  const unguided = { weights: null, relation: prompt.relation, lossWeight: 0 };
  if (options.method !== 'infsplign' || prompt.objects.length < 2) return unguided;
  const problem = relationProblem(prompt.relation, params);
  if (problem) throw new UnguidablePromptError(problem);
  const spans = objectTokenSpans(cond.tokenizer, cond.encodings[row]!, prompt.objects.slice(0, 2), params.object_tokens, params.token_alignment);
  return { weights: tokenWeights(spans, cond.dims[1]), relation: prompt.relation, lossWeight: promptLossWeight(params) };
}

/** The images still to make (a resumed run skips those it has), each with its prompt's guidance; failed prompts go to the manifest. */
function itemsToMake(options: GenerateOptions, cond: PromptEncoding, manifest: Manifest): Item[] {
  const items: Item[] = [];
  const done = new Set(manifest.images.map((i) => `${i.prompt}_${i.index}`));
  options.prompts.forEach((prompt, row) => {
    let guidance: GuidanceRow;
    try {
      guidance = guidanceRow(options, cond, row);
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError || err instanceof UnguidablePromptError)) throw err;
      manifest.failures.push({ prompt: prompt.id, reason: err.message });
      return;
    }
    for (let k = 0; k < options.imagesPerPrompt; k++) {
      if (done.has(`${prompt.id}_${k}`) && existsSync(join(options.outDir, imageFileName(prompt.id, k)))) continue;
      items.push({ prompt, index: k, guidance });
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

async function sampleBatch(options: GenerateOptions, sessions: Sessions, batch: Item[], cond: PromptEncoding, uncond: PromptEncoding): Promise<ImageRecord[]> {
  const { folder, params } = options;
  const started = performance.now();
  const { latent } = folder.unet;
  const scheduler = createScheduler(params.scheduler, parseSchedulerConfig(folder.scheduler.config, folder.scheduler.file), params.steps);
  let { latents: z, noise } = prepareLatents(options, scheduler, batch);
  const rows = batch.map((item) => options.prompts.indexOf(item.prompt));
  const condInputs = conditioning(folder, cond, rows);
  const uncondInputs = conditioning(folder, uncond, batch.map(() => 0));
  const trace = batch.map(() => ({ loss: [] as number[], centroids: [] as number[][][] }));

  for (let i = 0; i < scheduler.timesteps.length; i++) {
    options.signal?.throwIfAborted();
    const step = await guidedStep({
      unet: folder.unet, sessions, params, scheduler, stepIndex: i, timestep: scheduler.timesteps[i]!,
      latents: z, latentDims: [latent.channels, latent.height, latent.width], cond: condInputs, uncond: uncondInputs, rows: batch.map((item) => item.guidance),
    });
    step.images.forEach((image, b) => {
      if (!image) return;
      trace[b]!.loss.push(image.loss);
      trace[b]!.centroids.push(image.centroids);
    });
    const size = z[0]!.length;
    z = z.map((zb, b) => scheduler.step(step.eps.subarray(b * size, (b + 1) * size), i, zb, noise[b]!));
  }

  const perImageMs = (performance.now() - started) / batch.length;
  const records: ImageRecord[] = [];
  for (const [b, item] of batch.entries()) {
    const image = await decodeLatent(z[b]!, latent, sessions.vae && folder.vaeDecoder ? { part: folder.vaeDecoder, session: sessions.vae } : null);
    const file = imageFileName(item.prompt.id, item.index);
    writeFileAtomic(join(options.outDir, file), encodePng(image));
    records.push({ prompt: item.prompt.id, index: item.index, file, ms: Math.round(perImageMs), guided: Boolean(item.guidance.weights), loss: trace[b]!.loss, centroids: trace[b]!.centroids });
  }
  return records;
}
