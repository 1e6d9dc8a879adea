/**
 * Turning a submission into a run and its jobs: validation (shapes with zod, names against the
 * catalogue, the method against the methods' registry and its parameters with that method's schema
 * and the model's defaults), the canonical
 * configuration (docs/method.md §4), the plan (in the planning thread) within the size cap, reuse of the
 * team's identical FINISHED run or its identical run still in flight unless forced, then the run's
 * rows and its chunks on the queues. Also uploads and image sets (createUpload, registerImageSet)
 * and rescoring.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { artifactKeySchema } from '@infsplign/workers/artifacts';
import {
  type BenchmarkName,
  canonicalConfig,
  canonicalJson,
  configHash,
  detectorSpecSchema,
  isBenchmarkName,
  MethodParamsError,
} from '@infsplign/workers/contracts';
import { SCORER_VERSIONS } from '@infsplign/workers/benchmarks';
import { z } from 'zod';
import { ApiError, inputError, notFound, parseInput, type FieldPath } from '../errors.ts';
import {
  Prisma,
  type Benchmark,
  type ImageSet,
  type Method,
  type MethodConfig,
  type Model,
  type PromptSet,
  type Run,
  type Team,
} from '../generated/prisma/client.ts';
import { loadRun, RUN_COLUMNS, RUN_INCLUDE, type RunRow } from '../graphql/rows.ts';
import type { StageClock } from '../metrics.ts';
import type { Services } from '../services.ts';
import { ACTIVE_STATUSES } from './lifecycle.ts';
import { methodRowFields, modelDefaults, submittedMethod } from './methods.ts';
import { listImageSet, PlanError, type PlanSource } from './plan.ts';
import type { PlanTotals } from './planner.ts';
import { enqueueFailure, failActiveRun, jobRunOf } from './work.ts';

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
    method: nameSchema.optional(),
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
  /** with the relations its fields read (RUN_INCLUDE) */
  run: RunRow;
  /** the team's identical FINISHED run, or its identical run still in flight, was returned */
  reused: boolean;
}

/** The benchmark and prompt set a submission names, or errors at their input paths. */
async function findPromptSet(
  services: Services,
  benchmarkName: string,
  promptSetName: string,
  base: FieldPath,
): Promise<{ benchmark: Benchmark & { name: BenchmarkName }; promptSet: PromptSet }> {
  // One statement when both are there; the errors' lists of known names are read only when one is not.
  const found = await services.prisma.promptSet.findFirst({ where: { name: promptSetName, benchmark: { name: benchmarkName } }, include: { benchmark: true } });
  if (found && isBenchmarkName(found.benchmark.name)) {
    const { benchmark, ...promptSet } = found;
    return { benchmark: benchmark as Benchmark & { name: BenchmarkName }, promptSet };
  }
  const benchmark = await services.prisma.benchmark.findUnique({ where: { name: benchmarkName } });
  if (!benchmark || !isBenchmarkName(benchmark.name)) {
    const known = (await services.prisma.benchmark.findMany({ select: { name: true }, orderBy: { name: 'asc' } })).map((b) => b.name);
    throw inputError([...base, 'benchmark'], `unknown benchmark '${benchmarkName}' (known: ${known.join(', ') || 'none; run npm run db:seed'})`);
  }
  const promptSet = await services.prisma.promptSet.findUnique({ where: { benchmarkId_name: { benchmarkId: benchmark.id, name: promptSetName } } });
  if (!promptSet) {
    const known = (await services.prisma.promptSet.findMany({ where: { benchmarkId: benchmark.id }, select: { name: true }, orderBy: { name: 'asc' } })).map(
      (s) => s.name,
    );
    throw inputError([...base, 'promptSet'], `benchmark ${benchmark.name} has no prompt set '${promptSetName}' (known: ${known.join(', ') || 'none'})`);
  }
  return { benchmark: benchmark as Benchmark & { name: BenchmarkName }, promptSet };
}

/** The plan's totals, with its problems (an unreadable image set, no scored prompt, too many images) reported at `path`. */
async function planOrInputError(services: Services, source: PlanSource, path: FieldPath, promptSetName: string): Promise<PlanTotals> {
  let totals: PlanTotals;
  try {
    totals = await services.planner.totals(source);
  } catch (err) {
    if (err instanceof PlanError) throw inputError(path, err.message);
    throw err;
  }
  if (totals.images === 0) {
    const what =
      source.kind === 'EVALUATE_ONLY'
        ? `no image of the set belongs to a prompt of ${promptSetName} that the benchmark scores`
        : `prompt set ${promptSetName} has no prompt that the benchmark scores`;
    throw inputError(path, what);
  }
  const cap = services.lifecycle.maxRunImages;
  if (totals.images > cap) {
    throw inputError(
      path.slice(0, -1).concat('limit'),
      `the run would have ${totals.images} images (${totals.prompts} prompts); a run may have at most ${cap} (MAX_RUN_IMAGES): set a smaller limit or imagesPerPrompt`,
    );
  }
  return totals;
}

/** What makes two submissions of a team the same run (the run's columns). */
type SameRun = Prisma.RunWhereInput & Record<string, unknown>;

/**
 * The team's most recent identical FINISHED run scored by the benchmark's current rules (a run scored
 * under an older scorer version is not what the submission asks for), else its identical run still in flight.
 */
async function reusableRun(tx: Pick<Services['prisma'], 'run'>, team: Team, same: SameRun, benchmark: Benchmark): Promise<RunRow | null> {
  const where = { ...same, teamId: team.id };
  return (
    (await tx.run.findFirst({
      where: { ...where, status: 'FINISHED', scorerVersion: SCORER_VERSIONS[benchmark.scoring] },
      orderBy: { finishedAt: 'desc' },
      include: RUN_INCLUDE,
    })) ?? (await tx.run.findFirst({ where: { ...where, status: { in: [...ACTIVE_STATUSES] } }, orderBy: { createdAt: 'desc' }, include: RUN_INCLUDE }))
  );
}

/** The catalogue rows a new run refers to: what its answer carries (RUN_INCLUDE's relations), and where its images lie. */
interface NewRunCatalogue {
  team: Team;
  benchmark: Benchmark;
  promptSet: PromptSet;
  model: Model | null;
  method: Method | null;
  methodConfig: MethodConfig | null;
  imageSetPrefix: string;
}

/** A new run's own columns (the catalogue's ids come from NewRunCatalogue). */
interface NewRun {
  id: string;
  kind: Run['kind'];
  imageSetId: string;
  rescoredFromId?: string;
  detector: string;
  threshold: number;
  seed: number;
  imagesPerPrompt: number;
  promptLimit: number | null;
}

/**
 * The run and its first QUEUED event (and, for a generated run, its image set) in one statement:
 * atomic without a transaction of its own, and one round trip to the database.
 */
async function insertRun(
  db: Pick<Services['prisma'], '$queryRaw'>,
  fields: NewRun,
  catalogue: NewRunCatalogue,
  totals: PlanTotals,
  codeVersion: string | null,
  generatedImageSet: boolean,
): Promise<Run> {
  const { team, benchmark, promptSet, model, method, methodConfig } = catalogue;
  const imageSet = generatedImageSet
    ? Prisma.sql`image_set AS (INSERT INTO image_sets (id, kind, team_id, artifact_prefix, image_count) VALUES (${fields.imageSetId}::uuid, 'GENERATED', ${team.id}::uuid, ${catalogue.imageSetPrefix}, ${totals.images})),`
    : Prisma.empty;
  const [run] = await db.$queryRaw<Run[]>`
    WITH ${imageSet}
    r AS (
      INSERT INTO runs (id, team_id, kind, model_id, method_config_id, method_id, prompt_set_id, benchmark_id, image_set_id, rescored_from_id,
                        detector, threshold, seed, images_per_prompt, prompt_limit, prompts_total, images_total, chunks_total, code_version)
      VALUES (${fields.id}::uuid, ${team.id}::uuid, ${fields.kind}::run_kind, ${model?.id ?? null}::uuid, ${methodConfig?.id ?? null}::uuid, ${method?.id ?? null}::uuid,
              ${promptSet.id}::uuid, ${benchmark.id}::uuid, ${fields.imageSetId}::uuid, ${fields.rescoredFromId ?? null}::uuid,
              ${fields.detector}, ${fields.threshold}::float8, ${fields.seed}::int, ${fields.imagesPerPrompt}::int, ${fields.promptLimit}::int,
              ${totals.prompts}::int, ${totals.images}::int, ${totals.chunks}::int, ${codeVersion})
      RETURNING *),
    event AS (INSERT INTO run_events (run_id, status) SELECT id, status FROM r)
    SELECT ${RUN_COLUMNS} FROM r`;
  return run!;
}

/**
 * Writes the run (with its first QUEUED event) and puts its chunks on the queues, unless (without
 * `force`) the team's identical run appeared meanwhile: the check and the write hold one lock per team
 * and configuration, so that identical submissions arriving together make one run. Redis being down
 * leaves a FAILED run saying so, which retryRun re-enqueues; the submission itself succeeded.
 *
 * The answer is built from what the submission already holds (the written row and its catalogue
 * rows), and the planning thread enqueues from the same: neither reads the new run back.
 */
async function createRun(
  services: Services,
  clock: StageClock,
  fields: NewRun,
  catalogue: NewRunCatalogue,
  same: SameRun,
  force: boolean,
  totals: PlanTotals,
  generatedImageSet = false,
): Promise<SubmitResult> {
  const write = async (db: Pick<Services['prisma'], '$queryRaw'>) => ({
    written: await insertRun(db, fields, catalogue, totals, services.codeVersion, generatedImageSet),
  });
  const outcome: { written: Run } | { found: RunRow } = force
    ? await write(services.prisma)
    : await services.prisma.$transaction(async (tx) => {
        // Held to the end of the transaction: an identical submission waits here, then finds this run.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${JSON.stringify([catalogue.team.id, same])}, 0))`;
        const found = await reusableRun(tx, catalogue.team, same, catalogue.benchmark);
        return found ? { found } : write(tx);
      });
  clock.lap('write');
  if ('found' in outcome) return { run: outcome.found, reused: true };
  const { written } = outcome;
  const { team, benchmark, promptSet, model, method, methodConfig } = catalogue;
  const run: RunRow = { ...written, team, benchmark, model, method, methodConfig, promptSet: { ...promptSet, benchmark } };
  try {
    const { run: jobRun, source } = jobRunOf({ ...run, imageSet: { artifactPrefix: catalogue.imageSetPrefix } });
    await services.planner.enqueueNew(jobRun, source);
  } catch (err) {
    services.logger.error({ run: fields.id, err: (err as Error).message }, 'enqueueing a new run failed');
    await failActiveRun(services, fields.id, enqueueFailure(err), 'enqueue_failed');
    clock.lap('enqueue');
    return { run: (await loadRun(services.prisma, fields.id))!, reused: false };
  }
  clock.lap('enqueue');
  return { run, reused: false };
}

/** `clock` times the submission's stages (the caller laps 'token' before and 'reply' after). */
export async function submitRun(services: Services, clock: StageClock, team: Team, rawInput: unknown): Promise<SubmitResult> {
  const base = ['input'];
  const input = parseInput(submitSchema, withoutNulls(rawInput as Record<string, unknown>), base);
  const [{ benchmark, promptSet }, imageSet] = await Promise.all([
    findPromptSet(services, input.benchmark, input.promptSet, base),
    input.kind === 'EVALUATE_ONLY' ? services.prisma.imageSet.findUnique({ where: { id: input.imageSet! } }) : null,
  ]);
  const threshold = input.threshold ?? benchmark.defaultThreshold;
  const promptLimit = input.limit ?? null;
  if (input.kind === 'EVALUATE_ONLY') {
    return submitEvaluation(
      services,
      clock,
      team,
      {
        benchmark,
        promptSet,
        imageSetId: input.imageSet!,
        imageSet,
        detector: input.detector,
        threshold,
        seed: input.seed,
        imagesPerPrompt: input.imagesPerPrompt,
        promptLimit,
        force: input.force,
      },
      base,
    );
  }

  const model = await services.prisma.model.findUnique({ where: { name: input.model! } });
  if (!model) throw inputError([...base, 'model'], `unknown model '${input.model}' (see the models query)`);
  const definition = submittedMethod(input.method!, [...base, 'method']);
  const overrides = parseInput(definition.params.partial, input.params ?? {}, [...base, 'params']);
  let params;
  try {
    params = definition.params.resolve(modelDefaults(model, definition), overrides, `model ${model.name}`, model.family ?? 'custom');
  } catch (err) {
    if (err instanceof MethodParamsError) throw inputError([...base, 'params'], err.message);
    throw err;
  }
  const method = await services.prisma.method.upsert({
    where: { name: definition.name },
    create: { name: definition.name, ...methodRowFields(definition) },
    update: {},
  });
  const config = canonicalConfig(definition.name, params);
  const hash = configHash(config);
  const methodConfig = await services.prisma.methodConfig.upsert({
    where: { hash },
    create: { hash, canonicalJson: canonicalJson(config), methodId: method.id },
    update: {},
  });
  const imagesPerPrompt = input.imagesPerPrompt ?? benchmark.defaultImagesPerPrompt;
  const same = {
    kind: 'GENERATE_AND_EVALUATE',
    modelId: model.id,
    methodConfigId: methodConfig.id,
    promptSetId: promptSet.id,
    detector: input.detector,
    threshold,
    seed: input.seed,
    imagesPerPrompt,
    promptLimit,
  } as const;
  clock.lap('catalogue');
  if (!input.force) {
    const reusable = await reusableRun(services.prisma, team, same, benchmark);
    clock.lap('reuse');
    if (reusable) return { run: reusable, reused: true };
  }

  const id = randomUUID();
  const imageSetId = randomUUID();
  const imageSetPrefix = `runs/${id}/images`;
  const totals = await planOrInputError(
    services,
    { kind: 'GENERATE_AND_EVALUATE', benchmark: benchmark.name, promptSetId: promptSet.id, imagesPerPrompt, promptLimit, imageSetPrefix },
    [...base, 'promptSet'],
    promptSet.name,
  );
  clock.lap('plan');
  return createRun(
    services,
    clock,
    { id, kind: 'GENERATE_AND_EVALUATE', imageSetId, detector: input.detector, threshold, seed: input.seed, imagesPerPrompt, promptLimit },
    { team, benchmark, promptSet, model, method, methodConfig, imageSetPrefix },
    same,
    input.force,
    totals,
    true,
  );
}

interface EvaluationRequest {
  benchmark: Benchmark & { name: BenchmarkName };
  promptSet: PromptSet;
  imageSetId: string;
  /** the row of imageSetId, null when there is none */
  imageSet: ImageSet | null;
  detector: string;
  threshold: number;
  seed: number;
  imagesPerPrompt?: number;
  promptLimit: number | null;
  force: boolean;
  rescoredFromId?: string;
}

/** An EVALUATE_ONLY run over an image set; the team's identical FINISHED evaluation (of any kind) or one in flight is reused unless forced. */
async function submitEvaluation(services: Services, clock: StageClock, team: Team, request: EvaluationRequest, base: FieldPath): Promise<SubmitResult> {
  const { imageSet } = request;
  if (!imageSet) throw inputError([...base, 'imageSet'], `no image set ${request.imageSetId}; register uploaded images with registerImageSet`);
  if (imageSet.kind === 'UPLOADED' && imageSet.teamId !== team.id) throw new ApiError('FORBIDDEN', `image set ${imageSet.id} was uploaded by another team`);
  clock.lap('catalogue');
  const totals = await planOrInputError(
    services,
    {
      kind: 'EVALUATE_ONLY',
      benchmark: request.benchmark.name,
      promptSetId: request.promptSet.id,
      imagesPerPrompt: request.imagesPerPrompt ?? Number.MAX_SAFE_INTEGER,
      promptLimit: request.promptLimit,
      imageSetPrefix: imageSet.artifactPrefix,
    },
    [...base, 'imageSet'],
    request.promptSet.name,
  );
  clock.lap('plan');
  // Without a stated number, as many as the most any prompt has: every uploaded image is scored, as `evaluate` does.
  const imagesPerPrompt = request.imagesPerPrompt ?? totals.maxImagesPerPrompt;
  const same = {
    imageSetId: imageSet.id,
    promptSetId: request.promptSet.id,
    detector: request.detector,
    threshold: request.threshold,
    imagesPerPrompt,
    promptLimit: request.promptLimit,
  } as const;
  if (!request.force) {
    const reusable = await reusableRun(services.prisma, team, same, request.benchmark);
    clock.lap('reuse');
    if (reusable) return { run: reusable, reused: true };
  }
  return createRun(
    services,
    clock,
    {
      id: randomUUID(),
      kind: 'EVALUATE_ONLY',
      imageSetId: imageSet.id,
      rescoredFromId: request.rescoredFromId,
      detector: request.detector,
      threshold: request.threshold,
      seed: request.seed,
      imagesPerPrompt,
      promptLimit: request.promptLimit,
    },
    {
      team,
      benchmark: request.benchmark,
      promptSet: request.promptSet,
      model: null,
      method: null,
      methodConfig: null,
      imageSetPrefix: imageSet.artifactPrefix,
    },
    same,
    request.force,
    totals,
  );
}

/** rescoreRun: the source run's images evaluated again, with another detector or threshold. */
export async function rescoreRun(
  services: Services,
  clock: StageClock,
  team: Team,
  runId: string,
  detector: string | null | undefined,
  threshold: number | null | undefined,
): Promise<SubmitResult> {
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
    clock,
    team,
    {
      benchmark: benchmark as Benchmark & { name: BenchmarkName },
      promptSet: source.promptSet,
      imageSetId: source.imageSetId,
      imageSet: await services.prisma.imageSet.findUnique({ where: { id: source.imageSetId } }),
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

/** Where uploads go: createUpload hands out `uploads/<32 hex digits>`, which nobody can guess or claim. */
const UPLOAD_ROOT = 'uploads';
/** Uploads a team may hold that are not registered yet as image sets. */
export const MAX_PENDING_UPLOADS = 100;

/** createUpload: a fresh artifact prefix for the team's next image set (npx infsplign upload asks for it). */
export async function createUpload(services: Services, team: Team): Promise<{ prefix: string; createdAt: Date }> {
  return services.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM teams WHERE id = ${team.id}::uuid FOR UPDATE`;
    const pending = await tx.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM uploads u WHERE u.team_id = ${team.id}::uuid AND NOT EXISTS (SELECT 1 FROM image_sets s WHERE s.artifact_prefix = u.prefix)`;
    if (Number(pending[0].n) >= MAX_PENDING_UPLOADS)
      throw new ApiError('CONFLICT', `the team has ${pending[0].n} uploads not registered yet, the most it may have; register them (registerImageSet) first`);
    return tx.upload.create({
      data: { teamId: team.id, prefix: `${UPLOAD_ROOT}/${randomBytes(16).toString('hex')}` },
      select: { prefix: true, createdAt: true },
    });
  });
}

/** registerImageSet: the images that `infsplign upload` put under a prefix that createUpload gave the team, as the team's image set. */
export async function registerImageSet(services: Services, team: Team, rawPrefix: unknown): Promise<ImageSet> {
  const prefix = parseInput(artifactKeySchema, rawPrefix, ['prefix']);
  const upload = await services.prisma.upload.findUnique({ where: { prefix } });
  if (!upload)
    throw inputError(
      ['prefix'],
      `${prefix} is not a prefix the API handed out; ask createUpload for one and upload there (npx infsplign upload DIR does both)`,
    );
  if (upload.teamId !== team.id) throw new ApiError('FORBIDDEN', `prefix ${prefix} was handed to another team`);
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
  if (imageCount === 0)
    throw inputError(['prefix'], `no images named {ID}_{K}.png under ${prefix} in the artifact store; put them there with npx infsplign upload DIR`);
  return services.prisma.imageSet.create({ data: { kind: 'UPLOADED', teamId: team.id, artifactPrefix: prefix, imageCount } });
}
