/**
 * The job payload contracts between apps/api and workers/: what goes onto the `generate` and
 * `evaluate` queues and what comes back on `results`. Both sides parse every payload with these
 * schemas (Redis is a trust boundary: a payload written by another version, or by hand, must fail
 * loudly rather than be half-understood).
 *
 * Flow: the API enqueues a run's chunks on `generate` (GENERATE_AND_EVALUATE) or directly on
 * `evaluate` (EVALUATE_ONLY, rescore). A generate job sends `ImagesGenerated`; the API's ingester,
 * once it has written those images, enqueues the chunk's evaluate job (so an evaluate result never
 * arrives for images the database does not have yet). An evaluate job sends `ImagesEvaluated`. A job
 * that fails for good sends `ChunkFailed`. Delivery is at least once: every message carries what
 * the ingester needs to upsert it idempotently, keyed by (runId, promptId, imageIndex).
 *
 * Job ids are deterministic (see the *JobId functions), so enqueueing the same chunk twice adds
 * one job. `round` is part of them: the API bumps it when it deliberately runs a chunk again
 * (retryRun), since BullMQ keeps the earlier failed job under the old id.
 */
import { z } from 'zod';
import type { ImageCost } from '../diffusion/cost.ts';
import type { Device } from '../diffusion/providers.ts';
import { findMethod, methodNames } from '../methods/registry.ts';
import { MAX_STEPS } from './common-params.ts';
import { canonicalJson, configHash, type CanonicalConfig } from './run-config.ts';
import { artifactKeySchema } from '../artifacts/keys.ts';
import { genevalMetadataSchema } from '../prompts/geneval.ts';
import { t2iRecordSchema } from '../prompts/t2i-compbench.ts';
import { BENCHMARK_NAMES, RELATIONS, type BenchmarkName } from '../prompts/types.ts';
import { visorRecordSchema } from '../prompts/visor.ts';
import { describeZodError } from '../util/read-data-file.ts';

export const QUEUES = { generate: 'generate', evaluate: 'evaluate', results: 'results' } as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
export type Stage = 'generate' | 'evaluate';

/**
 * Database ids (runs, prompts) as the API writes them: strings (stringify integer ids). The charset
 * excludes `.` and `:` so that ids compose into BullMQ job ids unambiguously.
 */
export const dbIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an id is 1 to 64 letters, digits, _ or -');

const chunkSchema = z.number().int().min(0);
const roundSchema = z.number().int().min(0);

/** The devices a worker can run on, as `--device` names them (diffusion/providers.ts). */
export const JOB_DEVICES = ['cpu', 'cuda', 'webgpu'] as const satisfies readonly Device[];
export type JobDevice = (typeof JOB_DEVICES)[number];

/** How long one attempt of a job may run before it fails (with ChunkFailed, not retried). */
export const MAX_JOB_TIMEOUT_MS = 24 * 3600 * 1000;
export const DEFAULT_TIMEOUT_MS: Record<Stage, number> = { generate: 2 * 3600 * 1000, evaluate: 30 * 60 * 1000 };
const timeoutSchema = z.number().int().min(1000).max(MAX_JOB_TIMEOUT_MS);

// ---------------------------------------------------------------------------------------------
// generate

/** A canonical configuration as `canonicalConfig` returns it: a registered method with its canonical parameters (MethodParamsSpec.canonicalSchema). */
export const canonicalConfigSchema = z
  .strictObject({ method: z.string(), sampler_version: z.number().int().min(1), params: z.record(z.string(), z.unknown()) })
  .superRefine((config, ctx) => {
    const method = findMethod(config.method);
    if (!method) {
      ctx.addIssue({ code: 'custom', path: ['method'], message: `unknown method '${config.method}' (known: ${methodNames().join(', ')})` });
      return;
    }
    const params = method.params.canonicalSchema.safeParse(config.params);
    if (!params.success)
      ctx.addIssue({ code: 'custom', path: ['params'], message: `not a canonical configuration of ${method.name}: ${describeZodError(params.error)}` });
  }) satisfies z.ZodType<CanonicalConfig>;

/** One prompt to generate for: the database id plus what the pipeline needs. */
export const generatePromptSchema = z.strictObject({
  /** the prompt's database id, echoed in results */
  promptId: dbIdSchema,
  /** the benchmark's own prompt id (VISOR unique_id, line index): the `{ID}` of `{ID}_{K}.png` */
  externalId: z.number().int().min(0),
  text: z.string().min(1).max(1000),
  /** subject then reference, as the prompt loaders give them */
  objects: z.array(z.string().min(1).max(200)).min(1).max(8),
  /** null when the benchmark record names none; the worker then looks for one in the text, as `generate` does */
  relation: z.enum(RELATIONS).nullable(),
});

export const generateChunkJobSchema = z
  .strictObject({
    runId: dbIdSchema,
    chunk: chunkSchema,
    round: roundSchema.default(0),
    /** a model name from models/registry.json on the worker's machine */
    model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a model name is letters, digits, ., _ or -'),
    config: canonicalConfigSchema,
    /** configHash(config): the worker refuses a job whose hash does not match what it would compute */
    configHash: z.string().regex(/^[0-9a-f]{64}$/),
    benchmark: z.enum(BENCHMARK_NAMES),
    prompts: z.array(generatePromptSchema).min(1).max(10_000),
    seed: z.number().int().min(0).max(0xffffffff),
    imagesPerPrompt: z.number().int().min(1).max(100),
    /** images go to `${imageSetPrefix}/${externalId}_${k}.png` */
    imageSetPrefix: artifactKeySchema,
    /** the device the run asked for: only a worker started with that `--device` runs it; others leave it for them */
    device: z.enum(JOB_DEVICES),
    batchSize: z.number().int().min(1).max(64).default(4),
    timeoutMs: timeoutSchema.default(DEFAULT_TIMEOUT_MS.generate),
  })
  .superRefine((job, ctx) => {
    if (configHash(job.config) !== job.configHash)
      ctx.addIssue({
        code: 'custom',
        path: ['configHash'],
        message: `does not match the configuration (SHA-256 of ${canonicalJson(job.config).slice(0, 60)}...)`,
      });
    uniqueBy(job.prompts, (p) => p.promptId, 'promptId', ctx);
    uniqueBy(job.prompts, (p) => String(p.externalId), 'externalId', ctx);
  });
export type GenerateChunkJob = z.output<typeof generateChunkJobSchema>;
export type GenerateChunkJobInput = z.input<typeof generateChunkJobSchema>;

// ---------------------------------------------------------------------------------------------
// evaluate

/**
 * One prompt as the scorer needs it: `record` is the benchmark's own record (a VISOR JSON entry, a
 * T2I `{prompt, objects}`, a GenEval metadata line), from which the worker rebuilds exactly what
 * `loadPrompts` gives the CLI; text, objects and relation must agree with what it derives.
 */
export const evaluatePromptSchema = generatePromptSchema.extend({ record: z.unknown() });

const RECORD_SCHEMAS: Record<BenchmarkName, z.ZodType> = {
  visor: visorRecordSchema,
  'visor-shapes': visorRecordSchema,
  t2i: t2iRecordSchema,
  geneval: genevalMetadataSchema,
};

export const evaluateImageSchema = z.strictObject({
  promptId: dbIdSchema,
  imageIndex: z.number().int().min(0),
  artifactKey: artifactKeySchema,
});

/**
 * A detector as a run and its jobs name it: `shapes` or a name from the workers' detector registry
 * (evaluation/detectors/registry.ts), never a path on a worker (the CLI's owlvit:PATH, coco:PATH).
 */
export const detectorSpecSchema = z
  .string()
  .max(64, 'a detector name is at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a detector is shapes or a name from the workers' detector registry (letters, digits, ., _, -), not a path");

export const evaluateChunkJobSchema = z
  .strictObject({
    runId: dbIdSchema,
    chunk: chunkSchema,
    round: roundSchema.default(0),
    benchmark: z.enum(BENCHMARK_NAMES),
    detector: detectorSpecSchema,
    /** boxes with score > threshold count; as `evaluate --threshold` */
    threshold: z.number().min(0).lt(1),
    prompts: z.array(evaluatePromptSchema).min(1).max(10_000),
    images: z.array(evaluateImageSchema).min(1).max(100_000),
    timeoutMs: timeoutSchema.default(DEFAULT_TIMEOUT_MS.evaluate),
  })
  .superRefine((job, ctx) => {
    const recordSchema = RECORD_SCHEMAS[job.benchmark];
    job.prompts.forEach((prompt, i) => {
      const parsed = recordSchema.safeParse(prompt.record);
      for (const issue of parsed.error?.issues ?? [])
        ctx.addIssue({ code: 'custom', path: ['prompts', i, 'record', ...issue.path], message: `${job.benchmark} record: ${issue.message}` });
    });
    uniqueBy(job.prompts, (p) => p.promptId, 'promptId', ctx);
    uniqueBy(job.prompts, (p) => String(p.externalId), 'externalId', ctx);
    uniqueBy(job.images, (i) => `${i.promptId}/${i.imageIndex}`, '(promptId, imageIndex)', ctx, 'images');
    const known = new Set(job.prompts.map((p) => p.promptId));
    job.images.forEach((image, i) => {
      if (!known.has(image.promptId))
        ctx.addIssue({ code: 'custom', path: ['images', i, 'promptId'], message: `prompt ${image.promptId} is not among the job's prompts` });
    });
  });
export type EvaluateChunkJob = z.output<typeof evaluateChunkJobSchema>;
export type EvaluateChunkJobInput = z.input<typeof evaluateChunkJobSchema>;

// ---------------------------------------------------------------------------------------------
// results

const boxSchema = z.tuple([z.number(), z.number(), z.number(), z.number()]);

export const detectionSchema = z.strictObject({ label: z.string().min(1), score: z.number(), box: boxSchema });

/**
 * One image's score under its benchmark's rules, from `scoreImages`' per-image results:
 * - visor / visor-shapes: correct as VISOR counts it; value 1 or 0; details {relation, a_detected, b_detected, sra}.
 * - t2i: value is the image's score (0 to 1, after the floor); correct is true when the scorer gives
 *   no failure reason (both objects found, score above the floor); details {position}.
 * - geneval: correct as GenEval counts it; value 1 or 0; details {tag}.
 * Images the benchmark leaves out (VISOR prompts with no relation, unsupported GenEval tags) have
 * scored false, correct and value null, and the reason they are left out.
 */
export const imageScoreSchema = z.strictObject({
  scored: z.boolean(),
  correct: z.boolean().nullable(),
  value: z.number().nullable(),
  /** why the image is not correct (or not scored), in words; null when it is correct */
  reason: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type ImageScore = z.output<typeof imageScoreSchema>;

const pointSchema = z.tuple([z.number(), z.number()]);

/**
 * A guided image's trace (the manifest's `loss` and `centroids`), one entry per guided step, in step
 * order from the configuration's guide_steps start. Centroids are [[x1, y1], [x2, y2]] (subject, then
 * reference) in the loss's map coordinates: 0 to 1 from the first to the last column and from the top
 * row to the bottom one. z.number() refuses NaN and infinities, which JSON could not carry anyway.
 */
export const guidanceTraceSchema = z
  .strictObject({
    loss: z.array(z.number()).max(MAX_STEPS),
    centroids: z.array(z.tuple([pointSchema, pointSchema])).max(MAX_STEPS),
  })
  .refine((trace) => trace.loss.length === trace.centroids.length, { message: 'loss and centroids need one entry per guided step each', path: ['centroids'] });
export type GuidanceTrace = z.output<typeof guidanceTraceSchema>;

/** What an image cost to make, as the manifest records it (diffusion/cost.ts; docs/method.md §6.1). */
export const imageCostSchema = z.strictObject({
  unet_evaluations: z.number().int().min(0),
  backward_passes: z.number().int().min(0),
  seconds: z.number().min(0),
}) satisfies z.ZodType<ImageCost>;

export const imagesGeneratedSchema = z.strictObject({
  type: z.literal('ImagesGenerated'),
  runId: dbIdSchema,
  chunk: chunkSchema,
  round: roundSchema,
  device: z.enum(JOB_DEVICES),
  /** hostname:pid of the worker, for the run's execution record */
  worker: z.string().max(200),
  images: z.array(
    z.strictObject({
      promptId: dbIdSchema,
      imageIndex: z.number().int().min(0),
      artifactKey: artifactKeySchema,
      width: z.number().int().positive(),
      height: z.number().int().positive(),
      /** sampling time per image (its batch's time over the batch size), ms */
      ms: z.number().min(0),
      /** null for an unguided image (baseline, single-object prompt); may be absent from an older worker's message */
      guidance: guidanceTraceSchema.nullish(),
      /** the passes and seconds the image cost, on the message's device; absent from an older worker's message */
      cost: imageCostSchema.nullish(),
    }),
  ),
  /** prompts the pipeline could not generate (e.g. an object not found among the tokens): their images will never come */
  failures: z.array(z.strictObject({ promptId: dbIdSchema, reason: z.string() })),
});
export type ImagesGenerated = z.output<typeof imagesGeneratedSchema>;

export const imagesEvaluatedSchema = z.strictObject({
  type: z.literal('ImagesEvaluated'),
  runId: dbIdSchema,
  chunk: chunkSchema,
  round: roundSchema,
  detector: z.string(),
  threshold: z.number(),
  scorerVersion: z.string(),
  worker: z.string().max(200),
  images: z.array(
    z.strictObject({
      promptId: dbIdSchema,
      imageIndex: z.number().int().min(0),
      width: z.number().int().positive(),
      height: z.number().int().positive(),
      /** everything the detector reported above the threshold: with width and height, enough to rescore with scoreImages */
      detections: z.array(detectionSchema),
      score: imageScoreSchema,
    }),
  ),
});
export type ImagesEvaluated = z.output<typeof imagesEvaluatedSchema>;

/** A chunk that failed for good: attempts exhausted, timed out, or a job that can never succeed. */
export const chunkFailedSchema = z.strictObject({
  type: z.literal('ChunkFailed'),
  runId: dbIdSchema,
  chunk: chunkSchema,
  round: roundSchema,
  stage: z.enum(['generate', 'evaluate']),
  reason: z.string(),
  /** the attempt that failed (1-based) and how many were allowed */
  attempt: z.number().int().min(1),
  attempts: z.number().int().min(1),
});
export type ChunkFailed = z.output<typeof chunkFailedSchema>;

export const resultMessageSchema = z.discriminatedUnion('type', [imagesGeneratedSchema, imagesEvaluatedSchema, chunkFailedSchema]);
export type ResultMessage = z.output<typeof resultMessageSchema>;

// ---------------------------------------------------------------------------------------------
// job ids

export function generateJobId(runId: string, chunk: number, round = 0): string {
  return `${runId}.generate.${chunk}.${round}`;
}

export function evaluateJobId(runId: string, chunk: number, round = 0): string {
  return `${runId}.evaluate.${chunk}.${round}`;
}

/** One id per result of a chunk and round, so a retried job's repeated send adds no second message while the first is in Redis. */
export function resultJobId(message: ResultMessage): string {
  const what = message.type === 'ChunkFailed' ? `failed-${message.stage}` : message.type === 'ImagesGenerated' ? 'generated' : 'evaluated';
  return `${message.runId}.${what}.${message.chunk}.${message.round}`;
}

// ---------------------------------------------------------------------------------------------

/** Parses a payload; the error names the queue and the first problem's place in it. */
export function parsePayload<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new InvalidPayloadError(`${what}: ${describeZodError(result.error)}`);
}

export class InvalidPayloadError extends Error {}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string, name: string, ctx: z.RefinementCtx, path = 'prompts'): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k)) ctx.addIssue({ code: 'custom', path: [path, i], message: `${name} ${k} appears twice` });
    seen.add(k);
  });
}
