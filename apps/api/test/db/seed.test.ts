/**
 * `db:seed` against a throwaway PostgreSQL: the catalogue lands complete, a second run writes
 * nothing, and the 31,680 VISOR prompts take seconds.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startPostgres, type PostgresServer } from '../../../../test/support/postgres.ts';
import { closePrisma, createPrisma, type PrismaClient } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { seed } from '../../src/db/seed.ts';
import { PARAM_NAMES } from '@infsplign/workers/contracts';
import { methodNames } from '@infsplign/workers/methods';

let server: PostgresServer;
let prisma: PrismaClient;
const scratch = mkdtempSync(join(tmpdir(), 'infsplign-seed-test-'));
/** A registry naming a folder that does not exist here, as on an API host whose models live on GPU hosts. */
const registryFile = join(scratch, 'models', 'registry.json');

before(async () => {
  server = await startPostgres();
  const url = await server.createDatabase('seed');
  await migrate(url);
  prisma = createPrisma(url);
  mkdirSync(join(scratch, 'models'));
  writeFileSync(registryFile, JSON.stringify({ remote: '/nonexistent/sd21' }));
});

after(async () => {
  if (prisma) await closePrisma(prisma);
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * Every seeded table, row by row, in a stable order: equal snapshots mean equal contents. For
 * prompts it also takes xmin, which changes whenever a row is rewritten, even with equal values:
 * the bulk upsert must skip unchanged prompts, not rewrite 31,680 rows on every run.
 */
async function snapshot(): Promise<string> {
  const tables: Array<[table: string, row: string]> = [
    ['benchmarks', 't::text'],
    ['metric_definitions', 't::text'],
    ['prompt_sets', 't::text'],
    ['prompts', "t::text || ' xmin ' || t.xmin::text"],
    ['models', 't::text'],
    ['methods', 't::text'],
  ];
  const parts: string[] = [];
  for (const [table, row] of tables) {
    const [result] = await prisma.$queryRawUnsafe<Array<{ digest: string }>>(`SELECT md5(string_agg(${row}, '|' ORDER BY t.id)) AS digest FROM ${table} t`);
    parts.push(`${table}:${result.digest}`);
  }
  return parts.join('\n');
}

test('seeds benchmarks, metrics, prompt sets, models and methods, then changes nothing on a second run', async () => {
  const started = performance.now();
  const first = await seed(prisma, { registryFile });
  const firstMs = performance.now() - started;
  console.log(`first seed: ${(firstMs / 1000).toFixed(2)} s`);

  const sets = Object.fromEntries(first.promptSets.map((s) => [`${s.benchmark}/${s.name}`, s.prompts]));
  assert.equal(sets['visor/full'], 31680);
  assert.equal(first.promptSets.find((s) => s.name === 'full')!.written, 31680);
  // every shipped set: VISOR and the InfSplign subsets, VISOR-Shapes, T2I-CompBench spatial, GenEval whole and its position tag
  assert.deepEqual(sets, {
    'visor/full': 31680,
    'visor/subset_20': 20,
    'visor/subset_500': 500,
    'visor/subset_1000': 1000,
    'visor/subset_3160': 3160,
    'visor-shapes/tune': 153,
    'visor-shapes/eval': 307,
    't2i/spatial_val': 300,
    't2i/spatial': 1000,
    'geneval/evaluation_metadata': 553,
    'geneval/position': 100,
  });
  assert.deepEqual(
    first.warnings.filter((w) => !w.startsWith('model remote:')),
    [],
  );
  assert.ok(firstMs < 20_000, `seeding took ${firstMs.toFixed(0)} ms`);

  const benchmarks = await prisma.benchmark.findMany({ include: { metrics: { orderBy: { ordinal: 'asc' } } }, orderBy: { name: 'asc' } });
  assert.deepEqual(
    benchmarks.map((b) => [b.name, b.scoring, b.defaultThreshold, b.defaultImagesPerPrompt, b.metrics.map((m) => m.key).join(' ')]),
    [
      ['geneval', 'geneval', 0.3, 4, 'position single_object two_object counting overall'],
      ['t2i', 't2i', 0.1, 10, 'spatial'],
      ['visor', 'visor', 0.1, 4, 'OA OA_A OA_B VISOR_cond VISOR_uncond VISOR_1 VISOR_2 VISOR_3 VISOR_4'],
      ['visor-shapes', 'visor', 0.1, 4, 'OA OA_A OA_B VISOR_cond VISOR_uncond VISOR_1 VISOR_2 VISOR_3 VISOR_4'],
    ],
  );
  const visorMetric = benchmarks[2].metrics[4];
  assert.deepEqual([visorMetric.unit, visorMetric.higherIsBetter], ['%', true]);

  const prompt = await prisma.prompt.findFirstOrThrow({ where: { promptSet: { name: 'full', benchmark: { name: 'visor' } }, externalId: 0 } });
  assert.deepEqual([prompt.text, prompt.objects, prompt.relation], ['a person to the left of a bicycle', ['person', 'bicycle'], 'left of']);
  assert.equal((prompt.metadata as { rel_type: string }).rel_type, 'to the left of');
  const position = await prisma.prompt.findFirstOrThrow({ where: { promptSet: { name: 'evaluation_metadata' }, externalId: 353 } });
  assert.equal((position.metadata as { tag: string }).tag, 'position');
  assert.equal(position.objects.length, 2);
  // a tag's set keeps the file's line indices as ids
  const positionSet = await prisma.prompt.findMany({
    where: { promptSet: { name: 'position' } },
    orderBy: { externalId: 'asc' },
    select: { externalId: true, text: true },
  });
  assert.deepEqual([positionSet[0], positionSet.at(-1)!.externalId], [{ externalId: 353, text: position.text }, 452]);
  const subset = await prisma.prompt.findFirstOrThrow({ where: { promptSet: { name: 'subset_20' }, externalId: 17965 } });
  assert.deepEqual([subset.text, subset.relation], ['a fork above a tie', 'above']);
  const t2i = await prisma.prompt.findFirstOrThrow({ where: { promptSet: { name: 'spatial' }, externalId: 999 } });
  assert.equal(t2i.text, 'a pig on the bottom of a wallet');

  const methods = await prisma.method.findMany({ orderBy: { name: 'asc' } });
  // every registered method, the arena's competitors among them
  assert.deepEqual(
    methods.map((m) => m.name),
    methodNames().sort(),
  );
  assert.deepEqual(
    ['attend-and-excite', 'baseline', 'divide-and-bind', 'infsplign'].filter((name) => !methodNames().includes(name)),
    [],
  );
  const byName = (name: string) => methods.find((m) => m.name === name)!;
  const infsplignSchema = byName('infsplign').paramSchema as {
    properties: Record<string, { enum?: unknown[]; type?: string; minimum?: number; maximum?: number; description?: string }>;
    additionalProperties: boolean;
  };
  assert.ok(infsplignSchema.additionalProperties === false);
  // every parameter and every official alias, each with a description; choices and ranges as the contracts give them
  const official = [
    'loss_num',
    'loss_type',
    'alpha',
    'margin',
    'leaky_relu_slope',
    'L2_norm',
    'energy_loss',
    'top_loss',
    'strategy',
    'top_strategy',
    'lambda_spatial',
    'lambda_presence',
    'lambda_balance',
    'gaussian_smoothing',
    'masked_mean',
    'masked_mean_thresh',
    'masked_mean_weight',
    'object_presence',
    'no_wt',
    'num_attn_layers',
    'sg_t_start',
    'sg_t_end',
    'num_inference_steps',
    'centroid_type',
    'two_objects',
  ];
  assert.deepEqual(
    [...PARAM_NAMES, ...official].filter((name) => !infsplignSchema.properties[name]?.description),
    [],
  );
  assert.deepEqual(infsplignSchema.properties.energy_loss!.enum, ['var', 'log', 'entropy', 'prob', 'mean', 'gibs', 'gibsent', 'lin', 'square', 'exp', 'none']);
  assert.deepEqual(infsplignSchema.properties.strategy!.enum, ['diff', 'dec', 'both', 'inc', 'std', 'second', 'entgibs', 'mutual', 'none']);
  assert.equal(infsplignSchema.properties.loss_type!.enum!.length, 15);
  assert.deepEqual(
    [infsplignSchema.properties.loss_num!.minimum, infsplignSchema.properties.loss_num!.maximum, infsplignSchema.properties.num_attn_layers!.maximum],
    [1, 3, 9],
  );
  assert.equal(infsplignSchema.properties.gaussian_smoothing!.type, 'boolean');
  assert.ok(!('sg_grad_wt' in infsplignSchema.properties), 'refused options are not offered');
  // another name for a parameter, or an option with one value, is marked so that forms leave it out
  assert.deepEqual(
    Object.keys(infsplignSchema.properties)
      .filter((name) => (infsplignSchema.properties[name] as { 'x-alias'?: boolean })['x-alias'])
      .sort(),
    ['centroid_type', 'num_attn_layers', 'num_inference_steps', 'sg_t_end', 'sg_t_start', 'two_objects'],
  );
  assert.deepEqual(Object.keys((byName('baseline').paramSchema as { properties: object }).properties).sort(), ['cfg_scale', 'scheduler', 'steps']);
  // another method's schema is its own, each parameter described
  const aeSchema = byName('attend-and-excite').paramSchema as { properties: Record<string, { description?: string }>; additionalProperties: boolean };
  assert.ok(aeSchema.additionalProperties === false);
  assert.deepEqual(
    Object.keys(aeSchema.properties).filter((name) => !aeSchema.properties[name]!.description),
    [],
  );
  assert.ok('scale_factor' in aeSchema.properties && !('guidance_weight' in aeSchema.properties));

  const model = await prisma.model.findUniqueOrThrow({ where: { name: 'remote' } });
  assert.deepEqual([model.location, model.family, model.defaultParams], ['/nonexistent/sd21', null, null]);
  assert.match(first.warnings.join('\n'), /model remote: stored without family and defaults \(--model remote: .*\/nonexistent\/sd21, which is not a folder\)/);

  const snapshotBefore = await snapshot();
  const secondStarted = performance.now();
  const second = await seed(prisma, { registryFile });
  console.log(`second seed: ${((performance.now() - secondStarted) / 1000).toFixed(2)} s`);
  assert.deepEqual(
    second.promptSets.map((s) => s.written),
    second.promptSets.map(() => 0),
  );
  assert.equal(await snapshot(), snapshotBefore);
});
