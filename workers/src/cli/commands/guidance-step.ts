/**
 * `infsplign guidance step`: one guided denoising step on given inputs, through the very function the
 * sampling loop calls (diffusion/guided-step.ts), for debugging and conformance with the reference.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { defaultParams, MODEL_FAMILIES, type ModelFamily, type PartialMethodParams } from '../../contracts/method-params.ts';
import { floatTensor, type FloatType } from '../../diffusion/float-data.ts';
import { guidedStep } from '../../diffusion/guided-step.ts';
import { readModelFolder, readUnetFile, type ModelFolder, type UnetPart } from '../../diffusion/model-folder.ts';
import { resolveModel } from '../../diffusion/model-registry.ts';
import { conditioning, openGuidedUnet } from '../../diffusion/pipeline.ts';
import { createSession, type Device } from '../../diffusion/providers.ts';
import { parseSchedulerConfig } from '../../diffusion/schedulers/config.ts';
import { createScheduler } from '../../diffusion/schedulers/scheduler.ts';
import { encodePrompts } from '../../diffusion/text-encoder.ts';
import { guidedCacheFromEnv } from '../../guidance/guided-cache.ts';
import { promptLossWeight, relationProblem } from '../../guidance/loss-graph.ts';
import { infsplign } from '../../methods/infsplign/index.ts';
import { objectTokenSpans, ObjectNotFoundError, tokenWeights } from '../../guidance/token-spans.ts';
import { loadTokenizer, type Tokenizer } from '../../text/tokenizer.ts';
import { formatNpy, readNpy, type FloatArray } from '../../util/npy.ts';
import { CliError, parseOptions, required } from '../command.ts';
import { parseDevice } from './generate.ts';
import { checkMethod, parseRelation, stepParams } from './guidance.ts';

export const GUIDANCE_STEP_USAGE = `usage: infsplign guidance step (--model DIR|NAME | --unet FILE.onnx (--tokenizer DIR | --object-tokens JSON) [--family sd1|sd2|sdxl|custom])
                             --prompt TEXT --objects SUBJECT,REFERENCE --relation REL --latent FILE
                             [--cond FILE --uncond FILE] [--text-embeds FILE --uncond-text-embeds FILE --time-ids FILE]
                             [--step I] [--steps N] [--timestep T] [--params JSON|@FILE] [--out DIR] [--device cpu|cuda|webgpu]

One denoising step i of docs/method.md §1 on the given latent z, through the code generation runs:
prints {"guided", "step", "timestep", "object_tokens", "loss", "centroids", "layers": [{"name", "spatial",
"energy", "total", "centroids"}], "grad": {"shape", "data"}, "eps_guided": {"shape", "data"}}, with
grad = d loss / d z and eps_guided = eps_uncond + cfg_scale (eps_cond - eps_uncond) + guidance_weight grad.
Arrays (--latent, --cond, ...) are float32 .npy files (little-endian, C order) or JSON nested lists; z is
[1, C, H, W], the embeddings [1, tokens, width] (SDXL: text_embeds [1, width], time_ids [1, 6]).
--model: the folder's U-Net, tokenizer, scheduler and defaults; without --cond/--uncond the prompt and ""
  (zeros for SDXL) are encoded by its text encoder(s), and SDXL's size conditioning is the folder's.
--unet: a U-Net export alone; the objects' token positions come from --tokenizer (a tokenizer folder) or
  --object-tokens ([[subject positions], [reference positions]]); --cond and --uncond are needed;
  defaults are --family's (sd1 unless given); the scheduler is DDPM's or DDIM's (no input scaling).
--timestep: the U-Net's timestep; default the scheduler's at step I of --steps (or the parameters' steps).
--out DIR: also writes grad.npy, eps_uncond.npy, eps_cond.npy and eps_guided.npy there.`;

const OPTIONS = {
  method: { type: 'string' },
  model: { type: 'string' },
  unet: { type: 'string' },
  tokenizer: { type: 'string' },
  'object-tokens': { type: 'string' },
  family: { type: 'string' },
  prompt: { type: 'string' },
  objects: { type: 'string' },
  relation: { type: 'string' },
  latent: { type: 'string' },
  cond: { type: 'string' },
  uncond: { type: 'string' },
  'text-embeds': { type: 'string' },
  'uncond-text-embeds': { type: 'string' },
  'time-ids': { type: 'string' },
  step: { type: 'string' },
  steps: { type: 'string' },
  timestep: { type: 'string' },
  params: { type: 'string' },
  out: { type: 'string' },
  device: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseOptions<typeof OPTIONS>>['values'];

/** Nested JSON lists of numbers as a float array with their shape. */
function jsonArray(value: unknown, source: string): FloatArray {
  const shape: number[] = [];
  for (let level = value; Array.isArray(level); level = level[0]) shape.push(level.length);
  const data = (value as unknown[]).flat(Infinity);
  const count = shape.reduce((a, b) => a * b, 1);
  if (shape.length === 0 || data.length !== count || data.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new CliError(`${source}: expected nested lists of numbers of one rectangular shape`);
  }
  return { shape, data: Float32Array.from(data as number[]) };
}

/** An array option: a .npy file, or a JSON file of nested lists; `shape` checks it (null: any size there). */
function readArray(path: string, option: string, shape: ReadonlyArray<number | null>): FloatArray {
  if (!existsSync(path)) throw new CliError(`--${option} ${path}: no such file`);
  let array: FloatArray;
  try {
    array = path.endsWith('.json') ? jsonArray(JSON.parse(readFileSync(path, 'utf8')), path) : readNpy(path);
  } catch (err) {
    throw new CliError(`--${option} ${err instanceof CliError ? '' : `${path}: `}${(err as Error).message}`);
  }
  if (array.shape.length !== shape.length || shape.some((d, k) => d !== null && d !== array.shape[k])) {
    throw new CliError(`--${option} ${path}: shape [${array.shape.join(', ')}], expected [${shape.map((d) => d ?? 'any').join(', ')}]`);
  }
  return array;
}

const tensorOf = (array: FloatArray, type: string) => floatTensor(type as FloatType, array.data, array.shape);

/** Where the U-Net and what goes with it come from: a model folder, or a U-Net file alone. */
interface StepModel {
  unet: Omit<UnetPart, 'latent'>;
  family: ModelFamily;
  defaults: PartialMethodParams;
  folder: ModelFolder | null;
}

function stepModel(values: Values): StepModel {
  if (values.model && values.unet) throw new CliError('give --model or --unet, not both', 2);
  if (values.model) {
    const folder = readModelFolder(resolveModel(values.model));
    return { unet: folder.unet, family: folder.family, defaults: folder.defaultParams, folder };
  }
  if (!values.unet) throw new CliError(`missing --model or --unet\n\n${GUIDANCE_STEP_USAGE}`, 2);
  const family = (values.family ?? 'sd1') as ModelFamily;
  if (!MODEL_FAMILIES.includes(family)) throw new CliError(`--family must be ${MODEL_FAMILIES.join(', ')}, got '${values.family}'`, 2);
  return { unet: readUnetFile(values.unet), family, defaults: defaultParams(family), folder: null };
}

/** The U-Net's text inputs, conditional and unconditional, from files or (with a model folder) its encoders. */
async function textInputs(
  values: Values,
  prompt: string,
  model: StepModel,
  device: Device,
): Promise<{ cond: Record<string, ort.Tensor>; uncond: Record<string, ort.Tensor>; tokenizer: Tokenizer | null }> {
  const { unet, folder } = model;
  if (!values.cond !== !values.uncond) throw new CliError('give --cond and --uncond together', 2);
  if (!values.cond) {
    if (!folder) throw new CliError('--unet needs --cond and --uncond (the embeddings of the prompt and of "")', 2);
    const cond = await encodePrompts(folder, [prompt], device);
    const uncond = await encodePrompts(folder, [''], device, { zeros: folder.zeroUnconditional });
    return { cond: conditioning(folder, cond, [0]), uncond: conditioning(folder, uncond, [0]), tokenizer: cond.tokenizer };
  }
  const width = unet.encoderHiddenStates.dims?.[2];
  const hidden = (option: 'cond' | 'uncond') =>
    tensorOf(readArray(values[option]!, option, [1, null, typeof width === 'number' ? width : null]), unet.encoderHiddenStates.type);
  const cond: Record<string, ort.Tensor> = { [unet.encoderHiddenStates.name]: hidden('cond') };
  const uncond: Record<string, ort.Tensor> = { [unet.encoderHiddenStates.name]: hidden('uncond') };
  if (unet.textEmbeds && unet.timeIds) {
    for (const option of ['text-embeds', 'uncond-text-embeds', 'time-ids'] as const)
      if (!values[option]) throw new CliError(`an SDXL U-Net needs --${option}`, 2);
    cond[unet.textEmbeds.name] = tensorOf(readArray(values['text-embeds']!, 'text-embeds', [1, null]), unet.textEmbeds.type);
    uncond[unet.textEmbeds.name] = tensorOf(readArray(values['uncond-text-embeds']!, 'uncond-text-embeds', [1, null]), unet.textEmbeds.type);
    cond[unet.timeIds.name] = uncond[unet.timeIds.name] = tensorOf(readArray(values['time-ids']!, 'time-ids', [1, 6]), unet.timeIds.type);
  }
  const tokenizer = folder ? loadTokenizer(folder.textEncoders[0]!.tokenizerDir) : values.tokenizer ? loadTokenizer(values.tokenizer) : null;
  return { cond, uncond, tokenizer };
}

/** The token positions of the two objects: given, or found in the prompt as generation finds them. */
function objectPositions(
  values: Values,
  prompt: string,
  objects: string[],
  tokenizer: Tokenizer | null,
  tokens: number,
  params: ReturnType<typeof stepParams>['params'],
): number[][] {
  if (values['object-tokens']) {
    let spans: unknown;
    try {
      spans = JSON.parse(values['object-tokens']);
    } catch (err) {
      throw new CliError(`--object-tokens is not valid JSON: ${(err as Error).message}`, 2);
    }
    const valid =
      Array.isArray(spans) &&
      spans.length === 2 &&
      spans.every((s) => Array.isArray(s) && s.length > 0 && s.every((p) => Number.isInteger(p) && p >= 0 && p < tokens));
    if (!valid)
      throw new CliError(`--object-tokens must be [[subject positions], [reference positions]], each a non-empty list of token positions below ${tokens}`, 2);
    return spans as number[][];
  }
  if (!tokenizer) throw new CliError('--unet needs --tokenizer or --object-tokens to know which tokens stand for the objects', 2);
  try {
    return objectTokenSpans(tokenizer, tokenizer.encode(prompt, { length: tokens }), objects, params.object_tokens, params.token_alignment);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) throw new CliError(`--objects: ${err.message}`);
    throw err;
  }
}

const shaped = (shape: number[], data: Float32Array) => ({ shape, data: Array.from(data) });

export async function guidanceStep(argv: string[]): Promise<void> {
  const { values } = parseOptions(argv, OPTIONS, GUIDANCE_STEP_USAGE);
  checkMethod(values.method);
  if (values.tokenizer && values['object-tokens']) throw new CliError('give --tokenizer or --object-tokens, not both', 2);
  const prompt = required(values, 'prompt', GUIDANCE_STEP_USAGE);
  const objects = required(values, 'objects', GUIDANCE_STEP_USAGE)
    .split(',')
    .map((o) => o.trim());
  if (objects.length !== 2 || objects.some((o) => !o))
    throw new CliError(`--objects must be two names, subject then reference, separated by a comma; got '${values.objects}'`, 2);
  const relation = parseRelation(required(values, 'relation', GUIDANCE_STEP_USAGE));
  const device = parseDevice(values.device);
  const model = stepModel(values);
  const { params, step, guided } = stepParams(values, model.defaults, model.family);
  const problem = relationProblem(relation, params);
  if (problem) throw new CliError(`--relation '${values.relation}': ${problem}`);
  if (!model.folder && params.scheduler === 'euler')
    throw new CliError("scheduler euler scales the U-Net input by the sigmas of a model's scheduler file: use --model", 2);
  if (guided && model.unet.guidanceProblem) throw new CliError(`this U-Net cannot be guided: ${model.unet.guidanceProblem}`);

  const channels = model.unet.sample.dims?.[1];
  const latent = readArray(required(values, 'latent', GUIDANCE_STEP_USAGE), 'latent', [1, typeof channels === 'number' ? channels : null, null, null]);
  const [, c, height, width] = latent.shape as [number, number, number, number];
  const { cond, uncond, tokenizer } = await textInputs(values, prompt, model, device);
  const tokens = cond[model.unet.encoderHiddenStates.name]!.dims[1]!;
  const spans = objectPositions(values, prompt, objects, tokenizer, tokens, params);

  const schedulerConfig = model.folder
    ? parseSchedulerConfig(model.folder.scheduler.config, model.folder.scheduler.file)
    : parseSchedulerConfig({}, "diffusers' defaults");
  const scheduler = createScheduler(params.scheduler, schedulerConfig, params.steps);
  const timestep = values.timestep === undefined ? scheduler.timesteps[step]! : Number(values.timestep);
  if (!Number.isFinite(timestep)) throw new CliError(`--timestep must be a number, got '${values.timestep}'`, 2);

  const unetSession = await createSession(model.unet.file, device);
  const guidedUnet = guided
    ? await openGuidedUnet(
        model.unet.file,
        { method: infsplign, params, latentHeight: height, latentWidth: width, latentInput: model.unet.sample.name },
        guidedCacheFromEnv(),
        device,
      )
    : null;
  try {
    const result = await guidedStep({
      unet: model.unet,
      sessions: { unet: unetSession, guided: guidedUnet },
      method: infsplign,
      params,
      scheduler,
      stepIndex: step,
      timestep,
      latents: [latent.data],
      latentDims: [c, height, width],
      cond,
      uncond,
      rows: [{ weights: tokenWeights(spans, tokens), relation, lossWeight: promptLossWeight(params) }],
    });
    const image = result.images[0];
    const arrays = {
      grad: result.gradient ?? new Float32Array(latent.data.length),
      eps_uncond: result.epsUncond,
      eps_cond: result.epsCond,
      eps_guided: result.eps,
    };
    if (values.out) {
      mkdirSync(values.out, { recursive: true });
      for (const [name, data] of Object.entries(arrays)) writeFileSync(join(values.out, `${name}.npy`), formatNpy({ shape: latent.shape, data }));
    }
    console.log(
      JSON.stringify({
        guided: result.guided,
        step,
        timestep,
        object_tokens: spans,
        ...(image ? { loss: image.loss, centroids: image.centroids, layers: image.report.layers } : { guide_steps: params.guide_steps }),
        grad: shaped(latent.shape, arrays.grad),
        eps_guided: shaped(latent.shape, arrays.eps_guided),
      }),
    );
  } finally {
    await unetSession.release();
    await guidedUnet?.session.release();
  }
}
