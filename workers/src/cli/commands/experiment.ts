/** `infsplign experiment`: configurations of any methods on one benchmark, generated, evaluated and tabulated. */
import { join, resolve } from 'node:path';
import type { MethodParams } from '../../contracts/method-params.ts';
import { resolveMethodParams } from '../../contracts/model-defaults.ts';
import { infsplign } from '../../methods/infsplign/index.ts';
import { findMethod, methodNames } from '../../methods/registry.ts';
import { readModelFolder } from '../../diffusion/model-folder.ts';
import { resolveModel } from '../../diffusion/model-registry.ts';
import { guidedCacheFromEnv } from '../../guidance/guided-cache.ts';
import { DEVICES, ensureDeviceAvailable } from '../../diffusion/providers.ts';
import { DEFAULT_THRESHOLDS } from '../../evaluation/thresholds.ts';
import { ablationConfigs, ConfigListError, parseConfigList } from '../../experiment/configs.ts';
import { runExperiment } from '../../experiment/run-experiment.ts';
import { experimentMarkdown } from '../../experiment/table.ts';
import { loadPrompts } from '../../prompts/load.ts';
import { BENCHMARK_NAMES, type BenchmarkName } from '../../prompts/types.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { CliError, parseOptions, required, type Command } from '../command.ts';
import { parseThreshold, requireBenchmark } from '../score-report.ts';
import { IMAGES_PER_PROMPT, parseDevice, parseSeed, positiveInt, progressBar } from './generate.ts';

const REPOSITORY = resolve(import.meta.dirname, '../../../..');

/** The prompt file and detector a benchmark uses when --prompts / --detector are not given. */
const BENCHMARK_DEFAULTS: Partial<Record<BenchmarkName, { prompts: string; detector: string }>> = {
  'visor-shapes': { prompts: join(REPOSITORY, 'json_files/visor_shapes_eval.json'), detector: 'shapes' },
};

const USAGE = `usage: infsplign experiment --model DIR|NAME --benchmark ${BENCHMARK_NAMES.join('|')} --out DIR
                           [--configs baseline,infsplign[,METHOD][,NAME=METHOD:{...}|NAME=@params.json|NAME={...}]]
                           [--ablation]
                           [--prompts FILE] [--limit N] [--seed 42] [--images-per-prompt N]
                           [--detector SPEC] [--threshold X] [--batch-size N] [--device ${DEVICES.join('|')}]

Generates every configuration's images for the prompts the benchmark scores (same prompts, same
seeds), runs the detector, scores them, and prints a table: each figure with its 95% bootstrap
interval, per relation, seconds and U-Net evaluations per image. Writes DIR/experiment.json and DIR/experiment.md, and
per configuration DIR/NAME/ (images, manifest.json, result.json). Run it again with the same --out to
resume: finished images are kept.
  --configs     a method's name (${methodNames().join(', ')}) runs it with the model's defaults;
                NAME=METHOD:{json} or NAME=METHOD:@FILE with those parameters replaced; NAME={json} or
                NAME=@FILE is InfSplign so (default: baseline,infsplign)
  --ablation    adds loss_type (gelu, relu, sigmoid), strategy (diff, dec, none) and the guidance
                weight (half, default, double), one at a time
  --prompts     default for visor-shapes: json_files/visor_shapes_eval.json
  --limit       only the first N scored prompts (by id)
  --detector    default for visor-shapes: shapes`;

const OPTIONS = {
  model: { type: 'string' },
  benchmark: { type: 'string' },
  configs: { type: 'string' },
  ablation: { type: 'boolean' },
  prompts: { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  'images-per-prompt': { type: 'string' },
  detector: { type: 'string' },
  threshold: { type: 'string' },
  'batch-size': { type: 'string' },
  device: { type: 'string' },
  out: { type: 'string' },
} as const;

export const experimentCommand: Command = {
  name: 'experiment',
  summary: 'generate, evaluate and tabulate configurations on a benchmark',
  usage: USAGE,
  async run(argv) {
    const { values } = parseOptions(argv, OPTIONS, USAGE);
    const benchmark = requireBenchmark(values, USAGE);
    const defaults = BENCHMARK_DEFAULTS[benchmark];
    const promptsFile = values.prompts ?? defaults?.prompts;
    if (!promptsFile) throw new CliError(`--prompts is needed for ${benchmark}\n\n${USAGE}`, 2);
    const detector = values.detector ?? defaults?.detector;
    if (!detector) throw new CliError(`--detector is needed for ${benchmark}\n\n${USAGE}`, 2);
    const threshold = parseThreshold(values.threshold, USAGE) ?? DEFAULT_THRESHOLDS[benchmark];
    const device = parseDevice(values.device);
    const seed = parseSeed(values.seed);
    const out = required(values, 'out', USAGE);
    const model = required(values, 'model', USAGE);

    let configs;
    try {
      configs = parseConfigList(values.configs ?? 'baseline,infsplign');
    } catch (err) {
      if (err instanceof ConfigListError) throw new CliError(err.message, 2);
      throw err;
    }
    await ensureDeviceAvailable(device);
    const folder = readModelFolder(resolveModel(model));
    if (values.ablation) {
      for (const config of ablationConfigs(resolveMethodParams(infsplign, folder.family, folder.defaults, {}, `${folder.dir} defaults`) as MethodParams)) {
        if (!configs.some((c) => c.name === config.name)) configs.push(config);
      }
    }
    if (configs.some((c) => findMethod(c.method)!.guidance) && folder.unet.guidanceProblem)
      throw new CliError(`this U-Net cannot be guided: ${folder.unet.guidanceProblem}`);

    const bars = new Map<string, (done: number, total: number) => void>();
    const result = await runExperiment({
      folder,
      model,
      benchmark,
      set: loadPrompts(benchmark, promptsFile),
      promptsFile,
      limit: values.limit === undefined ? undefined : positiveInt(values.limit, 'limit', 1),
      configs,
      seed,
      imagesPerPrompt: positiveInt(values['images-per-prompt'], 'images-per-prompt', IMAGES_PER_PROMPT[benchmark]),
      batchSize: positiveInt(values['batch-size'], 'batch-size', 4),
      device,
      detector,
      threshold,
      outDir: out,
      cache: guidedCacheFromEnv(),
      onProgress: (name, done, total) => {
        if (!bars.has(name)) bars.set(name, progressBar(name));
        bars.get(name)!(done, total);
      },
    });
    const markdown = experimentMarkdown(result);
    writeFileAtomic(join(out, 'experiment.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileAtomic(join(out, 'experiment.md'), markdown);
    console.log(markdown);
    console.log(`wrote ${join(out, 'experiment.json')} and ${join(out, 'experiment.md')}`);
  },
};
