/** runs, run, images and compareRuns, with the Run, Image and comparison fields. */
import { canonicalConfig, canonicalJson, type GuidanceTrace, type Relation, RELATIONS } from '@infsplign/workers/contracts';
import { findMethod } from '@infsplign/workers/methods';
import { z } from 'zod';
import { inputError, notFound, parseInput } from '../../errors.ts';
import type { ImageSet, Prisma, PrismaClient } from '../../generated/prisma/client.ts';
import { RunStatus } from '../../generated/prisma/enums.ts';
import { latestBaseline } from '../../runs/baseline.ts';
import { compareRunRows, type RunComparison } from '../../runs/compare.ts';
import { modelDefaults } from '../../runs/methods.ts';
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

const name = z.string().min(1).max(200);
const runsArgs = z.object({
  first: z.number().nullish(),
  after: z.string().max(500).nullish(),
  filter: z
    .object({
      status: z.array(z.enum(RunStatus)).max(Object.keys(RunStatus).length).nullish(),
      team: name.nullish(),
      model: name.nullish(),
      benchmark: name.nullish(),
      method: name.nullish(),
    })
    .nullish(),
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
  return { ...connection(items, size, (run) => [run.createdAt.toISOString(), run.id], cursor), totalCount };
}

const text = z.string().min(1).max(200);
const imagesArgs = z.object({
  runId: z.string(),
  first: z.number().nullish(),
  after: z.string().max(500).nullish(),
  last: z.number().nullish(),
  before: z.string().max(500).nullish(),
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

/** Keyset condition for images before (prompt externalId, image index), or at it too when `orAt`. */
function imagesBefore([externalId, imageIndex]: [number, number], orAt = false): Prisma.ImageWhereInput {
  return { OR: [{ prompt: { externalId: { lt: externalId } } }, { prompt: { externalId }, imageIndex: orAt ? { lte: imageIndex } : { lt: imageIndex } }] };
}

const IMAGE_ORDER = [{ prompt: { externalId: 'asc' } }, { imageIndex: 'asc' }] as const satisfies Prisma.ImageOrderByWithRelationInput[];
const IMAGE_ORDER_BACKWARD = [{ prompt: { externalId: 'desc' } }, { imageIndex: 'desc' }] as const satisfies Prisma.ImageOrderByWithRelationInput[];
const imageKey = (image: ImageRow): [number, number] => [image.prompt.externalId, image.imageIndex];

/** A page of images; its start index is counted only when a query asks for it (ImageConnection.startIndex). */
export type ImagePage = Awaited<ReturnType<typeof images>>;

async function images(args: unknown, { services: { prisma } }: RequestContext) {
  const parsed = parseInput(imagesArgs, args);
  const id = uuidArg(parsed.runId, 'runId');
  const backward = parsed.before != null || parsed.last != null;
  if (backward && (parsed.after != null || parsed.first != null))
    throw inputError(['before'], 'page forward (first, after) or backward (last, before), not both');
  // Only whether the run exists: its relations are the Run fields' business.
  const run = await prisma.run.findUnique({ where: { id }, select: { id: true } });
  if (!run) throw notFound(`run ${parsed.runId}`);
  const size = backward ? pageSize(parsed.last, 'last') : pageSize(parsed.first);
  const cursor = backward ? decodeCursor(parsed.before, imageCursor, 'before') : decodeCursor(parsed.after, imageCursor);
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
  const [fetched, totalCount] = await Promise.all([
    backward
      ? prisma.image.findMany({
          where: { AND: [where, cursor ? imagesBefore(cursor) : {}] },
          orderBy: [...IMAGE_ORDER_BACKWARD],
          take: size + 1,
          include: IMAGE_INCLUDE,
        })
      : prisma.image.findMany({ where: { AND: [where, imagesAfter(cursor)] }, orderBy: [...IMAGE_ORDER], take: size + 1, include: IMAGE_INCLUDE }),
    // Filtered by `correct` alone, the images are their scores' rows: counted in the index, without a join.
    f?.correct != null && Object.keys(prompt).length === 0
      ? prisma.imageScore.count({ where: { runId: run.id, correct: f.correct } })
      : prisma.image.count({ where }),
  ]);
  const page = backward ? fetched.slice(0, size).reverse() : fetched;
  const paged = connection(backward ? page : fetched, size, imageKey, cursor);
  // Paging backward, the extra item says there is a previous page, and the cursor that there is a next one.
  if (backward) Object.assign(paged.pageInfo, { hasNextPage: cursor !== null, hasPreviousPage: fetched.length > size });
  const first = page[0];
  return {
    ...paged,
    totalCount,
    // Counted only when asked for (the field resolver calls it).
    startIndex: () =>
      first
        ? prisma.image.count({ where: { AND: [where, imagesBefore(imageKey(first))] } })
        : !backward && cursor
          ? prisma.image.count({ where: { AND: [where, imagesBefore(cursor, true)] } })
          : 0,
  };
}

async function compareRuns(args: { a: unknown; b: unknown }, { services: { prisma } }: RequestContext): Promise<RunComparison> {
  const a = await requireRun(prisma, args.a, 'a');
  const b = await requireRun(prisma, args.b, 'b');
  return compareRunRows(prisma, a, b);
}

const comparedArgs = z.object({ first: z.number().nullish(), after: z.string().max(500).nullish(), disagreeing: z.boolean().nullish() });

async function comparedImages(comparison: RunComparison, args: unknown, { services: { prisma } }: RequestContext) {
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
  return connection(nodes, size, (node) => [node.prompt.externalId, node.imageIndex], cursor);
}

const promptCursor = z.tuple([z.number().int()]);

/** The compared prompts, each with both runs' images of it; only those whose share of correct images differs when `disagreeing`. */
async function comparedPrompts(comparison: RunComparison, args: unknown, { services: { prisma } }: RequestContext) {
  const parsed = parseInput(comparedArgs, args);
  const size = pageSize(parsed.first);
  const cursor = decodeCursor(parsed.after, promptCursor);
  const share = (images: readonly { correct: boolean }[]) => images.filter((i) => i.correct).length / images.length;
  const chosen = comparison.prompts.filter((p) => (!parsed.disagreeing || share(p.a) !== share(p.b)) && (!cursor || p.externalId > cursor[0]));
  const page = chosen.slice(0, size + 1);
  const [prompts, loaded] = await Promise.all([
    prisma.prompt.findMany({ where: { id: { in: page.map((p) => p.promptIdA) } } }),
    prisma.image.findMany({ where: { id: { in: page.flatMap((p) => [...p.a, ...p.b].map((i) => i.imageId)) } }, include: IMAGE_INCLUDE }),
  ]);
  const promptById = new Map(prompts.map((p) => [p.id, p]));
  const imageById = new Map(loaded.map((image) => [image.id, image]));
  const nodes = page.map((p) => ({
    prompt: promptById.get(p.promptIdA)!,
    a: p.a.map((i) => imageById.get(i.imageId)!),
    b: p.b.map((i) => imageById.get(i.imageId)!),
    aCorrect: p.a.filter((i) => i.correct).length,
    bCorrect: p.b.filter((i) => i.correct).length,
  }));
  return connection(nodes, size, (node) => [node.prompt.externalId], cursor);
}

/** A run's configuration against what its method's defaults for its model would make it today: the parameters that differ. */
function configChanges(run: RunRow) {
  const method = run.method && findMethod(run.method.name);
  if (!run.methodConfig || !run.model || !method) return null;
  const config = JSON.parse(run.methodConfig.canonicalJson) as { params: Record<string, unknown> };
  const defaults = modelDefaults(run.model, method);
  let reference: Record<string, unknown> = defaults;
  try {
    reference = { ...canonicalConfig(method.name, method.params.resolve(defaults, {}, 'the model defaults', run.model.family ?? 'custom')).params };
  } catch {
    // A model whose defaults leave a parameter unset: each key against its default, where there is one.
  }
  return Object.entries(config.params)
    .filter(([key, value]) => canonicalJson(value) !== canonicalJson(reference[key] ?? null))
    .map(([key, value]) => ({ key, value, default: reference[key] ?? null }));
}

/** The image before or after this one in its run's order (prompt id, then image index). */
function neighbour(prisma: PrismaClient, image: ImageRow, direction: 'previous' | 'next') {
  const key = imageKey(image);
  return prisma.image.findFirst({
    where: { AND: [{ runId: image.runId }, direction === 'next' ? imagesAfter(key) : imagesBefore(key)] },
    orderBy: direction === 'next' ? [...IMAGE_ORDER] : [...IMAGE_ORDER_BACKWARD],
    include: IMAGE_INCLUDE,
  });
}

/** At most this many other runs' images of the same prompt. */
const OTHER_RUNS = 10;

/** Where a run's guidance traces start: its configuration's guide_steps start (0 for a run without one; such a run has no traces). */
async function guideStart(ctx: RequestContext, runId: string): Promise<number> {
  const run = await ctx.loaders.run.load(runId);
  const config = run?.methodConfig ? (JSON.parse(run.methodConfig.canonicalJson) as { params?: { guide_steps?: [number, number] } }) : null;
  return config?.params?.guide_steps?.[0] ?? 0;
}

async function guidance(image: ImageRow, ctx: RequestContext) {
  // Written by the ingester from a message that guidanceTraceSchema validated.
  const trace = image.guidance as GuidanceTrace | null;
  if (!trace) return null;
  const start = await guideStart(ctx, image.runId);
  return trace.loss.map((loss, k) => ({ step: start + k, loss, centroids: trace.centroids[k] }));
}

/** Relations in the order the scorers list them. */
const relationOrder = (relation: string) => (RELATIONS.includes(relation as Relation) ? RELATIONS.indexOf(relation as Relation) : RELATIONS.length);

export const runResolvers = {
  Query: {
    runs: (_: unknown, args: unknown, ctx: RequestContext) => runs(args, ctx),
    run: (_: unknown, args: { id: unknown }, { services: { prisma } }: RequestContext) => loadRun(prisma, uuidArg(args.id, 'id')),
    images: (_: unknown, args: unknown, ctx: RequestContext) => images(args, ctx),
    image: (_: unknown, args: { id: unknown }, { services: { prisma } }: RequestContext) =>
      prisma.image.findUnique({ where: { id: uuidArg(args.id, 'id') }, include: IMAGE_INCLUDE }),
    compareRuns: (_: unknown, args: { a: unknown; b: unknown }, ctx: RequestContext) => compareRuns(args, ctx),
  },
  Run: {
    method: (run: RunRow) => run.method?.name ?? null,
    config: (run: RunRow) => (run.methodConfig ? JSON.parse(run.methodConfig.canonicalJson) : null),
    configHash: (run: RunRow) => run.methodConfig?.hash ?? null,
    benchmark: (run: RunRow) => run.benchmark.name,
    limit: (run: RunRow) => run.promptLimit,
    error: (run: RunRow) => run.errorReason,
    imageSet: (run: RunRow, _: unknown, { loaders }: RequestContext) => (run.imageSetId ? loaders.imageSet.load(run.imageSetId) : null),
    sourceRun: (run: RunRow, _: unknown, { loaders }: RequestContext) => (run.rescoredFromId ? loaders.run.load(run.rescoredFromId) : null),
    progress: (run: RunRow) => ({
      prompts: run.promptsTotal,
      totalImages: run.imagesTotal,
      imagesGenerated: run.imagesGenerated,
      imagesEvaluated: run.imagesEvaluated,
      fraction: run.imagesTotal > 0 ? run.imagesEvaluated / run.imagesTotal : 0,
    }),
    timeline: (run: RunRow, _: unknown, { loaders }: RequestContext) => loaders.timeline.load(run.id),
    cost: (run: RunRow, _: unknown, { loaders }: RequestContext) => loaders.runCost.load(run.id),
    configChanges: (run: RunRow) => configChanges(run),
    async versusBaseline(run: RunRow, _: unknown, { services: { prisma } }: RequestContext) {
      if (run.status !== 'FINISHED') return null;
      const baseline = await latestBaseline(prisma, run);
      return baseline ? compareRunRows(prisma, baseline, run) : null;
    },
    async aggregates(run: RunRow, _: unknown, { loaders }: RequestContext) {
      if (run.status !== 'FINISHED') return null;
      const [rows, definitions] = await Promise.all([loaders.aggregates.load(run.id), loaders.metricDefinitions.load(run.benchmarkId)]);
      const relations = [...new Set(rows.map((r) => r.relation).filter((r) => r !== ''))].sort(
        (x, y) => relationOrder(x) - relationOrder(y) || x.localeCompare(y),
      );
      return {
        scorerVersion: run.scorerVersion ?? 'unknown',
        promptsScored: run.promptsTotal,
        imagesScored: run.imagesEvaluated,
        metrics: orderedMetrics(
          rows.filter((r) => r.relation === ''),
          definitions,
          run.imagesPerPrompt,
        ),
        byRelation: relations.map((relation) => ({
          relation,
          metrics: orderedMetrics(
            rows.filter((r) => r.relation === relation),
            definitions,
            run.imagesPerPrompt,
          ),
        })),
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
    run: async (image: ImageRow, _: unknown, { loaders }: RequestContext) => (await loaders.run.load(image.runId))!,
    previous: (image: ImageRow, _: unknown, { services: { prisma } }: RequestContext) => neighbour(prisma, image, 'previous'),
    next: (image: ImageRow, _: unknown, { services: { prisma } }: RequestContext) => neighbour(prisma, image, 'next'),
    otherRuns: (image: ImageRow, _: unknown, { services: { prisma } }: RequestContext) =>
      prisma.image.findMany({
        where: { promptId: image.promptId, imageIndex: image.imageIndex, runId: { not: image.runId }, run: { status: 'FINISHED' } },
        orderBy: [{ run: { finishedAt: 'desc' } }, { id: 'asc' }],
        take: OTHER_RUNS,
        include: IMAGE_INCLUDE,
      }),
  },
  ImageConnection: {
    startIndex: (page: ImagePage) => page.startIndex(),
  },
  RunComparison: {
    pairs: (comparison: RunComparison) => comparison.pairsCount,
    images: (comparison: RunComparison, args: unknown, ctx: RequestContext) => comparedImages(comparison, args, ctx),
    sharedPrompts: (comparison: RunComparison) => comparison.prompts.length,
    prompts: (comparison: RunComparison, args: unknown, ctx: RequestContext) => comparedPrompts(comparison, args, ctx),
  },
};
