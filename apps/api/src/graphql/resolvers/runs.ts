/** runs, run, images and compareRuns, with the Run, Image and comparison fields. */
import type { GuidanceTrace } from '@infsplign/workers/contracts/jobs.ts';
import { z } from 'zod';
import { inputError, notFound, parseInput } from '../../errors.ts';
import type { ImageSet, Prisma, PrismaClient } from '../../generated/prisma/client.ts';
import { pairedTest, type ImagePair } from '../../stats/paired.ts';
import type { RequestContext } from '../context.ts';
import { connection, decodeCursor, pageSize } from '../pagination.ts';
import { IMAGE_INCLUDE, loadRun, orderedMetrics, RUN_INCLUDE, type ImageRow, type RunRow } from '../rows.ts';

const uuid = z.uuid('not a valid id');

/** An id argument (runs and images have UUIDs), checked before it reaches PostgreSQL (which would reject a non-UUID with a server error). */
function uuidArg(value: unknown, path: string): string {
  return parseInput(uuid, value, [path]);
}

async function requireRun(prisma: PrismaClient, value: unknown, path: string): Promise<RunRow> {
  const run = await loadRun(prisma, uuidArg(value, path));
  if (!run) throw notFound(`run ${value}`);
  return run;
}

const RUN_STATUSES = ['QUEUED', 'GENERATING', 'EVALUATING', 'FINISHED', 'FAILED', 'CANCELLED'] as const;
const name = z.string().min(1).max(200);
const runsArgs = z.object({
  first: z.number().nullish(),
  after: z.string().max(500).nullish(),
  filter: z.object({ status: z.array(z.enum(RUN_STATUSES)).max(6).nullish(), team: name.nullish(), model: name.nullish(), benchmark: name.nullish(), method: name.nullish() }).nullish(),
  sort: z.object({ field: z.enum(['CREATED_AT']).nullish(), direction: z.enum(['ASC', 'DESC']).nullish() }).nullish(),
});
const runCursor = z.tuple([z.iso.datetime(), z.uuid()]);

async function runs(args: unknown, { services: { prisma } }: RequestContext) {
  const { first, after, filter, sort } = parseInput(runsArgs, args);
  const size = pageSize(first);
  const cursor = decodeCursor(after, runCursor);
  const direction = sort?.direction === 'ASC' ? 'asc' : 'desc';
  const where: Prisma.RunWhereInput = {
    ...(filter?.status?.length && { status: { in: filter.status } }),
    ...(filter?.team && { team: { name: filter.team } }),
    ...(filter?.model && { model: { name: filter.model } }),
    ...(filter?.benchmark && { benchmark: { name: filter.benchmark } }),
    ...(filter?.method && { method: { name: filter.method } }),
  };
  let page: Prisma.RunWhereInput = {};
  if (cursor) {
    const [createdAt, id] = [new Date(cursor[0]), cursor[1]];
    const beyond = direction === 'desc' ? 'lt' : 'gt';
    page = { OR: [{ createdAt: { [beyond]: createdAt } }, { createdAt, id: { [beyond]: id } }] };
  }
  const [items, totalCount] = await Promise.all([
    prisma.run.findMany({ where: { AND: [where, page] }, orderBy: [{ createdAt: direction }, { id: direction }], take: size + 1, include: RUN_INCLUDE }),
    prisma.run.count({ where }),
  ]);
  return { ...connection(items, size, (run) => [run.createdAt.toISOString(), run.id]), totalCount };
}

const text = z.string().min(1).max(200);
const imagesArgs = z.object({
  runId: z.string(),
  first: z.number().nullish(),
  after: z.string().max(500).nullish(),
  filter: z.object({ correct: z.boolean().nullish(), relation: text.nullish(), object: text.nullish(), text: text.nullish() }).nullish(),
});
/** PostgreSQL's integer: a cursor's numbers beyond it are not of this listing (and would fail the statement). */
const int32 = z.number().int().min(-0x80000000).max(0x7fffffff);
const imageCursor = z.tuple([int32, int32]);

/** `text` matched literally by LIKE/ILIKE: its `%`, `_` and `\` escaped (PostgreSQL's default escape character is `\`). */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Keyset condition for images after (prompt externalId, image index). */
function imagesAfter(cursor: [number, number] | null): Prisma.ImageWhereInput {
  if (!cursor) return {};
  const [externalId, imageIndex] = cursor;
  return { OR: [{ prompt: { externalId: { gt: externalId } } }, { prompt: { externalId }, imageIndex: { gt: imageIndex } }] };
}

const IMAGE_ORDER = [{ prompt: { externalId: 'asc' } }, { imageIndex: 'asc' }] as const satisfies Prisma.ImageOrderByWithRelationInput[];

async function images(args: unknown, { services: { prisma } }: RequestContext) {
  const parsed = parseInput(imagesArgs, args);
  const id = uuidArg(parsed.runId, 'runId');
  // Only whether the run exists: its relations are the Run fields' business.
  const run = await prisma.run.findUnique({ where: { id }, select: { id: true } });
  if (!run) throw notFound(`run ${parsed.runId}`);
  const size = pageSize(parsed.first);
  const cursor = decodeCursor(parsed.after, imageCursor);
  const f = parsed.filter;
  const prompt: Prisma.PromptWhereInput = {
    ...(f?.relation && { relation: f.relation }),
    ...(f?.object && { objects: { has: f.object } }),
    // Prisma's `contains` passes % and _ through to ILIKE as wildcards.
    ...(f?.text && { text: { contains: likeLiteral(f.text), mode: 'insensitive' } }),
  };
  const where: Prisma.ImageWhereInput = {
    runId: run.id,
    // The score's own run id lets PostgreSQL read the matching scores from one range of the
    // (run_id, correct, image_id) index instead of looking up the score of every image of the run.
    ...(f?.correct != null && { score: { is: { runId: run.id, correct: f.correct } } }),
    ...(Object.keys(prompt).length > 0 && { prompt }),
  };
  const [items, totalCount] = await Promise.all([
    prisma.image.findMany({ where: { AND: [where, imagesAfter(cursor)] }, orderBy: [...IMAGE_ORDER], take: size + 1, include: IMAGE_INCLUDE }),
    // Filtered by `correct` alone, the images are their scores' rows: counted in the index, without a join.
    f?.correct != null && Object.keys(prompt).length === 0 ? prisma.imageScore.count({ where: { runId: run.id, correct: f.correct } }) : prisma.image.count({ where }),
  ]);
  return { ...connection(items, size, (image) => [image.prompt.externalId, image.imageIndex]), totalCount };
}

interface StoredPair extends ImagePair {
  aImage: string;
  bImage: string;
}

interface Comparison {
  a: RunRow;
  b: RunRow;
  pairs: StoredPair[];
}

/** What RunComparison resolves from: the pairs and their paired test. */
export type RunComparison = Comparison & {
  pairsCount: number;
  bothCorrect: number;
  neitherCorrect: number;
  onlyA: number;
  onlyB: number;
  mcnemarP: number;
  meanDifference: number | null;
  meanDifferenceLow: number | null;
  meanDifferenceHigh: number | null;
};

/**
 * Two loaded runs of one prompt set paired image by image (same prompt, same index, scored in both),
 * with the paired tests: one statement. compareRuns and the leaderboard's versusBaseline both come here.
 */
export async function comparePairs(prisma: PrismaClient, a: RunRow, b: RunRow): Promise<RunComparison> {
  const rows = await prisma.$queryRaw<{ prompt: number; image: number; aCorrect: boolean; aScore: number; bCorrect: boolean; bScore: number; aImage: string; bImage: string }[]>`
    SELECT p.external_id AS prompt, ia.image_index AS image, sa.correct AS "aCorrect", sa.score AS "aScore",
           sb.correct AS "bCorrect", sb.score AS "bScore", ia.id::text AS "aImage", ib.id::text AS "bImage"
    FROM images ia
    JOIN image_scores sa ON sa.image_id = ia.id
    JOIN images ib ON ib.run_id = ${b.id}::uuid AND ib.prompt_id = ia.prompt_id AND ib.image_index = ia.image_index
    JOIN image_scores sb ON sb.image_id = ib.id
    JOIN prompts p ON p.id = ia.prompt_id
    WHERE ia.run_id = ${a.id}::uuid
    ORDER BY p.external_id, ia.image_index`;
  const pairs: StoredPair[] = rows.map((r) => ({ prompt: r.prompt, image: r.image, a: { correct: r.aCorrect, score: r.aScore }, b: { correct: r.bCorrect, score: r.bScore }, aImage: r.aImage, bImage: r.bImage }));
  const test = pairedTest(pairs);
  return {
    a,
    b,
    pairs,
    pairsCount: test.pairs,
    bothCorrect: test.bothCorrect,
    neitherCorrect: test.neitherCorrect,
    onlyA: test.onlyA,
    onlyB: test.onlyB,
    mcnemarP: test.mcnemarP,
    meanDifference: test.meanDifference,
    meanDifferenceLow: test.meanDifferenceInterval?.[0] ?? null,
    meanDifferenceHigh: test.meanDifferenceInterval?.[1] ?? null,
  };
}

async function compareRuns(args: { a: unknown; b: unknown }, { services: { prisma } }: RequestContext): Promise<RunComparison> {
  const a = await requireRun(prisma, args.a, 'a');
  const b = await requireRun(prisma, args.b, 'b');
  if (a.promptSetId !== b.promptSetId) {
    throw inputError(['b'], `run b scores prompt set ${b.promptSet.benchmark.name}/${b.promptSet.name} and run a ${a.promptSet.benchmark.name}/${a.promptSet.name}; compare runs of the same prompt set`);
  }
  return comparePairs(prisma, a, b);
}

const comparedArgs = z.object({ first: z.number().nullish(), after: z.string().max(500).nullish(), disagreeing: z.boolean().nullish() });

async function comparedImages(comparison: Comparison, args: unknown, { services: { prisma } }: RequestContext) {
  const parsed = parseInput(comparedArgs, args);
  const size = pageSize(parsed.first);
  const cursor = decodeCursor(parsed.after, imageCursor);
  const chosen = comparison.pairs.filter(
    (p) => (!parsed.disagreeing || p.a.correct !== p.b.correct) && (!cursor || p.prompt > cursor[0] || (p.prompt === cursor[0] && p.image > cursor[1])),
  );
  const page = chosen.slice(0, size + 1);
  const loaded = await prisma.image.findMany({ where: { id: { in: page.flatMap((p) => [p.aImage, p.bImage]) } }, include: IMAGE_INCLUDE });
  const byId = new Map(loaded.map((image) => [image.id, image]));
  const nodes = page.map((p) => ({ prompt: byId.get(p.aImage)!.prompt, imageIndex: p.image, a: byId.get(p.aImage)!, b: byId.get(p.bImage)! }));
  return connection(nodes, size, (node) => [node.prompt.externalId, node.imageIndex]);
}

/** The first guided step of each run whose images a request asks the guidance of, by run id. */
const guideStarts = new WeakMap<RequestContext, Map<string, Promise<number>>>();

/**
 * Where a run's guidance traces start: its configuration's guide_steps start (0 for a run without
 * one; such a run has no traces). One query per run and request, however many of its images are asked.
 */
function guideStart(ctx: RequestContext, runId: string): Promise<number> {
  let starts = guideStarts.get(ctx);
  if (!starts) guideStarts.set(ctx, (starts = new Map()));
  let start = starts.get(runId);
  if (!start) {
    start = ctx.services.prisma.run
      .findUnique({ where: { id: runId }, select: { methodConfig: { select: { canonicalJson: true } } } })
      .then((run) => {
        const config = run?.methodConfig ? (JSON.parse(run.methodConfig.canonicalJson) as { params?: { guide_steps?: [number, number] } }) : null;
        return config?.params?.guide_steps?.[0] ?? 0;
      });
    starts.set(runId, start);
  }
  return start;
}

async function guidance(image: ImageRow, ctx: RequestContext) {
  // Written by the ingester from a message that guidanceTraceSchema validated.
  const trace = image.guidance as GuidanceTrace | null;
  if (!trace) return null;
  const start = await guideStart(ctx, image.runId);
  return trace.loss.map((loss, k) => ({ step: start + k, loss, centroids: trace.centroids[k] }));
}

/** Relations in the order the scorers list them. */
const RELATION_ORDER: readonly string[] = ['left of', 'right of', 'above', 'below', 'near'];
const relationOrder = (relation: string) => (RELATION_ORDER.includes(relation) ? RELATION_ORDER.indexOf(relation) : RELATION_ORDER.length);

export const runResolvers = {
  Query: {
    runs: (_: unknown, args: unknown, ctx: RequestContext) => runs(args, ctx),
    run: (_: unknown, args: { id: unknown }, { services: { prisma } }: RequestContext) => loadRun(prisma, uuidArg(args.id, 'id')),
    images: (_: unknown, args: unknown, ctx: RequestContext) => images(args, ctx),
    image: (_: unknown, args: { id: unknown }, { services: { prisma } }: RequestContext) => prisma.image.findUnique({ where: { id: uuidArg(args.id, 'id') }, include: IMAGE_INCLUDE }),
    compareRuns: (_: unknown, args: { a: unknown; b: unknown }, ctx: RequestContext) => compareRuns(args, ctx),
  },
  Run: {
    method: (run: RunRow) => run.method?.name ?? null,
    config: (run: RunRow) => (run.methodConfig ? JSON.parse(run.methodConfig.canonicalJson) : null),
    configHash: (run: RunRow) => run.methodConfig?.hash ?? null,
    benchmark: (run: RunRow) => run.benchmark.name,
    limit: (run: RunRow) => run.promptLimit,
    error: (run: RunRow) => run.errorReason,
    imageSet: (run: RunRow, _: unknown, { services: { prisma } }: RequestContext) => (run.imageSetId ? prisma.imageSet.findUnique({ where: { id: run.imageSetId } }) : null),
    sourceRun: (run: RunRow, _: unknown, { services: { prisma } }: RequestContext) => (run.rescoredFromId ? loadRun(prisma, run.rescoredFromId) : null),
    progress: (run: RunRow) => ({
      prompts: run.promptsTotal,
      totalImages: run.imagesTotal,
      imagesGenerated: run.imagesGenerated,
      imagesEvaluated: run.imagesEvaluated,
      fraction: run.imagesTotal > 0 ? run.imagesEvaluated / run.imagesTotal : 0,
    }),
    timeline: (run: RunRow, _: unknown, { services: { prisma } }: RequestContext) => prisma.runEvent.findMany({ where: { runId: run.id }, orderBy: [{ at: 'asc' }, { id: 'asc' }] }),
    async aggregates(run: RunRow, _: unknown, { services: { prisma } }: RequestContext) {
      if (run.status !== 'FINISHED') return null;
      const [rows, definitions] = await Promise.all([
        prisma.runAggregate.findMany({ where: { runId: run.id } }),
        prisma.metricDefinition.findMany({ where: { benchmarkId: run.benchmarkId } }),
      ]);
      const relations = [...new Set(rows.map((r) => r.relation).filter((r) => r !== ''))].sort((x, y) => relationOrder(x) - relationOrder(y) || x.localeCompare(y));
      return {
        scorerVersion: run.scorerVersion ?? 'unknown',
        promptsScored: run.promptsTotal,
        imagesScored: run.imagesEvaluated,
        metrics: orderedMetrics(rows.filter((r) => r.relation === ''), definitions),
        byRelation: relations.map((relation) => ({ relation, metrics: orderedMetrics(rows.filter((r) => r.relation === relation), definitions) })),
      };
    },
  },
  ImageSet: {
    prefix: (set: ImageSet) => set.artifactPrefix,
  },
  Image: {
    // Keys are checked artifact keys (letters, digits, _ - . and /), safe in a URL path as they are.
    url: (image: ImageRow) => `/artifacts/${image.artifactKey}`,
    detections: (image: ImageRow) => image.detections.map((d) => ({ label: d.label, score: d.score, box: [d.x0, d.y0, d.x1, d.y1] })),
    score: (image: ImageRow) => image.score?.score ?? null,
    correct: (image: ImageRow) => image.score?.correct ?? null,
    reason: (image: ImageRow) => image.score?.reason ?? null,
    guidance: (image: ImageRow, _: unknown, ctx: RequestContext) => guidance(image, ctx),
  },
  RunComparison: {
    pairs: (comparison: RunComparison) => comparison.pairsCount,
    images: (comparison: RunComparison, args: unknown, ctx: RequestContext) => comparedImages(comparison, args, ctx),
  },
};
