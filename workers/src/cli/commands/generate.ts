/** `infsplign generate`: a method's images for a benchmark's prompts. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolveMethodParams } from '../../contracts/model-defaults.ts';
import { readModelFolder } from '../../diffusion/model-folder.ts';
import { findMethod, methodNames } from '../../methods/registry.ts';
import { resolveModel } from '../../diffusion/model-registry.ts';
import { guidedCacheFromEnv } from '../../guidance/guided-cache.ts';
import { generate, type GenerationPrompt } from '../../diffusion/pipeline.ts';
import { DEVICES, deviceSchema, ensureDeviceAvailable, type Device } from '../../diffusion/providers.ts';
import { findRelationInText } from '../../guidance/relations.ts';
import { loadPrompts } from '../../prompts/load.ts';
import { BENCHMARK_NAMES, type BenchmarkName } from '../../prompts/types.ts';
import { CliError, parseOptions, required, type Command } from '../command.ts';
import { requireBenchmark } from '../score-report.ts';
import { readParamsOption } from './guidance.ts';

const USAGE = `usage: infsplign generate --model DIR|NAME --benchmark ${BENCHMARK_NAMES.join('|')} --prompts FILE
                         --method ${methodNames().join('|')} --out DIR [--params JSON|@FILE] [--tag TAG]
                         [--limit N] [--seed 42] [--images-per-prompt N] [--steps N] [--batch-size N]
                         [--device ${DEVICES.join('|')}] [--resume]

Writes {ID}_{K}.png (the names evaluate reads) and manifest.json (configuration and its hash, model
hash, device, per image its cost (U-Net evaluations, backward passes, seconds) and, for guided
images, the loss at every step that evaluated it, with InfSplign's centroids).
--params: the method's parameters over the model's defaults (docs/method.md §4, §6).
Images per prompt default to the benchmark's own (visor 4, t2i 10, geneval 4).`;

export const IMAGES_PER_PROMPT: Record<BenchmarkName, number> = { visor: 4, 'visor-shapes': 4, t2i: 10, geneval: 4 };

export function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--${name} must be a positive integer, got '${value}'`, 2);
  return n;
}

/** --device: cpu unless given; anything but a known device is a usage error. */
export function parseDevice(value: string | undefined): Device {
  const device = deviceSchema.safeParse(value ?? 'cpu');
  if (!device.success) throw new CliError(`--device must be ${DEVICES.join(', ')}, got '${value}'`, 2);
  return device.data;
}

/** --seed: 42 unless given; an integer in [0, 2^32). */
export function parseSeed(value: string | undefined): number {
  const seed = value === undefined ? 42 : Number(value);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new CliError(`--seed must be an integer in [0, 2^32), got '${value}'`, 2);
  return seed;
}

/** Progress on a terminal: a bar on one line of stderr. */
export function progressBar(label: string): (done: number, total: number) => void {
  if (!process.stderr.isTTY) return (done, total) => done === total && console.error(`${label}: ${done}/${total} images`);
  const started = Date.now();
  return (done, total) => {
    const width = 30;
    const filled = total ? Math.round((done / total) * width) : width;
    const eta = done ? (((Date.now() - started) / done) * (total - done)) / 1000 : 0;
    process.stderr.write(
      `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${done && done < total ? `, ~${eta.toFixed(0)} s left` : ''}${done === total ? '\n' : ''}`,
    );
  };
}

export const generateCommand: Command = {
  name: 'generate',
  summary: "generate a method's images (baseline, infsplign, ...) for a benchmark",
  usage: USAGE,
  async run(argv) {
    const spec = {
      model: { type: 'string' },
      benchmark: { type: 'string' },
      prompts: { type: 'string' },
      tag: { type: 'string' },
      limit: { type: 'string' },
      method: { type: 'string' },
      params: { type: 'string' },
      seed: { type: 'string' },
      'images-per-prompt': { type: 'string' },
      steps: { type: 'string' },
      'batch-size': { type: 'string' },
      device: { type: 'string' },
      resume: { type: 'boolean' },
      out: { type: 'string' },
    } as const;
    const { values } = parseOptions(argv, spec, USAGE);
    const benchmark = requireBenchmark(values, USAGE);
    const method = findMethod(required(values, 'method', USAGE));
    if (!method) throw new CliError(`--method must be one of ${methodNames().join(', ')}, got '${values.method}'`, 2);
    const device = parseDevice(values.device);
    const seed = parseSeed(values.seed);

    await ensureDeviceAvailable(device);
    const folder = readModelFolder(resolveModel(required(values, 'model', USAGE)));
    const overrides = { ...(readParamsOption(values.params) as object), ...(values.steps ? { steps: positiveInt(values.steps, 'steps', 50) } : {}) };
    const params = resolveMethodParams(method, folder.family, folder.defaults, overrides, values.params ? '--params' : 'method parameters');
    if (method.guidance && folder.unet.guidanceProblem) throw new CliError(`this U-Net cannot be guided: ${folder.unet.guidanceProblem}`);

    const set = loadPrompts(benchmark, required(values, 'prompts', USAGE), { tag: values.tag });
    const limit = values.limit === undefined ? Infinity : positiveInt(values.limit, 'limit', 1);
    const prompts: GenerationPrompt[] = set.prompts
      .slice(0, limit)
      .map((p) => ({ id: p.id, text: p.text, objects: p.objects, relation: p.relation ?? findRelationInText(p.text) }));
    const out = required(values, 'out', USAGE);
    mkdirSync(out, { recursive: true });
    const manifest = await generate({
      folder,
      prompts,
      method: method.name,
      params,
      seed,
      imagesPerPrompt: positiveInt(values['images-per-prompt'], 'images-per-prompt', IMAGES_PER_PROMPT[benchmark]),
      batchSize: positiveInt(values['batch-size'], 'batch-size', 4),
      device,
      outDir: out,
      resume: values.resume ?? false,
      cache: guidedCacheFromEnv(),
      onProgress: progressBar(`${method.name} on ${folder.dir}`),
    });
    console.log(`wrote ${manifest.images.length} images and ${join(out, 'manifest.json')} (configuration ${manifest.config_hash.slice(0, 12)})`);
    for (const f of manifest.failures) console.error(`prompt ${f.prompt} not generated: ${f.reason}`);
  },
};
