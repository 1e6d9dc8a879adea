/** benchmarks, models, methods and the leaderboard: the catalogue and what is ranked on it. */
import { defaultParams } from '@infsplign/workers/contracts/method-params.ts';
import { z } from 'zod';
import { inputError, parseInput } from '../../errors.ts';
import { Prisma, type Method, type Model, type Run } from '../../generated/prisma/client.ts';
import { modelDefaults } from '../../runs/submit.ts';
import type { RequestContext } from '../context.ts';
import { orderedMetrics, PROMPT_SET_INCLUDE, RUN_COLUMNS, withRelations, type PromptSetRow } from '../rows.ts';

interface Figure {
  metricKey: string;
  value: number | null;
  lower: number | null;
  upper: number | null;
}

const leaderboardArgs = z.object({
  benchmark: z.string().min(1).max(200),
  model: z.string().min(1).max(200).nullish(),
  detector: z.string().min(1).max(600).nullish(),
  sort: z.object({ metric: z.string().min(1).max(100).nullish(), direction: z.enum(['ASC', 'DESC']).nullish() }).nullish(),
});

async function leaderboard(args: unknown, { services: { prisma } }: RequestContext) {
  const { benchmark: name, model, detector, sort } = parseInput(leaderboardArgs, args);
  const benchmark = await prisma.benchmark.findUnique({ where: { name }, include: { metrics: { orderBy: { ordinal: 'asc' } } } });
  if (!benchmark) throw inputError(['benchmark'], `unknown benchmark '${name}'`);
  const metricKey = sort?.metric ?? benchmark.metrics[0]?.key;
  const metric = benchmark.metrics.find((m) => m.key === metricKey);
  if (!metric) throw inputError(['sort', 'metric'], `benchmark ${name} has no metric '${metricKey}' (known: ${benchmark.metrics.map((m) => m.key).join(', ')})`);
  const direction = sort?.direction ?? (metric.higherIsBetter ? 'DESC' : 'ASC');

  // Aggregates only (each run's overall figures), never per-image rows: the runs and their figures
  // in two statements with the same filter, ranked here, then the runs' catalogue rows.
  const where = Prisma.sql`r.benchmark_id = ${benchmark.id}::uuid AND r.status = 'FINISHED'
    ${model ? Prisma.sql`AND r.model_id = (SELECT id FROM models WHERE name = ${model})` : Prisma.empty}
    ${detector ? Prisma.sql`AND r.detector = ${detector}` : Prisma.empty}`;
  const found = await prisma.$queryRaw<Run[]>`SELECT ${RUN_COLUMNS} FROM runs r WHERE ${where}`;
  const figures = await prisma.$queryRaw<(Figure & { runId: string })[]>`
    SELECT a.run_id AS "runId", a.metric_key AS "metricKey", a.value, a.lower, a.upper
    FROM runs r JOIN run_aggregates a ON a.run_id = r.id AND a.relation = '' WHERE ${where}`;
  const figuresOf = new Map<string, Figure[]>();
  for (const figure of figures) {
    const ofRun = figuresOf.get(figure.runId);
    if (ofRun) ofRun.push(figure);
    else figuresOf.set(figure.runId, [figure]);
  }
  const runs = (await withRelations(prisma, found)).map((run) => ({ ...run, aggregates: figuresOf.get(run.id) ?? [] }));
  type Ranked = (typeof runs)[number];
  const valueOf = (run: Ranked) => run.aggregates.find((a) => a.metricKey === metric.key)?.value ?? null;
  const sign = direction === 'DESC' ? -1 : 1;
  runs.sort((a, b) => {
    const [va, vb] = [valueOf(a), valueOf(b)];
    // Runs without the figure (e.g. VISOR_cond undefined) go last, whatever the direction.
    if (va === null || vb === null) return (va === null ? 1 : 0) - (vb === null ? 1 : 0);
    return sign * (va - vb) || a.finishedAt!.getTime() - b.finishedAt!.getTime();
  });
  return runs.map((run, i) => ({
    rank: i + 1,
    run,
    method: run.method?.name ?? null,
    configHash: run.methodConfig?.hash ?? null,
    isBaseline: run.method?.name === 'baseline',
    model: run.model,
    detector: run.detector,
    threshold: run.threshold,
    metrics: orderedMetrics(run.aggregates, benchmark.metrics),
  }));
}

/** Prompt counts asked for in one request, by prompt set: a page of runs of one set counts it once. */
const promptCounts = new WeakMap<RequestContext, Map<string, Promise<number>>>();

function promptCount(ctx: RequestContext, promptSetId: string): Promise<number> {
  let counts = promptCounts.get(ctx);
  if (!counts) promptCounts.set(ctx, (counts = new Map()));
  let count = counts.get(promptSetId);
  if (!count) counts.set(promptSetId, (count = ctx.services.prisma.prompt.count({ where: { promptSetId } })));
  return count;
}

export const catalogResolvers = {
  Query: {
    benchmarks: (_: unknown, __: unknown, { services: { prisma } }: RequestContext) =>
      prisma.benchmark.findMany({
        orderBy: { name: 'asc' },
        include: { metrics: { orderBy: { ordinal: 'asc' } }, promptSets: { orderBy: { name: 'asc' }, include: PROMPT_SET_INCLUDE } },
      }),
    models: (_: unknown, __: unknown, { services: { prisma } }: RequestContext) => prisma.model.findMany({ orderBy: { name: 'asc' } }),
    methods: (_: unknown, __: unknown, { services: { prisma } }: RequestContext) => prisma.method.findMany({ orderBy: { name: 'asc' } }),
    leaderboard: (_: unknown, args: unknown, ctx: RequestContext) => leaderboard(args, ctx),
  },
  PromptSet: {
    benchmark: (set: PromptSetRow) => set.benchmark.name,
    promptCount: (set: PromptSetRow, _: unknown, ctx: RequestContext) => set._count?.prompts ?? promptCount(ctx, set.id),
  },
  Method: {
    parameterSchema: (method: Method) => method.paramSchema,
    async defaults(_method: Method, args: { model?: string | null }, { services: { prisma } }: RequestContext) {
      if (!args.model) return defaultParams('custom');
      const model: Model | null = await prisma.model.findUnique({ where: { name: args.model } });
      if (!model) throw inputError(['model'], `unknown model '${args.model}'`);
      return modelDefaults(model);
    },
  },
};
