/** benchmarks, models and methods: the catalogue (leaderboard.ts ranks the runs on it). */
import { methodDefaults } from '@infsplign/workers/contracts';
import { requireMethod, registeredMethods } from '@infsplign/workers/methods';
import { z } from 'zod';
import { inputError, parseInput } from '../../errors.ts';
import type { Model } from '../../generated/prisma/client.ts';
import { type CatalogueMethod, methodRowFields, modelDefaults } from '../../runs/methods.ts';
import type { RequestContext } from '../context.ts';
import { BENCHMARK_INCLUDE, type BenchmarkRow, type PromptSetRow } from '../rows.ts';

export const catalogResolvers = {
  Query: {
    benchmarks: (_: unknown, __: unknown, { services: { prisma } }: RequestContext) =>
      prisma.benchmark.findMany({ orderBy: { name: 'asc' }, include: BENCHMARK_INCLUDE }),
    models: (_: unknown, __: unknown, { services: { prisma } }: RequestContext) => prisma.model.findMany({ orderBy: { name: 'asc' } }),
    // the methods' registry is the catalogue: a method registered there is offered without reseeding
    methods: () =>
      registeredMethods()
        .map((method) => ({ name: method.name, ...methodRowFields(method) }))
        .sort((a, b) => a.name.localeCompare(b.name)),
  },
  Benchmark: {
    primaryMetric: (benchmark: BenchmarkRow) => (benchmark.metrics.find((m) => m.primary) ?? benchmark.metrics[0])?.key ?? '',
    latestFinishedAt: (benchmark: BenchmarkRow, _: unknown, { loaders }: RequestContext) => loaders.latestFinishedAt.load(benchmark.id),
  },
  PromptSet: {
    benchmark: (set: PromptSetRow) => set.benchmark.name,
    promptCount: (set: PromptSetRow, _: unknown, { loaders }: RequestContext) => set._count?.prompts ?? loaders.promptCount.load(set.id),
  },
  Model: {
    async generationTime(model: Model, args: { method?: string | null }, { services: { prisma } }: RequestContext) {
      const method = parseInput(z.string().min(1).max(200).nullish(), args.method, ['method']);
      const { _avg, _count } = await prisma.image.aggregate({
        where: { generationMs: { not: null }, run: { modelId: model.id, status: 'FINISHED', ...(method && { method: { name: method } }) } },
        _avg: { generationMs: true },
        _count: { generationMs: true },
      });
      return _avg.generationMs === null ? null : { secondsPerImage: _avg.generationMs / 1000, images: _count.generationMs };
    },
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
