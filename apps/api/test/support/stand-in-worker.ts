/**
 * A stand-in for the workers in API tests: it answers a run's chunk jobs with the result messages a
 * worker would send, without a model or a detector. Generate writes placeholder PNGs and, for an
 * InfSplign configuration, a made-up guidance trace per image (one entry per guided step, as the
 * pipeline records them); evaluate reports the detections a test chooses, scored with the workers'
 * scorer as the evaluate stage does.
 */
import { join } from 'node:path';
import { LocalArtifactStore } from '@infsplign/workers/artifacts/store.ts';
import { evaluateChunkJobSchema, evaluateJobId, generateChunkJobSchema, generateJobId, type GuidanceTrace, type ImagesEvaluated, type ImagesGenerated } from '@infsplign/workers/contracts/jobs.ts';
import type { Detection, ImageDetections } from '@infsplign/workers/evaluation/detection.ts';
import { scoreImages } from '@infsplign/workers/evaluation/score.ts';
import type { VisorImageResult } from '@infsplign/workers/evaluation/scorers/visor.ts';
import { promptSetFromRows } from '@infsplign/workers/prompts/from-records.ts';
import { loadPrompts } from '@infsplign/workers/prompts/load.ts';
import type { Relation } from '@infsplign/workers/prompts/types.ts';
import { eventually, type Harness } from './harness.ts';

export const SHAPES_EVAL = loadPrompts('visor-shapes', join(import.meta.dirname, '../../../../json_files/visor_shapes_eval.json'));
export const promptOfId = new Map(SHAPES_EVAL.prompts.map((p) => [p.id, p]));

/** What a test's detector sees in image k of a prompt. */
export type Detect = (prompt: { id: number; objects: string[]; relation: Relation | null }, k: number) => Detection[];

/** The made-up trace of image k of prompt `externalId` over `steps` guided steps: distinct per image and step. */
export function madeUpTrace(externalId: number, k: number, steps: number): GuidanceTrace {
  return {
    loss: Array.from({ length: steps }, (_, s) => 1 / (s + 1) + externalId / 1000 + k / 10_000),
    centroids: Array.from({ length: steps }, (_, s) => [[0.25, 0.5 + s / 100], [0.75 - k / 100, 0.5]] as [[number, number], [number, number]]),
  };
}

/** The generate stage's answer to a chunk job: placeholder PNGs in the store, their keys and (InfSplign) traces. */
export async function generatedMessage(h: Harness, runId: string, chunk: number, round = 0): Promise<ImagesGenerated> {
  const store = new LocalArtifactStore(h.artifactDir);
  const job = await eventually(async () => (await h.api.services.queues.generate.getJob(generateJobId(runId, chunk, round))) ?? undefined, `generate job ${chunk}`);
  const data = generateChunkJobSchema.parse(job.data);
  const guided = data.config.method === 'infsplign' ? data.config.params.guide_steps[1] - data.config.params.guide_steps[0] : null;
  const images = data.prompts.flatMap((p) =>
    Array.from({ length: data.imagesPerPrompt }, (_, k) => ({
      promptId: p.promptId,
      imageIndex: k,
      artifactKey: `${data.imageSetPrefix}/${p.externalId}_${k}.png`,
      width: 64,
      height: 64,
      ms: 12,
      guidance: guided === null ? null : madeUpTrace(p.externalId, k, guided),
    })),
  );
  for (const image of images) await store.put(image.artifactKey, new Uint8Array([137, 80, 78, 71]));
  return { type: 'ImagesGenerated', runId, chunk, round, device: 'cpu', worker: 'test:1', images, failures: [] };
}

/** The evaluate stage's answer to a chunk job: `detect`'s detections, scored as the evaluate stage scores them. */
export async function evaluatedMessage(h: Harness, runId: string, chunk: number, round: number, detect: Detect): Promise<ImagesEvaluated> {
  const job = await eventually(async () => (await h.api.services.queues.evaluate.getJob(evaluateJobId(runId, chunk, round))) ?? undefined, `evaluate job ${chunk}`);
  const data = evaluateChunkJobSchema.parse(job.data);
  const externalOf = new Map(data.prompts.map((p) => [p.promptId, p.externalId]));
  const set = promptSetFromRows(data.benchmark, data.prompts.map((p) => ({ externalId: p.externalId, metadata: p.record })));
  const promptOf = new Map(set.prompts.map((p) => [p.id, p]));
  const detected: ImageDetections[] = data.images.map((i) => ({ prompt: externalOf.get(i.promptId)!, image: i.imageIndex, width: 64, height: 64, detections: detect(promptOf.get(externalOf.get(i.promptId)!)!, i.imageIndex) }));
  const scored = scoreImages(data.benchmark, set, detected, { threshold: data.threshold });
  const images = data.images.map((i, n) => {
    const r = scored.images.find((s) => s.prompt === detected[n].prompt && s.image === i.imageIndex) as VisorImageResult;
    const score = { scored: true, correct: r.correct, value: r.correct ? 1 : 0, reason: r.reason, details: { relation: r.relation, a_detected: r.a_detected, b_detected: r.b_detected, sra: r.sra } };
    return { promptId: i.promptId, imageIndex: i.imageIndex, width: 64, height: 64, detections: detected[n].detections, score };
  });
  return { type: 'ImagesEvaluated', runId, chunk, round, detector: data.detector, threshold: data.threshold, scorerVersion: scored.scorer_version, worker: 'test:1', images };
}
