/**
 * The evaluate stage for one chunk: fetch its images from the artifact store, run the detector and
 * score each image, by the same functions and in the same order as `infsplign evaluate`, so that a
 * run's per-image scores are exactly the CLI's for the same images.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactNotFoundError, type ArtifactStore } from '../artifacts/store.ts';
import type { EvaluateChunkJob, ImageScore, ImagesEvaluated } from '../contracts/jobs.ts';
import type { Detection } from '../evaluation/detection.ts';
import { createRegisteredDetector, UnknownDetectorError } from '../evaluation/detectors/registry.ts';
import type { GeneratedImage } from '../evaluation/generated-images.ts';
import { assertDetectorCovers, detectImages, detectorQueries } from '../evaluation/run-detector.ts';
import { scoreImages } from '../evaluation/score.ts';
import type { GenEvalImageResult } from '../evaluation/scorers/geneval.ts';
import type { T2IImageResult } from '../evaluation/scorers/t2i-compbench.ts';
import type { VisorImageResult } from '../evaluation/scorers/visor.ts';
import { reportingThreshold } from '../evaluation/thresholds.ts';
import { promptSetFromRows } from '../prompts/from-records.ts';
import type { PromptSet } from '../prompts/load.ts';
import type { BenchmarkName, PromptRecord } from '../prompts/types.ts';
import { PermanentJobError } from './errors.ts';

type JobPrompt = EvaluateChunkJob['prompts'][number];

/** The prompt as the loaders build it from its record, which must agree with what the job says about it. */
function agreed<P extends PromptRecord<unknown>>(given: JobPrompt, derived: P, benchmark: BenchmarkName): P {
  const said = JSON.stringify({ id: given.externalId, text: given.text, objects: given.objects, relation: given.relation });
  const derivedView = JSON.stringify({ id: derived.id, text: derived.text, objects: derived.objects, relation: derived.relation });
  if (said !== derivedView) throw new PermanentJobError(`prompt ${given.promptId}: the job gives ${said} but its ${benchmark} record reads as ${derivedView}`);
  return derived;
}

/** The chunk's prompts as `loadPrompts` would give them for the benchmark's prompt file. */
function promptSetOf(job: EvaluateChunkJob): PromptSet {
  let set: PromptSet;
  try {
    set = promptSetFromRows(
      job.benchmark,
      job.prompts.map((p) => ({ externalId: p.externalId, metadata: p.record })),
    );
  } catch (err) {
    // A record that is not the benchmark's never becomes one on a retry.
    throw new PermanentJobError((err as Error).message);
  }
  set.prompts.forEach((derived, k) => agreed(job.prompts[k]!, derived, job.benchmark));
  return set;
}

/** One of scoreImages' per-image results as the contract's ImageScore (contracts/jobs.ts says what each benchmark's fields mean). */
function imageScore(set: PromptSet, result: VisorImageResult | T2IImageResult | GenEvalImageResult): ImageScore {
  // scoreImages returns the result type of the set's scoring rules; the union is not tagged, so each case names its own.
  switch (set.scoring) {
    case 'visor': {
      const r = result as VisorImageResult;
      return {
        scored: true,
        correct: r.correct,
        value: r.correct ? 1 : 0,
        reason: r.reason,
        details: { relation: r.relation, a_detected: r.a_detected, b_detected: r.b_detected, sra: r.sra },
      };
    }
    case 't2i': {
      const r = result as T2IImageResult;
      return { scored: true, correct: r.reason === null, value: r.score, reason: r.reason, details: { position: r.position } };
    }
    case 'geneval': {
      const r = result as GenEvalImageResult;
      return { scored: true, correct: r.correct, value: r.correct ? 1 : 0, reason: r.reason, details: { tag: r.tag } };
    }
  }
}

export interface EvaluateChunkOptions {
  /** models/detectors.json, or another registry (tests) */
  detectorRegistryFile?: string;
  onProgress?: (done: number, total: number) => void;
  /** stops the chunk between images */
  signal?: AbortSignal;
}

export async function evaluateChunk(job: EvaluateChunkJob, store: ArtifactStore, options: EvaluateChunkOptions = {}): Promise<Omit<ImagesEvaluated, 'worker'>> {
  const set = promptSetOf(job);
  const promptOf = new Map(job.prompts.map((p) => [p.promptId, p]));
  const dir = await mkdtemp(join(tmpdir(), 'infsplign-evaluate-'));
  try {
    // The images go to a scratch folder under the names `evaluate` reads, so that detection runs
    // through the very same code path as the CLI.
    const files: GeneratedImage[] = [];
    for (const image of job.images) {
      options.signal?.throwIfAborted();
      const externalId = promptOf.get(image.promptId)!.externalId;
      const bytes = await store.get(image.artifactKey).catch((err: unknown) => {
        throw err instanceof ArtifactNotFoundError ? new PermanentJobError(`image ${image.imageIndex} of prompt ${image.promptId}: ${err.message}`) : err;
      });
      const path = join(dir, `${externalId}_${image.imageIndex}.png`);
      await writeFile(path, bytes);
      files.push({ prompt: externalId, image: image.imageIndex, path });
    }

    const source = `run ${job.runId} chunk ${job.chunk}`;
    const queries = detectorQueries(set);
    const detector = await createRegisteredDetector(
      job.detector,
      { threshold: reportingThreshold(job.benchmark, job.threshold) },
      options.detectorRegistryFile,
    ).catch((err: unknown) => {
      throw err instanceof UnknownDetectorError ? new PermanentJobError(err.message) : err;
    });
    try {
      assertDetectorCovers(detector, queries, files, source);
    } catch (err) {
      throw new PermanentJobError((err as Error).message);
    }
    const detected = await detectImages(detector, files, queries, options.onProgress, options.signal);
    const scored = scoreImages(job.benchmark, set, detected, { threshold: job.threshold });

    const key = (prompt: number, image: number) => `${prompt}_${image}`;
    const detectionsOf = new Map(detected.map((d) => [key(d.prompt, d.image), d]));
    const resultOf = new Map(scored.images.map((r) => [key(r.prompt, r.image), r]));
    return {
      type: 'ImagesEvaluated',
      runId: job.runId,
      chunk: job.chunk,
      round: job.round,
      detector: job.detector,
      threshold: scored.threshold,
      scorerVersion: scored.scorer_version,
      images: job.images.map((image) => {
        const externalId = promptOf.get(image.promptId)!.externalId;
        const found = detectionsOf.get(key(externalId, image.imageIndex))!;
        const result = resultOf.get(key(externalId, image.imageIndex));
        return {
          promptId: image.promptId,
          imageIndex: image.imageIndex,
          width: found.width,
          height: found.height,
          detections: found.detections.map((d: Detection) => ({ label: d.label, score: d.score, box: d.box })),
          score: result ? imageScore(set, result) : unscored(set, externalId, scored.unsupported),
        };
      }),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An image its benchmark leaves out (T2I scores every image), and why. */
function unscored(set: PromptSet, externalId: number, unsupported: Record<string, { reason: string }> | undefined): ImageScore {
  const reason =
    set.scoring === 'geneval'
      ? (unsupported?.[set.prompts.find((p) => p.id === externalId)!.raw.tag]?.reason ?? 'not scored by GenEval')
      : 'VISOR scores only prompts that state a spatial relation (not "and" or single-object prompts)';
  return { scored: false, correct: null, value: null, reason, details: {} };
}
