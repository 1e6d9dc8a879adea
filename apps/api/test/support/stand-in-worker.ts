/**
 * A stand-in for the workers in API tests: it answers a run's chunk jobs with the result messages a
 * worker would send, without a model or a detector. Generate writes placeholder PNGs and, for an
 * InfSplign configuration, a made-up guidance trace per image (one entry per guided step, as the
 * pipeline records them); evaluate reports the detections a test chooses, scored with the workers'
 * scorer as the evaluate stage does.
 */
import { join } from 'node:path';
import { LocalArtifactStore } from '@infsplign/workers/artifacts';
import {
  evaluateChunkJobSchema,
  evaluateJobId,
  generateChunkJobSchema,
  generateJobId,
  type GuidanceTrace,
  type ImageCost,
  type ImagesEvaluated,
  type ImagesGenerated,
  type Relation,
} from '@infsplign/workers/contracts';
import { type Detection, type ImageDetections, loadPrompts, promptSetFromRows, scoreImages, type VisorImageResult } from '@infsplign/workers/benchmarks';
import { ingest } from '../../src/ingest/ingester.ts';
import { eventually, type Harness } from './harness.ts';

export const SHAPES_EVAL = loadPrompts('visor-shapes', join(import.meta.dirname, '../../../../json_files/visor_shapes_eval.json'));
export const promptOfId = new Map(SHAPES_EVAL.prompts.map((p) => [p.id, p]));

/** What a test's detector sees in image k of a prompt. */
export type Detect = (prompt: { id: number; objects: string[]; relation: Relation | null }, k: number) => Detection[];

/** The made-up trace of image k of prompt `externalId` over `steps` guided steps: distinct per image and step. */
export function madeUpTrace(externalId: number, k: number, steps: number): GuidanceTrace {
  return {
    loss: Array.from({ length: steps }, (_, s) => 1 / (s + 1) + externalId / 1000 + k / 10_000),
    centroids: Array.from(
      { length: steps },
      (_, s) =>
        [
          [0.25, 0.5 + s / 100],
          [0.75 - k / 100, 0.5],
        ] as [[number, number], [number, number]],
    ),
  };
}

/**
 * The made-up cost of image k of a configuration with `guided` guided steps (null: unguided) over
 * `steps` steps: a CFG pair per step, one more pass with its backward pass per guided step; image k
 * takes 10 + 4k ms (so a run with 2 images per prompt takes 12 ms per image on average).
 */
export function madeUpCost(k: number, steps: number, guided: number | null): ImageCost {
  return { unet_evaluations: 2 * steps + (guided ?? 0), backward_passes: guided ?? 0, seconds: (10 + 4 * k) / 1000 };
}

/** The generate stage's answer to a chunk job: placeholder PNGs in the store, their keys, costs and (InfSplign) traces. */
export async function generatedMessage(h: Harness, runId: string, chunk: number, round = 0): Promise<ImagesGenerated> {
  const store = new LocalArtifactStore(h.artifactDir);
  const job = await eventually(
    async () => (await h.api.services.queues.generate.getJob(generateJobId(runId, chunk, round))) ?? undefined,
    `generate job ${chunk}`,
  );
  const data = generateChunkJobSchema.parse(job.data);
  const window = data.config.method === 'infsplign' ? (data.config.params.guide_steps as [number, number]) : null;
  const guided = window ? window[1] - window[0] : null;
  const images = data.prompts.flatMap((p) =>
    Array.from({ length: data.imagesPerPrompt }, (_, k) => ({
      promptId: p.promptId,
      imageIndex: k,
      artifactKey: `${data.imageSetPrefix}/${p.externalId}_${k}.png`,
      width: 64,
      height: 64,
      ms: 10 + 4 * k,
      guidance: guided === null ? null : madeUpTrace(p.externalId, k, guided),
      cost: madeUpCost(k, data.config.params.steps as number, guided),
    })),
  );
  for (const image of images) await store.put(image.artifactKey, new Uint8Array([137, 80, 78, 71]));
  return { type: 'ImagesGenerated', runId, chunk, round, device: 'cpu', worker: 'test:1', images, failures: [] };
}

/** The evaluate stage's answer to a chunk job: `detect`'s detections, scored as the evaluate stage scores them. */
export async function evaluatedMessage(h: Harness, runId: string, chunk: number, round: number, detect: Detect): Promise<ImagesEvaluated> {
  const job = await eventually(
    async () => (await h.api.services.queues.evaluate.getJob(evaluateJobId(runId, chunk, round))) ?? undefined,
    `evaluate job ${chunk}`,
  );
  const data = evaluateChunkJobSchema.parse(job.data);
  const externalOf = new Map(data.prompts.map((p) => [p.promptId, p.externalId]));
  const set = promptSetFromRows(
    data.benchmark,
    data.prompts.map((p) => ({ externalId: p.externalId, metadata: p.record })),
  );
  const promptOf = new Map(set.prompts.map((p) => [p.id, p]));
  const detected: ImageDetections[] = data.images.map((i) => ({
    prompt: externalOf.get(i.promptId)!,
    image: i.imageIndex,
    width: 64,
    height: 64,
    detections: detect(promptOf.get(externalOf.get(i.promptId)!)!, i.imageIndex),
  }));
  const scored = scoreImages(data.benchmark, set, detected, { threshold: data.threshold });
  const images = data.images.map((i, n) => {
    const r = scored.images.find((s) => s.prompt === detected[n].prompt && s.image === i.imageIndex) as VisorImageResult;
    const score = {
      scored: true,
      correct: r.correct,
      value: r.correct ? 1 : 0,
      reason: r.reason,
      details: { relation: r.relation, a_detected: r.a_detected, b_detected: r.b_detected, sra: r.sra },
    };
    return { promptId: i.promptId, imageIndex: i.imageIndex, width: 64, height: 64, detections: detected[n].detections, score };
  });
  return {
    type: 'ImagesEvaluated',
    runId,
    chunk,
    round,
    detector: data.detector,
    threshold: data.threshold,
    scorerVersion: scored.scorer_version,
    worker: 'test:1',
    images,
  };
}

/** A baseline run of the test model on 10 VISOR-Shapes prompts x 2 images, with `extra` changed. */
export const baselineInput = (extra: Record<string, unknown> = {}) => ({
  kind: 'GENERATE_AND_EVALUATE',
  benchmark: 'visor-shapes',
  promptSet: 'eval',
  model: 'tiny-test',
  method: 'baseline',
  detector: 'shapes',
  imagesPerPrompt: 2,
  limit: 10,
  ...extra,
});

/**
 * A finished run of team alpha's: `input` submitted through the API, its chunks answered by the
 * stand-in worker (`detect`'s detections) and ingested in turn.
 */
export async function finishRun(h: Harness, input: Record<string, unknown>, detect: Detect): Promise<string> {
  const submitted = await h.gql('mutation ($input: SubmitRunInput!) { submitRun(input: $input) { run { id } } }', { input }, h.tokens.alpha);
  if (submitted.errors) throw new Error(`submitRun: ${JSON.stringify(submitted.errors)}`);
  const id: string = submitted.data!.submitRun.run.id;
  const { chunksTotal } = await h.prisma.run.findUniqueOrThrow({ where: { id } });
  for (let chunk = 0; chunk < chunksTotal; chunk++) await ingest(h.api.services, await generatedMessage(h, id, chunk));
  for (let chunk = 0; chunk < chunksTotal; chunk++) await ingest(h.api.services, await evaluatedMessage(h, id, chunk, 0, detect));
  const { status, errorReason } = await h.prisma.run.findUniqueOrThrow({ where: { id } });
  if (status !== 'FINISHED') throw new Error(`run ${id} is ${status}: ${errorReason}`);
  return id;
}

/** Boxes whose centres stand in the relation (VISOR compares the boxes' centres). */
const BOXES: Record<'left of' | 'right of' | 'above' | 'below', [Detection['box'], Detection['box']]> = {
  'left of': [
    [0, 20, 10, 30],
    [40, 20, 50, 30],
  ],
  'right of': [
    [40, 20, 50, 30],
    [0, 20, 10, 30],
  ],
  above: [
    [20, 0, 30, 10],
    [20, 40, 30, 50],
  ],
  below: [
    [20, 40, 30, 50],
    [20, 0, 30, 10],
  ],
};

/** Both objects detected, in the prompt's relation or (`swapped`) in the opposite one. */
export function placed(prompt: { objects: string[]; relation: Relation | null }, swapped = false): Detection[] {
  const [a, b] = BOXES[prompt.relation as keyof typeof BOXES];
  const [boxA, boxB] = swapped ? [b, a] : [a, b];
  return [
    { label: prompt.objects[0]!, score: 0.9, box: boxA },
    { label: prompt.objects[1]!, score: 0.9, box: boxB },
  ];
}

/** Every image correct; none (both objects found, misplaced); only image 0 of every prompt. */
export const allCorrect: Detect = (prompt) => placed(prompt);
export const noneCorrect: Detect = (prompt) => placed(prompt, true);
export const firstCorrect: Detect = (prompt, k) => placed(prompt, k !== 0);
