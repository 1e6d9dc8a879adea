/**
 * A run's work, derived from what the database and the artifact store hold, never stored twice: its
 * prompts (the prompt set's scored prompts in id order, those with images for an EVALUATE_ONLY run,
 * the first `promptLimit`), their images, and the chunks they are cut into. Submission, retry and
 * reconciliation all derive the same plan, so they enqueue the same chunks under the same job ids.
 *
 * Every step is linear in prompts x images: chunks are contiguous ranges of prompts, and a chunk's
 * images are made from its own prompts only when asked for. The API runs planning in a thread of its
 * own (planner.ts), away from the event loop that answers requests.
 */
import { artifactKeyProblem, type ArtifactStore, joinKey } from '@infsplign/workers/artifacts';
import type { BenchmarkName, EvaluateChunkJobInput, GenerateChunkJobInput, JOB_DEVICES } from '@infsplign/workers/contracts';
import type { PrismaClient, RunKind } from '../generated/prisma/client.ts';
import { promptSetFromRows, scoredPromptIds } from '@infsplign/workers/benchmarks';

/** Prompts per chunk: small enough that a retried chunk repeats little work, large enough to batch on a GPU. */
export const CHUNK_PROMPTS = 8;

export type Device = (typeof JOB_DEVICES)[number];

export interface PlannedPrompt {
  id: string;
  externalId: number;
  text: string;
  objects: string[];
  relation: string | null;
  metadata: unknown;
}

export interface PlannedImage {
  promptId: string;
  imageIndex: number;
  artifactKey: string;
}

export interface RunPlan {
  prompts: PlannedPrompt[];
  /** per prompt, in the same order, its image indices (ascending); a generated run's prompts share one list */
  imageIndices: readonly (readonly number[])[];
  /** all prompts' images together */
  imageCount: number;
  chunks: number;
  /** where the images lie (or will) in the artifact store */
  imageSetPrefix: string;
}

/** A plan of these prompts and their image indices. */
export function makePlan(prompts: PlannedPrompt[], imageIndices: readonly (readonly number[])[], imageSetPrefix: string): RunPlan {
  const imageCount = imageIndices.reduce((sum, indices) => sum + indices.length, 0);
  return { prompts, imageIndices, imageCount, chunks: Math.ceil(prompts.length / CHUNK_PROMPTS), imageSetPrefix };
}

/** What planning needs of a run (a new one or a stored one). */
export interface PlanSource {
  kind: RunKind;
  benchmark: BenchmarkName;
  promptSetId: string;
  imagesPerPrompt: number;
  promptLimit: number | null;
  imageSetPrefix: string;
}

/** A plan that cannot be made from what the run names (its image set, its prompt set). */
export class PlanError extends Error {}

/** The image set's file names: `{ID}_{K}.png`, in canonical decimal so that the name can be rebuilt from the ids. */
const IMAGE_NAME = /^(0|[1-9]\d*)_(0|[1-9]\d*)\.png$/;

/** Image `k` of prompt `externalId` in an image set, as `infsplign generate` and `upload` name it. */
export function imageKey(prefix: string, externalId: number, imageIndex: number): string {
  return joinKey(prefix, `${externalId}_${imageIndex}.png`);
}

/**
 * The images of an image set by prompt id (each prompt's indices sorted). Only PNGs directly under the
 * prefix count; a PNG named otherwise is an error, as for `infsplign evaluate`, since it would silently
 * go unscored. Throws a PlanError naming the file.
 */
export async function listImageSet(store: ArtifactStore, prefix: string): Promise<Map<number, number[]>> {
  const byPrompt = new Map<number, number[]>();
  for (const key of await store.list(prefix)) {
    const name = key.slice(prefix.length + 1);
    if (name.includes('/') || !name.toLowerCase().endsWith('.png')) continue;
    const match = IMAGE_NAME.exec(name);
    if (!match) throw new PlanError(`${key}: images must be named {ID}_{K}.png (prompt id, underscore, image index, no leading zeros), e.g. 12_0.png`);
    const indices = byPrompt.get(Number(match[1])) ?? [];
    indices.push(Number(match[2]));
    byPrompt.set(Number(match[1]), indices);
  }
  for (const indices of byPrompt.values()) indices.sort((a, b) => a - b);
  return byPrompt;
}

/** The prompt set's prompts that the benchmark scores, in id order. */
export async function scoredPrompts(prisma: PrismaClient, promptSetId: string, benchmark: BenchmarkName): Promise<PlannedPrompt[]> {
  const rows = await prisma.prompt.findMany({
    where: { promptSetId },
    orderBy: { externalId: 'asc' },
    select: { id: true, externalId: true, text: true, objects: true, relation: true, metadata: true },
  });
  const scored = scoredPromptIds(benchmark, promptSetFromRows(benchmark, rows));
  return rows.filter((row) => scored.has(row.externalId));
}

/** The run's prompts and images. For EVALUATE_ONLY the image set is listed; the others' images are those the generate stage will write. */
export async function planRun(prisma: PrismaClient, store: ArtifactStore, source: PlanSource): Promise<RunPlan> {
  if (artifactKeyProblem(source.imageSetPrefix)) throw new PlanError(`image set prefix: ${artifactKeyProblem(source.imageSetPrefix)}`);
  const candidates = await scoredPrompts(prisma, source.promptSetId, source.benchmark);
  if (source.kind === 'GENERATE_AND_EVALUATE') {
    const prompts = candidates.slice(0, source.promptLimit ?? undefined);
    const indices = Array.from({ length: source.imagesPerPrompt }, (_, k) => k);
    return makePlan(
      prompts,
      prompts.map(() => indices),
      source.imageSetPrefix,
    );
  }
  const uploaded = await listImageSet(store, source.imageSetPrefix);
  const prompts = candidates.filter((p) => uploaded.has(p.externalId)).slice(0, source.promptLimit ?? undefined);
  return makePlan(
    prompts,
    prompts.map((p) => uploaded.get(p.externalId)!.filter((k) => k < source.imagesPerPrompt)),
    source.imageSetPrefix,
  );
}

/** [start, end) of chunk `chunk` among `count` prompts cut into `chunks` near-equal parts. */
export function chunkRange(count: number, chunks: number, chunk: number): [number, number] {
  return [Math.floor((chunk * count) / chunks), Math.floor(((chunk + 1) * count) / chunks)];
}

export function chunkPrompts(plan: RunPlan, chunk: number): PlannedPrompt[] {
  const [start, end] = chunkRange(plan.prompts.length, plan.chunks, chunk);
  return plan.prompts.slice(start, end);
}

/** The chunk's images in (prompt, image) order, made from its own prompts: O(chunk), whatever the run's size. */
export function chunkImages(plan: RunPlan, chunk: number): PlannedImage[] {
  const [start, end] = chunkRange(plan.prompts.length, plan.chunks, chunk);
  const images: PlannedImage[] = [];
  for (let i = start; i < end; i++) {
    const p = plan.prompts[i];
    for (const k of plan.imageIndices[i]) images.push({ promptId: p.id, imageIndex: k, artifactKey: imageKey(plan.imageSetPrefix, p.externalId, k) });
  }
  return images;
}

/** What the job payloads need of a run. */
export interface JobRun {
  id: string;
  benchmark: BenchmarkName;
  seed: number;
  imagesPerPrompt: number;
  detector: string;
  threshold: number;
  model: string | null;
  /** the method configuration's canonical JSON and hash */
  config: { canonicalJson: string; hash: string } | null;
  imageSetPrefix: string;
}

/** The contract's prompt relation; the job schemas check the stored value when the job is enqueued. */
type JobRelation = GenerateChunkJobInput['prompts'][number]['relation'];

function jobPrompt(p: PlannedPrompt) {
  return { promptId: p.id, externalId: p.externalId, text: p.text, objects: p.objects, relation: p.relation as JobRelation };
}

export function generateJob(run: JobRun, chunk: number, round: number, prompts: readonly PlannedPrompt[], device: Device): GenerateChunkJobInput {
  if (!run.model || !run.config) throw new Error(`run ${run.id} has no model or method configuration to generate with`);
  return {
    runId: run.id,
    chunk,
    round,
    model: run.model,
    config: JSON.parse(run.config.canonicalJson),
    configHash: run.config.hash,
    benchmark: run.benchmark,
    prompts: prompts.map(jobPrompt),
    seed: run.seed,
    imagesPerPrompt: run.imagesPerPrompt,
    imageSetPrefix: run.imageSetPrefix,
    device,
  };
}

export function evaluateJob(
  run: JobRun,
  chunk: number,
  round: number,
  prompts: readonly PlannedPrompt[],
  images: readonly PlannedImage[],
): EvaluateChunkJobInput {
  return {
    runId: run.id,
    chunk,
    round,
    benchmark: run.benchmark,
    detector: run.detector,
    threshold: run.threshold,
    prompts: prompts.map((p) => ({ ...jobPrompt(p), record: p.metadata })),
    images: images.map(({ promptId, imageIndex, artifactKey }) => ({ promptId, imageIndex, artifactKey })),
  };
}
