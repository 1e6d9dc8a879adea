/**
 * The generate stage for one chunk: generation of its prompts by the configuration's method into a
 * scratch folder, as `infsplign generate` does, then the PNGs into the artifact store. A retried chunk
 * generates again from the start: the seeded noise makes the images the same bytes.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinKey } from '../artifacts/keys.ts';
import type { ArtifactStore } from '../artifacts/store.ts';
import { MethodParamsError } from '../contracts/common-params.ts';
import { resolveMethodParams } from '../contracts/model-defaults.ts';
import { canonicalConfig, configHash } from '../contracts/run-config.ts';
import { requireMethod } from '../methods/registry.ts';
import type { GenerateChunkJob, GuidanceTrace, ImagesGenerated } from '../contracts/jobs.ts';
import { readModelFolder } from '../diffusion/model-folder.ts';
import { registeredModel, UnknownModelError } from '../diffusion/model-registry.ts';
import type { ImageRecord } from '../diffusion/manifest.ts';
import { generate, imageFileName } from '../diffusion/pipeline.ts';
import { ensureDeviceAvailable } from '../diffusion/providers.ts';
import { guidedCacheFromEnv } from '../guidance/guided-cache.ts';
import { findRelationInText } from '../guidance/relations.ts';
import { decodePng } from '../image/png.ts';
import { PermanentJobError } from './errors.ts';

export interface GenerateChunkOptions {
  /** models/registry.json, or another registry (tests) */
  registryFile?: string;
  onProgress?: (done: number, total: number) => void;
  /** stops the chunk between denoising steps */
  signal?: AbortSignal;
}

export async function generateChunk(job: GenerateChunkJob, store: ArtifactStore, options: GenerateChunkOptions = {}): Promise<Omit<ImagesGenerated, 'worker'>> {
  let folder;
  try {
    folder = readModelFolder(registeredModel(job.model, options.registryFile));
  } catch (err) {
    if (err instanceof UnknownModelError) throw new PermanentJobError(err.message);
    throw new PermanentJobError(`model ${job.model}: ${(err as Error).message}`);
  }
  const method = requireMethod(job.config.method);
  let params;
  try {
    params = resolveMethodParams(method, folder.family, folder.defaults, job.config.params, 'the job configuration');
  } catch (err) {
    if (err instanceof MethodParamsError) throw new PermanentJobError(err.message);
    throw err;
  }
  // The configuration this worker would record has to be the one submitted (the model's defaults here must complete it alike).
  if (configHash(canonicalConfig(method.name, params)) !== job.configHash)
    throw new PermanentJobError(`this worker completes configuration ${job.configHash.slice(0, 12)} into a different one with model ${job.model}'s defaults`);
  if (method.guidance && folder.unet.guidanceProblem) throw new PermanentJobError(`model ${job.model} cannot be guided: ${folder.unet.guidanceProblem}`);
  await ensureDeviceAvailable(job.device);

  const promptOf = new Map(job.prompts.map((p) => [p.externalId, p]));
  const dir = await mkdtemp(join(tmpdir(), 'infsplign-generate-'));
  try {
    const manifest = await generate({
      folder,
      prompts: job.prompts.map((p) => ({ id: p.externalId, text: p.text, objects: p.objects, relation: p.relation ?? findRelationInText(p.text) })),
      method: method.name,
      params,
      seed: job.seed,
      imagesPerPrompt: job.imagesPerPrompt,
      batchSize: job.batchSize,
      device: job.device,
      outDir: dir,
      resume: false,
      // the CLI's cache (INFSPLIGN_CACHE moves it, INFSPLIGN_CACHE_MAX_BYTES bounds it), so a guided U-Net prepared once serves both
      cache: guidedCacheFromEnv(),
      onProgress: options.onProgress,
      signal: options.signal,
    });
    const images: ImagesGenerated['images'] = [];
    for (const record of manifest.images) {
      const bytes = await readFile(join(dir, record.file));
      const { width, height } = decodePng(bytes, record.file);
      const artifactKey = joinKey(job.imageSetPrefix, imageFileName(record.prompt, record.index));
      await store.put(artifactKey, bytes);
      images.push({
        promptId: promptOf.get(record.prompt)!.promptId,
        imageIndex: record.index,
        artifactKey,
        width,
        height,
        ms: record.ms,
        guidance: guidanceOf(record),
        cost: record.cost ?? null,
      });
    }
    return {
      type: 'ImagesGenerated',
      runId: job.runId,
      chunk: job.chunk,
      round: job.round,
      device: job.device,
      images,
      failures: manifest.failures.map((f) => ({ promptId: promptOf.get(f.prompt)!.promptId, reason: f.reason })),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The image's guidance trace for the result message. A loss or centroid that is not finite (a map
 * with no attention mass, an overflow in half precision) also made the latent's gradient useless, so
 * the image is not what the configuration should give: the chunk fails for good, with the place, rather
 * than being scored as if it were, or failing later in the result's validation with a vaguer message.
 * The trace carries centroids; a method that computes none (a latent-updating one) sends no trace.
 */
function guidanceOf(record: ImageRecord): GuidanceTrace | null {
  const bad = record.loss.findIndex((loss, k) => !Number.isFinite(loss) || !(record.centroids[k] ?? []).flat().every(Number.isFinite));
  if (bad >= 0)
    throw new PermanentJobError(
      `image ${record.index} of prompt ${record.prompt}: the guidance loss or centroids are not finite at guided step ${record.steps?.[bad] ?? bad} (loss ${record.loss[bad]}, centroids ${JSON.stringify(record.centroids[bad] ?? null)})`,
    );
  if (!record.guided || record.centroids.length !== record.loss.length) return null;
  return { loss: record.loss, centroids: record.centroids as GuidanceTrace['centroids'] };
}
