/**
 * The sampling loop of docs/method.md §1. Per step: the unconditional half runs the plain U-Net; the
 * conditional half runs the guided U-Net (which also returns the loss and d loss / d latent) on
 * guided steps, the plain one otherwise; eps = eps_u + w (eps_c - eps_u) + s g; then the scheduler
 * step. Images are independent of batching: each has its own noise stream and every tensor op is
 * per image. The baseline (s = 0) never loads the guided model.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { canonicalConfig, configHash, type Method, type MethodParams } from '../contracts/method-params.ts';
import { entryExists, type GuidedCache } from '../guidance/guided-cache.ts';
import { lossValueFeeds } from '../guidance/loss-evaluation.ts';
import { GUIDED_IO, prepareGuidedUnet, modelContentHash, type GuidanceSpec, type PreparedGuidance } from '../guidance/prepare.ts';
import { relationOneHot, RELATIONS } from '../guidance/relations.ts';
import { objectTokenSpans, tokenWeights, ObjectNotFoundError } from '../guidance/token-spans.ts';
import { encodePng } from '../image/png.ts';
import { loadModel } from '../onnx/model-io.ts';
import type { Relation } from '../prompts/types.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { decodeLatent } from './decode.ts';
import { float32Data, floatTensor, type FloatType } from './float-data.ts';
import type { ModelFolder } from './model-folder.ts';
import { noiseStream, type NoiseSource } from './noise.ts';
import { createSession, type Device } from './providers.ts';
import { parseSchedulerConfig } from './schedulers/config.ts';
import { createScheduler } from './schedulers/scheduler.ts';
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
  /** Token weights [2][T] for a guided prompt; null leaves it unguided. */
  weights: Float32Array | null;
}

interface Sessions {
  unet: ort.InferenceSession;
  guided: { session: ort.InferenceSession; prepared: PreparedGuidance } | null;
  vae: ort.InferenceSession | null;
}

export function imageFileName(promptId: number, index: number): string {
  return `${promptId}_${index}.png`;
}

function timestepTensor(folder: ModelFolder, t: number, batch: number): ort.Tensor {
  const info = folder.unet.timestep;
  const count = info.dims?.length === 1 && info.dims[0] === 1 ? 1 : batch;
  const dims = info.dims?.length === 0 ? [] : [count];
  // Euler's linspace timesteps are fractional; integer U-Nets get them truncated, as diffusers' ONNX pipeline does.
  if (info.type === 'int64') return new ort.Tensor('int64', new BigInt64Array(Math.max(count, 1)).fill(BigInt(Math.trunc(t))), dims);
  return floatTensor(info.type as FloatType, new Float32Array(Math.max(count, 1)).fill(t), dims);
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
function conditioning(folder: ModelFolder, encoding: PromptEncoding, rows: number[]): Record<string, ort.Tensor> {
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
  const { channels, height, width } = folder.unet.latent;

  const sessions: Sessions = {
    unet: await createSession(folder.unet.file, options.device),
    guided: null,
    vae: folder.vaeDecoder ? await createSession(folder.vaeDecoder.file, options.device) : null,
  };
  if (guided) {
    sessions.guided = await openGuidedUnet(folder.unet.file, { layers: params.layers, params, latentHeight: height, latentWidth: width, latentInput: folder.unet.sample.name }, options.cache, options.device);
  }

  const texts = options.prompts.map((p) => p.text);
  const cond = await encodePrompts(folder, texts, options.device);
  const uncond = await encodePrompts(folder, [''], options.device, { zeros: folder.zeroUnconditional });

  const items: Item[] = [];
  const done = new Set(manifest.images.map((i) => `${i.prompt}_${i.index}`));
  options.prompts.forEach((prompt, row) => {
    let weights: Float32Array | null = null;
    if (guided && prompt.objects.length >= 2) {
      try {
        const spans = objectTokenSpans(cond.tokenizer, cond.encodings[row]!, prompt.objects.slice(0, 2), params.object_tokens, params.token_alignment);
        weights = tokenWeights(spans, cond.dims[1]);
      } catch (err) {
        if (!(err instanceof ObjectNotFoundError)) throw err;
        manifest.failures.push({ prompt: prompt.id, reason: err.message });
        return;
      }
    }
    for (let k = 0; k < options.imagesPerPrompt; k++) {
      if (done.has(`${prompt.id}_${k}`) && existsSync(join(outDir, imageFileName(prompt.id, k)))) continue;
      items.push({ prompt, index: k, weights });
    }
  });

  const total = items.length;
  let finished = 0;
  options.onProgress?.(0, total);
  for (let start = 0; start < items.length; start += options.batchSize) {
    const batch = items.slice(start, start + options.batchSize);
    const records = await sampleBatch(options, sessions, batch, cond, uncond, { channels, height, width });
    for (const record of records) manifest.images.push(record);
    writeManifest(outDir, manifest);
    finished += batch.length;
    options.onProgress?.(finished, total);
  }
  return manifest;
}

async function sampleBatch(options: GenerateOptions, sessions: Sessions, batch: Item[], cond: PromptEncoding, uncond: PromptEncoding, latent: { channels: number; height: number; width: number }): Promise<ImageRecord[]> {
  const { folder, params } = options;
  const started = performance.now();
  const size = latent.channels * latent.height * latent.width;
  const dims = [batch.length, latent.channels, latent.height, latent.width];
  const scheduler = createScheduler(params.scheduler, parseSchedulerConfig(folder.scheduler.config, folder.scheduler.file), params.steps);
  const noise: NoiseSource[] = batch.map((item) => noiseStream(options.seed, item.index));
  let z: Float32Array[] = batch.map((_, b) => noise[b]!.normal(size).map((v) => v * scheduler.initNoiseSigma));
  const rows = batch.map((item) => options.prompts.indexOf(item.prompt));
  const condInputs = conditioning(folder, cond, rows);
  const uncondInputs = conditioning(folder, uncond, batch.map(() => 0));
  const trace = batch.map(() => ({ loss: [] as number[], centroids: [] as number[][][] }));
  const sampleType = folder.unet.sample.type as FloatType;
  const [guideStart, guideEnd] = params.guide_steps;
  const anyGuided = batch.some((item) => item.weights);
  const valueFeeds = lossValueFeeds(params, (name) => GUIDED_IO.values[name]);

  for (let i = 0; i < scheduler.timesteps.length; i++) {
    options.signal?.throwIfAborted();
    const t = scheduler.timesteps[i]!;
    const input = new Float32Array(batch.length * size);
    z.forEach((zb, b) => input.set(scheduler.scaleModelInput(zb, i), b * size));
    const common = { [folder.unet.sample.name]: floatTensor(sampleType, input, dims), [folder.unet.timestep.name]: timestepTensor(folder, t, batch.length) };
    const predict = async (session: ort.InferenceSession, text: Record<string, ort.Tensor>, extra: Record<string, ort.Tensor> = {}) => session.run({ ...common, ...text, ...extra });
    const epsUncond = float32Data((await predict(sessions.unet, uncondInputs))[folder.unet.prediction.name]!, 'the U-Net output');
    let epsCond: Float32Array;
    let gradient: Float32Array | null = null;
    if (sessions.guided && anyGuided && i >= guideStart && i < guideEnd) {
      const { session, prepared } = sessions.guided;
      const tokens = prepared.tokens;
      const weights = new Float32Array(batch.length * 2 * tokens);
      const relation = new Float32Array(batch.length * RELATIONS.length);
      const promptWeight = new Float32Array(batch.length);
      batch.forEach((item, b) => {
        // Unguided rows still get valid maps (token 1 for both objects) so the loss stays finite.
        weights.set(item.weights ?? tokenWeights([[1], [1]], tokens), b * 2 * tokens);
        relation.set(relationOneHot(item.weights ? item.prompt.relation : null), b * RELATIONS.length);
        promptWeight[b] = item.weights ? 1 : 0;
      });
      const out = await predict(session, condInputs, {
        ...valueFeeds,
        [GUIDED_IO.tokenWeights]: new ort.Tensor('float32', weights, [batch.length, 2, tokens]),
        [GUIDED_IO.relation]: new ort.Tensor('float32', relation, [batch.length, RELATIONS.length]),
        [GUIDED_IO.promptWeight]: new ort.Tensor('float32', promptWeight, [batch.length]),
      });
      epsCond = float32Data(out[folder.unet.prediction.name]!, 'the guided U-Net output');
      gradient = float32Data(out[prepared.gradient]!, 'the latent gradient');
      const losses = out[GUIDED_IO.perPrompt]!.data as Float32Array;
      const centroids = out[GUIDED_IO.centroids]!.data as Float32Array;
      batch.forEach((item, b) => {
        if (!item.weights) return;
        trace[b]!.loss.push(losses[b]!);
        trace[b]!.centroids.push([[centroids[b * 4]!, centroids[b * 4 + 1]!], [centroids[b * 4 + 2]!, centroids[b * 4 + 3]!]]);
      });
    } else {
      epsCond = float32Data((await predict(sessions.unet, condInputs))[folder.unet.prediction.name]!, 'the U-Net output');
    }
    // The guided U-Net differentiates with respect to its input; the loss is a function of the latent z.
    const gradientWeight = params.guidance_weight * scheduler.modelInputScale(i);
    z = z.map((zb, b) => {
      const eps = new Float32Array(size);
      for (let k = 0; k < size; k++) {
        const o = b * size + k;
        const u = epsUncond[o]!;
        eps[k] = u + params.cfg_scale * (epsCond[o]! - u) + (gradient ? gradientWeight * gradient[o]! : 0);
      }
      return scheduler.step(eps, i, zb, noise[b]!);
    });
  }

  const perImageMs = (performance.now() - started) / batch.length;
  const records: ImageRecord[] = [];
  for (const [b, item] of batch.entries()) {
    const image = await decodeLatent(z[b]!, latent, sessions.vae && folder.vaeDecoder ? { part: folder.vaeDecoder, session: sessions.vae } : null);
    const file = imageFileName(item.prompt.id, item.index);
    writeFileAtomic(join(options.outDir, file), encodePng(image));
    records.push({ prompt: item.prompt.id, index: item.index, file, ms: Math.round(perImageMs), guided: Boolean(item.weights), loss: trace[b]!.loss, centroids: trace[b]!.centroids });
  }
  return records;
}
