/** benchmarks, models, methods and the leaderboard: the catalogue and what is ranked on it. */
import { methodDefaults } from '@infsplign/workers/contracts/model-defaults.ts';
import { requireMethod, registeredMethods } from '@infsplign/workers/methods/registry.ts';
import { inputError } from '../../errors.ts';
import type { Benchmark, MetricDefinition, Model } from '../../generated/prisma/client.ts';
import { methodRowFields, modelDefaults } from '../../runs/methods.ts';
import type { RequestContext } from '../context.ts';
import { PROMPT_SET_INCLUDE, type PromptSetRow } from '../rows.ts';
import { leaderboard } from './leaderboard.ts';

/** A method as the catalogue lists it. */
type CatalogueMethod = { name: string } & ReturnType<typeof methodRowFields>;

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
    // the methods' registry is the catalogue: a method registered there is offered without reseeding
    methods: () => registeredMethods().map((method) => ({ name: method.name, ...methodRowFields(method) })).sort((a, b) => a.name.localeCompare(b.name)),
    leaderboard: (_: unknown, args: unknown, ctx: RequestContext) => leaderboard(args, ctx),
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
    parameterSchema: (method: CatalogueMethod) => method.paramSchema,
    async defaults(method: CatalogueMethod, args: { model?: string | null }, { services: { prisma } }: RequestContext) {
      const definition = requireMethod(method.name);
      if (!args.model) return methodDefaults(definition, 'custom', null);
      const model: Model | null = await prisma.model.findUnique({ where: { name: args.model } });
      if (!model) throw inputError(['model'], `unknown model '${args.model}'`);
      return modelDefaults(model, definition);
    },
  },
};
