/**
 * Turning a submission into a run and its jobs: validation (shapes with zod, names against the
 * catalogue, method parameters with the contracts' schema and the model's defaults), the canonical
 * configuration (docs/method.md §4), reuse of an identical FINISHED run unless forced, then the run's
 * rows and its chunks on the queues. Also image sets (registerImageSet) and rescoring.
 */
import { randomUUID } from 'node:crypto';
import { artifactKeySchema } from '@infsplign/workers/artifacts/keys.ts';
import { detectorSpecSchema } from '@infsplign/workers/contracts/jobs.ts';
import {
  canonicalConfig,
  canonicalJson,
  configHash,
  defaultParams,
  METHODS,
  MethodParamsError,
  partialMethodParamsSchema,
  resolveParams,
  type PartialMethodParams,
} from '@infsplign/workers/contracts/method-params.ts';
import { isBenchmarkName, type BenchmarkName } from '@infsplign/workers/prompts/types.ts';
import { z } from 'zod';
import { ApiError, inputError, notFound, parseInput, type FieldPath } from '../errors.ts';
import type { Benchmark, ImageSet, Prisma, PromptSet, Run, Team } from '../generated/prisma/client.ts';
import type { Services } from '../services.ts';
import { listImageSet, planRun, PlanError, type PlanSource, type RunPlan } from './plan.ts';
import { enqueueChunks, enqueueFailure, failActiveRun, loadJobRun, pendingChunks, type RunWork } from './work.ts';

const nameSchema = z.string().trim().min(1).max(200);
/** GraphQL's Int is 32-bit signed; the contracts allow up to 2^32 - 1. */
const seedSchema = z.number().int().min(0).max(0x7fffffff);
const thresholdSchema = z.number().min(0).lt(1, 'a detector threshold is below 1 (boxes with score > threshold count)');
const imagesPerPromptSchema = z.number().int().min(1).max(100);
/** No prompt set the project knows has more prompts than VISOR's 31,680. */
const limitSchema = z.number().int().min(1).max(1_000_000);

/** Drops GraphQL's explicit nulls, so that "not given" has one spelling. */
function withoutNulls(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}

const submitSchema = z
  .strictObject({
    kind: z.enum(['GENERATE_AND_EVALUATE', 'EVALUATE_ONLY']),
    benchmark: nameSchema,
    promptSet: nameSchema,
    model: nameSchema.optional(),
    method: z.enum(METHODS).optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    imageSet: z.uuid('an image set id is a UUID').optional(),
    detector: detectorSpecSchema,
    threshold: thresholdSchema.optional(),
    seed: seedSchema.default(0),
    imagesPerPrompt: imagesPerPromptSchema.optional(),
    limit: limitSchema.optional(),
    force: z.boolean().default(false),
  })
  .superRefine((input, ctx) => {
    const needs = input.kind === 'GENERATE_AND_EVALUATE' ? (['model', 'method'] as const) : (['imageSet'] as const);
    const refuses = input.kind === 'GENERATE_AND_EVALUATE' ? (['imageSet'] as const) : (['model', 'method', 'params'] as const);
    for (const key of needs) if (input[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `required for a ${input.kind} run` });
    for (const key of refuses) if (input[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `not used by a ${input.kind} run` });
  });

export interface SubmitResult {
  run: Run;
  /** an identical FINISHED run was returned */
  reused: boolean;
}

/** The benchmark and prompt set a submission names, or errors at their input paths. */
async function findPromptSet(services: Services, benchmarkName: string, promptSetName: string, base: FieldPath): Promise<{ benchmark: Benchmark & { name: BenchmarkName }; promptSet: PromptSet }> {
  const benchmark = await services.prisma.benchmark.findUnique({ where: { name: benchmarkName } });
  if (!benchmark || !isBenchmarkName(benchmark.name)) {
    const known = (await services.prisma.benchmark.findMany({ select: { name: true }, orderBy: { name: 'asc' } })).map((b) => b.name);
    throw inputError([...base, 'benchmark'], `unknown benchmark '${benchmarkName}' (known: ${known.join(', ') || 'none; run npm run db:seed'})`);
  }
  const promptSet = await services.prisma.promptSet.findUnique({ where: { benchmarkId_name: { benchmarkId: benchmark.id, name: promptSetName } } });
  if (!promptSet) {
    const known = (await services.prisma.promptSet.findMany({ where: { benchmarkId: benchmark.id }, select: { name: true }, orderBy: { name: 'asc' } })).map((s) => s.name);
    throw inputError([...base, 'promptSet'], `benchmark ${benchmark.name} has no prompt set '${promptSetName}' (known: ${known.join(', ') || 'none'})`);
  }
  return { benchmark: benchmark as Benchmark & { name: BenchmarkName }, promptSet };
}

/** The plan, with its problems (an unreadable image set, no scored prompt) reported at `path`. */
async function planOrInputError(services: Services, source: PlanSource, path: FieldPath, promptSetName: string): Promise<RunPlan> {
  let plan: RunPlan;
  try {
    plan = await planRun(services.prisma, services.store, source);
  } catch (err) {
    if (err instanceof PlanError) throw inputError(path, err.message);
    throw err;
  }
  if (plan.images.length === 0) {
    const what = source.kind === 'EVALUATE_ONLY' ? `no image of the set belongs to a prompt of ${promptSetName} that the benchmark scores` : `prompt set ${promptSetName} has no prompt that the benchmark scores`;
    throw inputError(path, what);
  }
  return plan;
}

interface NewRun {
  id: string;
  team: Team;
  kind: Run['kind'];
  benchmarkId: string;
  promptSetId: string;
  modelId?: string;
  methodId?: string;
  methodConfigId?: string;
  imageSetId: string;
  rescoredFromId?: string;
  detector: string;
  threshold: number;
  seed: number;
  imagesPerPrompt: number;
  promptLimit: number | null;
}

/**
 * Writes the run (with its first QUEUED event) and puts its chunks on the queues. Redis being down
 * leaves a FAILED run saying so, which retryRun re-enqueues; the submission itself succeeded.
 */
async function createRun(services: Services, fields: NewRun, plan: RunPlan, generatedImageSet?: Prisma.ImageSetUncheckedCreateInput): Promise<Run> {
  const { team, ...data } = fields;
  await services.prisma.$transaction(async (tx) => {
    if (generatedImageSet) await tx.imageSet.create({ data: generatedImageSet });
    await tx.run.create({
      data: {
        ...data,
        teamId: team.id,
        promptsTotal: plan.prompts.length,
        imagesTotal: plan.images.length,
        chunksTotal: plan.chunks,
        codeVersion: services.codeVersion,
        events: { create: { status: 'QUEUED' } },
      },
    });
  });
  const loaded = await loadJobRun(services.prisma, fields.id);
  const work: RunWork = { run: loaded!.run, plan };
  try {
    await enqueueChunks(services, work, await pendingChunks(services.prisma, fields.id, work, fields.kind === 'GENERATE_AND_EVALUATE'), 0);
  } catch (err) {
    services.logger.error({ run: fields.id, err: (err as Error).message }, 'enqueueing a new run failed');
    await failActiveRun(services, fields.id, enqueueFailure(err), 'enqueue_failed');
  }
  return services.prisma.run.findUniqueOrThrow({ where: { id: fields.id } });
}

/** The model's defaults (its family's, replaced by its infsplign.json, as the seed stored them). */
export function modelDefaults(model: { name: string; family: Parameters<typeof defaultParams>[0] | null; defaultParams: unknown }): PartialMethodParams {
  if (model.defaultParams === null || model.defaultParams === undefined) return defaultParams(model.family ?? 'custom');
  const stored = partialMethodParamsSchema.safeParse(model.defaultParams);
  if (!stored.success) throw new Error(`model ${model.name}: its stored default parameters are invalid (${stored.error.issues[0].message}); run npm run db:seed`);
  return stored.data;
}

export async function submitRun(services: Services, team: Team, rawInput: unknown): Promise<SubmitResult> {
  const base = ['input'];
  const input = parseInput(submitSchema, withoutNulls(rawInput as Record<string, unknown>), base);
  const { benchmark, promptSet } = await findPromptSet(services, input.benchmark, input.promptSet, base);
  const threshold = input.threshold ?? benchmark.defaultThreshold;
  const promptLimit = input.limit ?? null;
  if (input.kind === 'EVALUATE_ONLY') {
    return submitEvaluation(services, team, { benchmark, promptSet, imageSetId: input.imageSet!, detector: input.detector, threshold, seed: input.seed, imagesPerPrompt: input.imagesPerPrompt, promptLimit, force: input.force }, base);
  }

  const model = await services.prisma.model.findUnique({ where: { name: input.model! } });
  if (!model) throw inputError([...base, 'model'], `unknown model '${input.model}' (see the models query)`);
  const method = await services.prisma.method.findUnique({ where: { name: input.method! } });
  if (!method) throw inputError([...base, 'method'], `method '${input.method}' is not in the database; run npm run db:seed`);
  const overrides = parseInput(partialMethodParamsSchema, input.params ?? {}, [...base, 'params']);
  let params;
  try {
    params = resolveParams(modelDefaults(model), overrides, `model ${model.name}`);
  } catch (err) {
    if (err instanceof MethodParamsError) throw inputError([...base, 'params'], err.message);
    throw err;
  }
  const config = canonicalConfig(input.method!, params);
  const hash = configHash(config);
  const methodConfig = await services.prisma.methodConfig.upsert({
    where: { hash },
    create: { hash, canonicalJson: canonicalJson(config), methodId: method.id },
    update: {},
  });
  const imagesPerPrompt = input.imagesPerPrompt ?? benchmark.defaultImagesPerPrompt;
  const same = { kind: 'GENERATE_AND_EVALUATE', modelId: model.id, methodConfigId: methodConfig.id, promptSetId: promptSet.id, detector: input.detector, threshold, seed: input.seed, imagesPerPrompt, promptLimit } as const;
  if (!input.force) {
    const finished = await services.prisma.run.findFirst({ where: { ...same, status: 'FINISHED' }, orderBy: { finishedAt: 'desc' } });
    if (finished) return { run: finished, reused: true };
  }

  const id = randomUUID();
  const imageSetId = randomUUID();
  const imageSetPrefix = `runs/${id}/images`;
  const plan = await planOrInputError(services, { kind: 'GENERATE_AND_EVALUATE', benchmark: benchmark.name, promptSetId: promptSet.id, imagesPerPrompt, promptLimit, imageSetPrefix }, [...base, 'promptSet'], promptSet.name);
  const run = await createRun(
    services,
    { id, team, ...same, benchmarkId: benchmark.id, methodId: method.id, imageSetId },
    plan,
    { id: imageSetId, kind: 'GENERATED', teamId: team.id, artifactPrefix: imageSetPrefix, imageCount: plan.images.length },
  );
  return { run, reused: false };
}

interface EvaluationRequest {
  benchmark: Benchmark & { name: BenchmarkName };
  promptSet: PromptSet;
  imageSetId: string;
  detector: string;
  threshold: number;
  seed: number;
  imagesPerPrompt?: number;
  promptLimit: number | null;
  force: boolean;
  rescoredFromId?: string;
}

/** An EVALUATE_ONLY run over an image set; the identical FINISHED evaluation (of any kind) is reused unless forced. */
async function submitEvaluation(services: Services, team: Team, request: EvaluationRequest, base: FieldPath): Promise<SubmitResult> {
  const imageSet = await services.prisma.imageSet.findUnique({ where: { id: request.imageSetId } });
  if (!imageSet) throw inputError([...base, 'imageSet'], `no image set ${request.imageSetId}; register uploaded images with registerImageSet`);
  if (imageSet.kind === 'UPLOADED' && imageSet.teamId !== team.id) throw new ApiError('FORBIDDEN', `image set ${imageSet.id} was uploaded by another team`);
  const plan = await planOrInputError(
    services,
    { kind: 'EVALUATE_ONLY', benchmark: request.benchmark.name, promptSetId: request.promptSet.id, imagesPerPrompt: request.imagesPerPrompt ?? Number.MAX_SAFE_INTEGER, promptLimit: request.promptLimit, imageSetPrefix: imageSet.artifactPrefix },
    [...base, 'imageSet'],
    request.promptSet.name,
  );
  // Without a stated number, as many as the most any prompt has: every uploaded image is scored, as `evaluate` does.
  const perPrompt = new Map<string, number>();
  for (const image of plan.images) perPrompt.set(image.promptId, Math.max(perPrompt.get(image.promptId) ?? 0, image.imageIndex + 1));
  const imagesPerPrompt = request.imagesPerPrompt ?? Math.max(...perPrompt.values());
  const same = { imageSetId: imageSet.id, promptSetId: request.promptSet.id, detector: request.detector, threshold: request.threshold, imagesPerPrompt, promptLimit: request.promptLimit } as const;
  if (!request.force) {
    const finished = await services.prisma.run.findFirst({ where: { ...same, status: 'FINISHED' }, orderBy: { finishedAt: 'desc' } });
    if (finished) return { run: finished, reused: true };
  }
  const run = await createRun(
    services,
    { id: randomUUID(), team, kind: 'EVALUATE_ONLY', benchmarkId: request.benchmark.id, seed: request.seed, rescoredFromId: request.rescoredFromId, ...same },
    plan,
  );
  return { run, reused: false };
}

/** rescoreRun: the source run's images evaluated again, with another detector or threshold. */
export async function rescoreRun(services: Services, team: Team, runId: string, detector: string | null | undefined, threshold: number | null | undefined): Promise<SubmitResult> {
  const source = await services.prisma.run.findUnique({ where: { id: runId }, include: { benchmark: true, promptSet: true } });
  if (!source) throw notFound(`run ${runId}`);
  if (source.status !== 'FINISHED') throw new ApiError('CONFLICT', `run ${runId} is ${source.status}; only a FINISHED run has all its images to rescore`);
  if (!source.imageSetId) throw new ApiError('CONFLICT', `run ${runId} has no image set any more (it was deleted)`);
  const benchmark = source.benchmark;
  if (!isBenchmarkName(benchmark.name)) throw new ApiError('CONFLICT', `benchmark '${benchmark.name}' has no scorer in this version`);
  const newDetector = detector == null ? source.detector : parseInput(detectorSpecSchema, detector, ['detector']);
  const newThreshold = threshold == null ? source.threshold : parseInput(thresholdSchema, threshold, ['threshold']);
  return submitEvaluation(
    services,
    team,
    {
      benchmark: benchmark as Benchmark & { name: BenchmarkName },
      promptSet: source.promptSet,
      imageSetId: source.imageSetId,
      detector: newDetector,
      threshold: newThreshold,
      seed: source.seed,
      imagesPerPrompt: source.imagesPerPrompt,
      promptLimit: source.promptLimit,
      force: false,
      rescoredFromId: source.id,
    },
    [],
  );
}

/** Generated images live under `runs/`; an upload registered there could claim (and later lose) a run's images. */
const RESERVED_PREFIX = 'runs';

/** registerImageSet: images that `infsplign upload` put under `prefix`, as the team's image set. */
export async function registerImageSet(services: Services, team: Team, rawPrefix: unknown): Promise<ImageSet> {
  const prefix = parseInput(artifactKeySchema, rawPrefix, ['prefix']);
  if (prefix === RESERVED_PREFIX || prefix.startsWith(`${RESERVED_PREFIX}/`)) throw inputError(['prefix'], `'${RESERVED_PREFIX}/' holds the images runs generate; upload to another prefix (infsplign upload picks uploads/...)`);
  const existing = await services.prisma.imageSet.findUnique({ where: { artifactPrefix: prefix } });
  if (existing) throw new ApiError('CONFLICT', `prefix ${prefix} is already image set ${existing.id}`);
  let images: Map<number, number[]>;
  try {
    images = await listImageSet(services.store, prefix);
  } catch (err) {
    if (err instanceof PlanError) throw inputError(['prefix'], err.message);
    throw err;
  }
  const imageCount = [...images.values()].reduce((sum, indices) => sum + indices.length, 0);
  if (imageCount === 0) throw inputError(['prefix'], `no images named {ID}_{K}.png under ${prefix} in the artifact store; put them there with npx infsplign upload DIR`);
  return services.prisma.imageSet.create({ data: { kind: 'UPLOADED', teamId: team.id, artifactPrefix: prefix, imageCount } });
}
