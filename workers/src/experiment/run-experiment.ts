/**
 * `experiment`: every configuration generates the same prompts with the same seeds, then the
 * benchmark's detector and scorer judge the images. Each configuration lives in its own folder under
 * the output (images, manifest.json, result.json), so an interrupted experiment resumes where it
 * stopped and a finished configuration is not generated again.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolveMethodParams } from '../contracts/model-defaults.ts';
import { canonicalConfig, configHash } from '../contracts/run-config.ts';
import { requireMethod } from '../methods/registry.ts';
import type { ModelFolder } from '../diffusion/model-folder.ts';
import { generate, type GenerationPrompt } from '../diffusion/pipeline.ts';
import type { Device } from '../diffusion/providers.ts';
import { evaluateImageFolder } from '../evaluation/evaluate-folder.ts';
import { scoredPromptIds } from '../evaluation/scored-prompts.ts';
import type { ScoreResult } from '../evaluation/score.ts';
import { findRelationInText } from '../guidance/relations.ts';
import type { GuidedCache } from '../guidance/guided-cache.ts';
import type { PromptSet } from '../prompts/load.ts';
import type { BenchmarkName } from '../prompts/types.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { ExperimentConfig } from './configs.ts';

export interface ExperimentOptions {
  folder: ModelFolder;
  /** As given on the command line (a registry name or a folder). */
  model: string;
  benchmark: BenchmarkName;
  set: PromptSet;
  promptsFile: string;
  /** Use only the first N prompts the benchmark scores (in id order, as a platform run's promptLimit). */
  limit?: number;
  configs: ExperimentConfig[];
  seed: number;
  imagesPerPrompt: number;
  batchSize: number;
  device: Device;
  detector: string;
  threshold: number;
  outDir: string;
  cache: GuidedCache;
  onProgress?: (config: string, done: number, total: number) => void;
}

export interface ExperimentRow {
  name: string;
  method: string;
  overrides: Record<string, unknown>;
  config_hash: string;
  images: number;
  /** Mean generation time per image (wall clock of its batch, divided by the batch size). */
  seconds_per_image: number;
  /** Mean U-Net evaluations and backward passes per image (diffusion/cost.ts). */
  unet_evaluations_per_image: number;
  backward_passes_per_image: number;
  aggregates: ScoreResult['aggregates'];
  intervals: ScoreResult['intervals'];
}

export interface ExperimentResult {
  model: string;
  model_dir: string;
  benchmark: BenchmarkName;
  prompts_file: string;
  prompts: number;
  images_per_prompt: number;
  seed: number;
  device: Device;
  detector: string;
  threshold: number;
  rows: ExperimentRow[];
  notes: string[];
}

/** The prompts to generate: those the benchmark scores, in id order, the first `limit`. */
function experimentPrompts(benchmark: BenchmarkName, set: PromptSet, limit: number | undefined): { set: PromptSet; prompts: GenerationPrompt[] } {
  const scored = scoredPromptIds(benchmark, set);
  const chosen = [...set.prompts]
    .filter((p) => scored.has(p.id))
    .sort((a, b) => a.id - b.id)
    .slice(0, limit);
  const ids = new Set(chosen.map((p) => p.id));
  const subset = { ...set, prompts: set.prompts.filter((p) => ids.has(p.id)) } as PromptSet;
  return { set: subset, prompts: chosen.map((p) => ({ id: p.id, text: p.text, objects: p.objects, relation: p.relation ?? findRelationInText(p.text) })) };
}

export async function runExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const { benchmark, folder } = options;
  const { set, prompts } = experimentPrompts(benchmark, options.set, options.limit);
  const ids = new Set(prompts.map((p) => p.id));
  if (prompts.length === 0) throw new Error(`${options.promptsFile}: none of its prompts is scored by ${benchmark}`);
  const notes: string[] = [];
  const left = options.set.prompts.length - prompts.length;
  if (left > 0)
    notes.push(
      `${left} of the file's ${options.set.prompts.length} prompts are not generated (${options.limit ? `--limit ${options.limit}, or ` : ''}not scored by ${benchmark})`,
    );
  // Every configuration is checked before the first image is made, so a typo fails in the first second.
  const resolved = options.configs.map((config) => {
    const method = requireMethod(config.method);
    const params = resolveMethodParams(method, folder.family, folder.defaults, config.overrides, `configuration ${config.name}`);
    return { config, params, hash: configHash(canonicalConfig(method.name, params)) };
  });

  const rows: ExperimentRow[] = [];
  for (const { config, params, hash } of resolved) {
    const dir = join(options.outDir, config.name);
    mkdirSync(dir, { recursive: true });
    const manifest = await generate({
      folder,
      prompts,
      method: config.method,
      params,
      seed: options.seed,
      imagesPerPrompt: options.imagesPerPrompt,
      batchSize: options.batchSize,
      device: options.device,
      outDir: dir,
      resume: true,
      cache: options.cache,
      onProgress: (done, total) => options.onProgress?.(config.name, done, total),
    });
    for (const failure of manifest.failures) notes.push(`${config.name}: prompt ${failure.prompt} not generated: ${failure.reason}`);
    const { scored, detector } = await evaluateImageFolder({
      benchmark,
      set,
      promptsSource: options.promptsFile,
      imagesDir: dir,
      detectorSpec: options.detector,
      threshold: options.threshold,
    });
    const { images: imageResults, ...figures } = scored;
    writeFileAtomic(join(dir, 'result.json'), `${JSON.stringify({ ...figures, detector, images: imageResults }, null, 2)}\n`);
    // A resumed folder may hold images of prompts this run does not use (another --limit): time only this run's.
    const made = manifest.images.filter((image) => ids.has(image.prompt));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
    rows.push({
      name: config.name,
      method: config.method,
      overrides: config.overrides,
      config_hash: hash,
      images: scored.images_scored,
      seconds_per_image: mean(made.map((image) => image.ms)) / 1000,
      unet_evaluations_per_image: mean(made.map((image) => image.cost?.unet_evaluations ?? 0)),
      backward_passes_per_image: mean(made.map((image) => image.cost?.backward_passes ?? 0)),
      aggregates: scored.aggregates,
      intervals: scored.intervals,
    });
  }
  return {
    model: options.model,
    model_dir: folder.dir,
    benchmark,
    prompts_file: options.promptsFile,
    prompts: prompts.length,
    images_per_prompt: options.imagesPerPrompt,
    seed: options.seed,
    device: options.device,
    detector: options.detector,
    threshold: options.threshold,
    rows,
    notes,
  };
}
