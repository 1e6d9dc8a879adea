/**
 * A model folder in the layout of diffusers' ONNX exports (optimum, or diffusers' own conversion
 * script), read and checked up front so that a run fails in its first second, naming the file,
 * rather than an hour in:
 *
 *   model_index.json                  pipeline class (tells SD / SDXL pipelines from others)
 *   text_encoder/model.onnx           + text_encoder_2/ for SDXL
 *   tokenizer/tokenizer_config.json   + tokenizer_2/ for SDXL
 *   unet/model.onnx                   (unet/config.json optional)
 *   vae_decoder/model.onnx            optional for models that sample in pixel space
 *   scheduler/scheduler_config.json
 *   infsplign.json                    optional: the model's sampler settings (cfg_scale, steps, scheduler)
 *                                     and InfSplign's defaults (docs/method.md §4)
 *   <method>.json                     optional: another method's defaults for the model (attend-and-excite.json, ...)
 *
 * ONNX files are read for their graph only: weights in external data files are not loaded (weights
 * stored inside model.onnx are parsed with it, which protobuf cannot avoid).
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { SAMPLER_PARAM_NAMES, type ModelFamily } from '../contracts/common-params.ts';
import type { PartialMethodParams } from '../contracts/method-params.ts';
import { methodDefaults, type ModelDefaults } from '../contracts/model-defaults.ts';
import { infsplign } from '../methods/infsplign/index.ts';
import { registeredMethods } from '../methods/registry.ts';
import { summarizeModel, type CrossAttentionMap, type ModelSummary, type ValueSummary } from '../onnx/inspect.ts';
import { loadModel } from '../onnx/model-io.ts';
import type { Dim } from '../onnx/proto.ts';
import { readJsonFile } from '../util/read-data-file.ts';
import { schedulerConfigSchema, type SchedulerConfig } from './schedulers/config.ts';

/** An input or output of an ONNX model, its element type named as onnxruntime-node names it. */
export interface TensorInfo {
  name: string;
  /** 'float32', 'float16', 'int64', 'int32', ... */
  type: string;
  dims: Dim[] | null;
}

export interface TextEncoderPart {
  file: string;
  tokenizerDir: string;
  inputIds: TensorInfo;
  /** The output the U-Net is conditioned on: `last_hidden_state`, or for SDXL the penultimate `hidden_states.N`. */
  hiddenStates: TensorInfo;
  /** SDXL's second encoder: the pooled, projected `text_embeds` the U-Net takes as `text_embeds`. */
  pooled?: TensorInfo;
}

export interface UnetPart {
  file: string;
  sample: TensorInfo;
  timestep: TensorInfo;
  encoderHiddenStates: TensorInfo;
  /** SDXL only. */
  textEmbeds?: TensorInfo;
  /** SDXL only. */
  timeIds?: TensorInfo;
  /** The noise (or v) prediction: the first output. */
  prediction: TensorInfo;
  latent: { channels: number; height: number; width: number };
  crossAttention: CrossAttentionMap[];
  /** Why InfSplign cannot read this U-Net's attention (fused attention, no attn2 Softmax), or null. */
  guidanceProblem: string | null;
}

export interface VaeDecoderPart {
  file: string;
  latent: TensorInfo;
  image: TensorInfo;
  /** The latent is divided by this before decoding (docs/method.md §1). */
  scalingFactor: number;
}

export interface ModelFolder {
  dir: string;
  family: ModelFamily;
  /** model_index.json's `_class_name`. */
  pipelineClass: string;
  /** One encoder, or SDXL's two, in the order their outputs are concatenated. */
  textEncoders: TextEncoderPart[];
  unet: UnetPart;
  /** null for a model that samples in pixel space. */
  vaeDecoder: VaeDecoderPart | null;
  /** scheduler_config.json, validated and completed with diffusers' defaults. */
  scheduler: { file: string; config: SchedulerConfig };
  /** The model's sampler settings and per method its defaults, from infsplign.json and the other methods' files. */
  defaults: ModelDefaults;
  /** InfSplign's defaults for the model: the family's, replaced key by key by infsplign.json. */
  defaultParams: PartialMethodParams;
  /**
   * The unconditional embedding is zeros instead of the encoding of "": what diffusers' SDXL
   * pipeline does without a negative prompt (model_index.json `force_zeros_for_empty_prompt`,
   * true unless set otherwise).
   */
  zeroUnconditional: boolean;
}

export class ModelFolderError extends Error {}

const modelIndexSchema = z.looseObject({
  _class_name: z.string().min(1),
  force_zeros_for_empty_prompt: z.boolean().optional(),
});
const positiveInt = z.number().int().positive();
const unetConfigSchema = z.looseObject({
  in_channels: positiveInt.optional(),
  sample_size: z.union([positiveInt, z.tuple([positiveInt, positiveInt])]).optional(),
});
const vaeConfigSchema = z.looseObject({ scaling_factor: z.number().positive().optional() });

/** diffusers' AutoencoderKL scaling factors, for folders whose vae_decoder/ has no config.json. */
const VAE_SCALING_FACTORS: Partial<Record<ModelFamily, number>> = { sd1: 0.18215, sd2: 0.18215, sdxl: 0.13025 };
/** docs/method.md §1 latents (512 px and 1024 px), for U-Nets whose size is neither in the graph nor in a config. */
const LATENT_DEFAULTS: Partial<Record<ModelFamily, { channels: number; side: number }>> = {
  sd1: { channels: 4, side: 64 },
  sd2: { channels: 4, side: 64 },
  sdxl: { channels: 4, side: 128 },
};
/** CLIP text widths that tell SD 1.x (ViT-L) from SD 2.x (OpenCLIP ViT-H). */
const SD_CONTEXT_WIDTHS: Record<number, ModelFamily> = { 768: 'sd1', 1024: 'sd2' };

const ORT_TYPE_NAMES: Record<string, string> = { float: 'float32', double: 'float64' };

function tensorInfo(value: ValueSummary): TensorInfo {
  return { name: value.name, type: ORT_TYPE_NAMES[value.type] ?? value.type, dims: value.dims };
}

/** A file the folder must have; the error names it relative to the folder, as users lay it out. */
function requiredFile(dir: string, relative: string, why = ''): string {
  const path = join(dir, relative);
  if (!existsSync(path)) throw new ModelFolderError(`${relative} not found in ${dir}${why ? ` (${why})` : ''}`);
  return path;
}

interface OnnxPart {
  file: string;
  summary: ModelSummary;
}

function readOnnxPart(dir: string, relative: string, why?: string): OnnxPart {
  return readOnnxFile(requiredFile(dir, relative, why));
}

function readOnnxFile(file: string): OnnxPart {
  const model = loadModel(file); // its errors name the file
  try {
    return { file, summary: summarizeModel(model) };
  } catch (err) {
    throw new ModelFolderError(`${file}: ${(err as Error).message}`);
  }
}

function findValue(part: OnnxPart, kind: 'input' | 'output', name: string, types: readonly string[]): TensorInfo | undefined {
  const values = kind === 'input' ? part.summary.inputs : part.summary.outputs;
  const found = values.find((v) => v.name === name);
  if (!found) return undefined;
  const info = tensorInfo(found);
  if (!types.includes(info.type)) throw new ModelFolderError(`${part.file}: ${kind} '${name}' is ${info.type}; expected ${types.join(' or ')}`);
  return info;
}

function requireValue(part: OnnxPart, kind: 'input' | 'output', name: string, types: readonly string[]): TensorInfo {
  const info = findValue(part, kind, name, types);
  if (info) return info;
  const names = (kind === 'input' ? part.summary.inputs : part.summary.outputs).map((v) => v.name);
  throw new ModelFolderError(`${part.file}: no ${kind} '${name}' (its ${kind}s: ${names.join(', ') || 'none'})`);
}

const FLOATS = ['float32', 'float16'];
const TOKEN_IDS = ['int64', 'int32'];
const TIMESTEPS = ['int64', 'int32', 'float32', 'float16'];

/** The last dimension when the model states it. */
function lastDim(info: TensorInfo): number | undefined {
  const last = info.dims?.[info.dims.length - 1];
  return typeof last === 'number' ? last : undefined;
}

/** A diffusers U-Net export's inputs and outputs, by diffusers' names (a model folder's `unet/model.onnx`, or a file alone). */
export function readUnetFile(file: string): Omit<UnetPart, 'latent'> {
  if (!existsSync(file)) throw new ModelFolderError(`${file} not found`);
  const part = readOnnxFile(file);
  const textEmbeds = findValue(part, 'input', 'text_embeds', FLOATS);
  const timeIds = findValue(part, 'input', 'time_ids', FLOATS);
  if (Boolean(textEmbeds) !== Boolean(timeIds)) {
    throw new ModelFolderError(
      `${part.file}: has ${textEmbeds ? 'text_embeds' : 'time_ids'} but not ${textEmbeds ? 'time_ids' : 'text_embeds'}; an SDXL U-Net takes both`,
    );
  }
  const output = part.summary.outputs[0];
  if (!output) throw new ModelFolderError(`${part.file}: has no outputs`);
  return {
    file: part.file,
    sample: requireValue(part, 'input', 'sample', FLOATS),
    timestep: requireValue(part, 'input', 'timestep', TIMESTEPS),
    encoderHiddenStates: requireValue(part, 'input', 'encoder_hidden_states', FLOATS),
    textEmbeds,
    timeIds,
    prediction: requireValue(part, 'output', output.name, FLOATS),
    crossAttention: part.summary.crossAttention,
    guidanceProblem: part.summary.guidanceProblem,
  };
}

/**
 * SD 1.x / 2.x / SDXL by pipeline class, cross-attention width and the U-Net's SDXL inputs. An SD
 * pipeline with another width (a reduced test model, say) is `custom`: the SD defaults do not fit it.
 */
function recognizeFamily(pipelineClass: string, unet: Omit<UnetPart, 'latent'>, indexFile: string): ModelFamily {
  const xlClass = /StableDiffusionXL/.test(pipelineClass);
  const xlUnet = Boolean(unet.textEmbeds);
  if (xlClass && !xlUnet)
    throw new ModelFolderError(`${indexFile} names ${pipelineClass}, but ${unet.file} has no text_embeds / time_ids inputs, as an SDXL U-Net has`);
  if (xlUnet) return 'sdxl';
  if (!/StableDiffusion/.test(pipelineClass)) return 'custom';
  return SD_CONTEXT_WIDTHS[lastDim(unet.encoderHiddenStates) ?? 0] ?? 'custom';
}

/** The penultimate of an export's `hidden_states.0` .. `hidden_states.N` outputs (diffusers' `hidden_states[-2]`). */
function penultimateHiddenState(part: OnnxPart): TensorInfo {
  const layers = part.summary.outputs
    .map((v) => /^hidden_states\.(\d+)$/.exec(v.name)?.[1])
    .filter((k): k is string => k !== undefined)
    .map(Number);
  if (layers.length < 2) {
    throw new ModelFolderError(
      `${part.file}: no hidden_states.N outputs; SDXL conditions on the penultimate layer's hidden state, so export the text encoders with output_hidden_states (optimum does)`,
    );
  }
  return requireValue(part, 'output', `hidden_states.${Math.max(...layers) - 1}`, FLOATS);
}

function readTextEncoder(dir: string, index: '' | '_2', family: ModelFamily): TextEncoderPart {
  const part = readOnnxPart(dir, `text_encoder${index}/model.onnx`, index ? 'SDXL has two text encoders' : undefined);
  const tokenizerDir = join(dir, `tokenizer${index}`);
  requiredFile(dir, `tokenizer${index}/tokenizer_config.json`);
  const inputIds = requireValue(part, 'input', 'input_ids', TOKEN_IDS);
  if (family !== 'sdxl') return { file: part.file, tokenizerDir, inputIds, hiddenStates: requireValue(part, 'output', 'last_hidden_state', FLOATS) };
  const pooled = index === '_2' ? requireValue(part, 'output', 'text_embeds', FLOATS) : undefined;
  return { file: part.file, tokenizerDir, inputIds, hiddenStates: penultimateHiddenState(part), pooled };
}

/** Channels and spatial size of the latent: the graph's static dims first, then unet/config.json, then the family's. */
function latentShape(dir: string, unet: Omit<UnetPart, 'latent'>, family: ModelFamily): UnetPart['latent'] {
  const [, c, h, w] = unet.sample.dims ?? [];
  if (unet.sample.dims && unet.sample.dims.length !== 4)
    throw new ModelFolderError(`${unet.file}: input 'sample' has rank ${unet.sample.dims.length}; expected [batch, channels, height, width]`);
  const configFile = join(dir, 'unet/config.json');
  const config = existsSync(configFile) ? readJsonFile(configFile, unetConfigSchema) : {};
  const size = typeof config.sample_size === 'number' ? [config.sample_size, config.sample_size] : config.sample_size;
  const fallback = LATENT_DEFAULTS[family];
  const channels = typeof c === 'number' ? c : (config.in_channels ?? fallback?.channels);
  const height = typeof h === 'number' ? h : (size?.[0] ?? fallback?.side);
  const width = typeof w === 'number' ? w : (size?.[1] ?? fallback?.side);
  if (channels === undefined || height === undefined || width === undefined) {
    throw new ModelFolderError(
      `${unet.file}: input 'sample' has symbolic dims [${(unet.sample.dims ?? []).join(', ')}] and ${configFile} gives no in_channels / sample_size, so the latent size is unknown`,
    );
  }
  return { channels, height, width };
}

function readVaeDecoder(dir: string, family: ModelFamily, latentChannels: number): VaeDecoderPart | null {
  if (!existsSync(join(dir, 'vae_decoder/model.onnx'))) {
    if (family === 'custom') return null;
    requiredFile(dir, 'vae_decoder/model.onnx', 'Stable Diffusion samples latents, which the VAE decoder turns into images');
  }
  const part = readOnnxPart(dir, 'vae_decoder/model.onnx');
  const [latentValue] = part.summary.inputs;
  const [imageValue] = part.summary.outputs;
  if (part.summary.inputs.length !== 1 || !latentValue || !imageValue)
    throw new ModelFolderError(`${part.file}: expected one input (the latent) and an image output`);
  const latent = requireValue(part, 'input', latentValue.name, FLOATS);
  const channels = latent.dims?.[1];
  if (typeof channels === 'number' && channels !== latentChannels)
    throw new ModelFolderError(`${part.file}: takes ${channels}-channel latents, the U-Net makes ${latentChannels}`);
  const configFile = join(dir, 'vae_decoder/config.json');
  const scalingFactor = (existsSync(configFile) ? readJsonFile(configFile, vaeConfigSchema).scaling_factor : undefined) ?? VAE_SCALING_FACTORS[family];
  if (scalingFactor === undefined) throw new ModelFolderError(`${configFile} not found or has no scaling_factor; a custom model's VAE needs it`);
  return { file: part.file, latent, image: requireValue(part, 'output', imageValue.name, FLOATS), scalingFactor };
}

/** The U-Net's cross-attention width must be what the encoders give (SDXL: both, concatenated). */
function checkConditioningWidth(unet: Omit<UnetPart, 'latent'>, encoders: TextEncoderPart[]): void {
  const expected = lastDim(unet.encoderHiddenStates);
  let total = 0;
  for (const encoder of encoders) {
    const w = lastDim(encoder.hiddenStates);
    if (w === undefined) return;
    total += w;
  }
  if (expected !== undefined && total !== expected) {
    throw new ModelFolderError(`${unet.file}: encoder_hidden_states is ${expected} wide, but ${encoders.map((e) => e.file).join(' + ')} give ${total}`);
  }
}

/** The file holding the model's sampler settings, which every method shares (beside InfSplign's own defaults). */
export const SAMPLER_SETTINGS_FILE = 'infsplign.json';

/** The model's defaults from its method files, each checked by its method. */
function readModelDefaults(dir: string): ModelDefaults {
  const defaults: ModelDefaults = { sampler: {}, methods: {} };
  for (const method of registeredMethods()) {
    const file = join(dir, `${method.name}.json`);
    if (!existsSync(file)) continue;
    const own: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(readJsonFile(file, method.params.partial))) {
      if (!(SAMPLER_PARAM_NAMES as readonly string[]).includes(key)) own[key] = value;
      else if (basename(file) === SAMPLER_SETTINGS_FILE) defaults.sampler[key] = value;
      else throw new ModelFolderError(`${file}: ${key} is a sampler setting, which every method shares: set it in ${SAMPLER_SETTINGS_FILE}`);
    }
    defaults.methods[method.name] = own;
  }
  return defaults;
}

/** Reads and checks a model folder (see the file comment for the layout). */
export function readModelFolder(dirArg: string): ModelFolder {
  const dir = resolve(dirArg);
  const indexFile = requiredFile(dir, 'model_index.json');
  const index = readJsonFile(indexFile, modelIndexSchema);
  const unet = readUnetFile(requiredFile(dir, 'unet/model.onnx'));
  const family = recognizeFamily(index._class_name, unet, indexFile);
  const textEncoders = [readTextEncoder(dir, '', family)];
  if (family === 'sdxl') textEncoders.push(readTextEncoder(dir, '_2', family));
  checkConditioningWidth(unet, textEncoders);
  const latent = latentShape(dir, unet, family);
  const schedulerFile = requiredFile(dir, 'scheduler/scheduler_config.json');
  const defaults = readModelDefaults(dir);
  return {
    dir,
    family,
    pipelineClass: index._class_name,
    textEncoders,
    unet: { ...unet, latent },
    vaeDecoder: readVaeDecoder(dir, family, latent.channels),
    scheduler: { file: schedulerFile, config: readJsonFile(schedulerFile, schedulerConfigSchema) },
    defaults,
    defaultParams: methodDefaults(infsplign, family, defaults) as PartialMethodParams,
    zeroUnconditional: family === 'sdxl' && (index.force_zeros_for_empty_prompt ?? true),
  };
}
