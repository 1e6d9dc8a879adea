/** benchmarks, models and methods: the catalogue (leaderboard.ts ranks the runs on it). */
import { defaultParams } from '@infsplign/workers/contracts/method-params.ts';
import { inputError } from '../../errors.ts';
import type { Benchmark, Method, MetricDefinition, Model } from '../../generated/prisma/client.ts';
import { modelDefaults } from '../../runs/submit.ts';
import type { RequestContext } from '../context.ts';
import { PROMPT_SET_INCLUDE, type PromptSetRow } from '../rows.ts';

/** Prompt counts asked for in one request, by prompt set: a page of runs of one set counts it once. */
const promptCounts = new WeakMap<RequestContext, Map<string, Promise<number>>>();

function promptCount(ctx: RequestContext, promptSetId: string): Promise<number> {
  let counts = promptCounts.get(ctx);
  if (!counts) promptCounts.set(ctx, (counts = new Map()));
  let count = counts.get(promptSetId);
  if (!count) counts.set(promptSetId, (count = ctx.services.prisma.prompt.count({ where: { promptSetId } })));
  return count;
}

/** When each benchmark's most recent run finished, read once per request. */
const latestFinished = new WeakMap<RequestContext, Promise<Map<string, Date | null>>>();

function latestFinishedAt(ctx: RequestContext, benchmarkId: string): Promise<Date | null> {
  let found = latestFinished.get(ctx);
  if (!found) {
    found = ctx.services.prisma.run
      .groupBy({ by: ['benchmarkId'], where: { status: 'FINISHED' }, _max: { finishedAt: true } })
      .then((groups) => new Map(groups.map((g) => [g.benchmarkId, g._max.finishedAt])));
    latestFinished.set(ctx, found);
  }
  return found.then((byBenchmark) => byBenchmark.get(benchmarkId) ?? null);
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
  },
  Benchmark: {
    primaryMetric: (benchmark: Benchmark & { metrics: MetricDefinition[] }) => (benchmark.metrics.find((m) => m.primary) ?? benchmark.metrics[0])?.key ?? '',
    latestFinishedAt: (benchmark: Benchmark, _: unknown, ctx: RequestContext) => latestFinishedAt(ctx, benchmark.id),
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
