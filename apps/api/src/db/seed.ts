/**
 * The catalogue every installation starts with: benchmarks and their metric definitions, their
 * prompt sets, the models of models/registry.json, and the methods. Idempotent: every row is an
 * upsert on its natural key, and a second run with unchanged inputs writes nothing.
 *
 * All files are read and validated before the first write, and the writes happen in one
 * transaction, so a bad file or an interrupted seed leaves the database as it was.
 */
import { join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { type BenchmarkName, type ModelDefaults, readJsonFile } from '@infsplign/workers/contracts';
import { registeredMethods } from '@infsplign/workers/methods';
import { readModelFolder, REGISTRY_FILE, resolveModel } from '@infsplign/workers/models';
import {
  BENCHMARK_METRICS,
  DEFAULT_THRESHOLDS,
  JSON_FILES_DIR,
  loadPrompts,
  OFFICIAL_FILES,
  VISOR_SUBSET_SIZES,
  visorSubsetFile,
} from '@infsplign/workers/benchmarks';
import { Prisma, type ModelFamily, type PrismaClient } from '../generated/prisma/client.ts';
import { methodRowFields } from '../runs/methods.ts';

const ROOT = resolve(import.meta.dirname, '../../../..');

interface BenchmarkSpec {
  name: BenchmarkName;
  /** docs/benchmarks.md §4: the images per prompt of each benchmark's published setting. */
  imagesPerPrompt: number;
  promptSets: PromptSetSpec[];
}

/** A prompt set: a file under json_files/, for GenEval optionally only one tag of it. */
interface PromptSetSpec {
  name: string;
  file: string;
  tag?: string;
}

const BENCHMARKS: BenchmarkSpec[] = [
  {
    name: 'visor',
    imagesPerPrompt: 4,
    promptSets: [
      { name: 'full', file: join(JSON_FILES_DIR, 'visor_prompts.json') },
      // the InfSplign paper's subsets, as unique_ids into the full set
      ...VISOR_SUBSET_SIZES.map((size) => ({ name: `subset_${size}`, file: visorSubsetFile(size) })),
    ],
  },
  {
    name: 'visor-shapes',
    imagesPerPrompt: 4,
    promptSets: [
      { name: 'tune', file: join(JSON_FILES_DIR, 'visor_shapes_tune.json') },
      { name: 'eval', file: join(JSON_FILES_DIR, 'visor_shapes_eval.json') },
    ],
  },
  {
    name: 't2i',
    imagesPerPrompt: 10,
    promptSets: [
      { name: 'spatial_val', file: OFFICIAL_FILES.t2iSpatialVal },
      { name: 'spatial', file: OFFICIAL_FILES.t2iSpatial },
    ],
  },
  {
    name: 'geneval',
    imagesPerPrompt: 4,
    // The whole file (all six tags), and the position tag alone: GenEval's spatial task, which a run can then take by itself.
    promptSets: [
      { name: 'evaluation_metadata', file: OFFICIAL_FILES.genevalMetadata },
      { name: 'position', file: OFFICIAL_FILES.genevalMetadata, tag: 'position' },
    ],
  },
];

/** Prompts per INSERT: keeps one statement's JSON parameter to a few MB. */
const PROMPT_BATCH = 5000;

interface PromptRow {
  external_id: number;
  text: string;
  objects: string[];
  relation: string | null;
  metadata: unknown;
}

interface LoadedSet {
  benchmark: BenchmarkName;
  name: string;
  source: string;
  prompts: PromptRow[];
}

interface LoadedModel {
  name: string;
  location: string;
  family: ModelFamily | null;
  defaultParams: ModelDefaults | null;
  /** Why family and defaults are missing. */
  problem: string | null;
}

export interface SeedSummary {
  benchmarks: number;
  metrics: number;
  promptSets: Array<{ benchmark: string; name: string; prompts: number; written: number }>;
  models: Array<{ name: string; family: ModelFamily | null; problem: string | null }>;
  methods: number;
  warnings: string[];
}

/** Every prompt set, read and validated; the files ship with the repository (json_files/SOURCES.md). */
function loadSets(): LoadedSet[] {
  return BENCHMARKS.flatMap((benchmark) =>
    benchmark.promptSets.map(({ name, file, tag }) => ({
      benchmark: benchmark.name,
      name,
      source: relative(ROOT, file),
      prompts: loadPrompts(benchmark.name, file, { tag }).prompts.map((p) => ({
        external_id: p.id,
        text: p.text,
        objects: p.objects,
        relation: p.relation,
        metadata: p.raw,
      })),
    })),
  );
}

/** models/registry.json, as model-registry.ts reads it: `{"name": "path"}`. */
const registrySchema = z.record(z.string().min(1), z.string().min(1));

/**
 * The registry's models. A model folder that cannot be read here (models may live on GPU hosts
 * only) is still listed, without the family and defaults that only its folder can tell.
 */
function loadModels(registryFile: string): LoadedModel[] {
  return Object.entries(readJsonFile(registryFile, registrySchema)).map(([name, location]) => {
    try {
      const folder = readModelFolder(resolveModel(name, registryFile));
      return { name, location, family: folder.family, defaultParams: folder.defaults, problem: null };
    } catch (err) {
      return { name, location, family: null, defaultParams: null, problem: (err as Error).message };
    }
  });
}

async function upsertPrompts(tx: Prisma.TransactionClient, promptSetId: string, prompts: PromptRow[]): Promise<number> {
  let written = 0;
  for (let start = 0; start < prompts.length; start += PROMPT_BATCH) {
    const batch = JSON.stringify(prompts.slice(start, start + PROMPT_BATCH));
    // One statement per batch; the WHERE makes an unchanged prompt a no-op rather than a rewrite.
    written += await tx.$executeRaw`
      INSERT INTO prompts (prompt_set_id, external_id, text, objects, relation, metadata)
      SELECT ${promptSetId}::uuid, r.external_id, r.text, r.objects, r.relation, r.metadata
      FROM jsonb_to_recordset(${batch}::jsonb) AS r(external_id int, text text, objects text[], relation text, metadata jsonb)
      ON CONFLICT (prompt_set_id, external_id) DO UPDATE
        SET text = EXCLUDED.text, objects = EXCLUDED.objects, relation = EXCLUDED.relation, metadata = EXCLUDED.metadata
        WHERE (prompts.text, prompts.objects, prompts.relation, prompts.metadata)
          IS DISTINCT FROM (EXCLUDED.text, EXCLUDED.objects, EXCLUDED.relation, EXCLUDED.metadata)`;
  }
  return written;
}

export interface SeedOptions {
  /** models/registry.json by default. */
  registryFile?: string;
}

export async function seed(prisma: PrismaClient, options: SeedOptions = {}): Promise<SeedSummary> {
  const sets = loadSets();
  const models = loadModels(options.registryFile ?? REGISTRY_FILE);
  const methodSchemas = registeredMethods().map((method) => ({ name: method.name, ...methodRowFields(method) }));

  return prisma.$transaction(
    async (tx) => {
      const summary: SeedSummary = { benchmarks: 0, metrics: 0, promptSets: [], models: [], methods: 0, warnings: [] };
      const benchmarkIds = new Map<string, string>();
      for (const spec of BENCHMARKS) {
        const { scoring, primary, metrics } = BENCHMARK_METRICS[spec.name];
        const fields = { scoring, defaultThreshold: DEFAULT_THRESHOLDS[spec.name], defaultImagesPerPrompt: spec.imagesPerPrompt };
        const benchmark = await tx.benchmark.upsert({
          where: { name: spec.name },
          create: { name: spec.name, ...fields },
          update: fields,
          select: { id: true },
        });
        benchmarkIds.set(spec.name, benchmark.id);
        summary.benchmarks++;
        for (const [ordinal, { minImagesPerPrompt, ...metric }] of metrics.entries()) {
          const data = { ...metric, ordinal, primary: metric.key === primary, minImagesPerPrompt: minImagesPerPrompt ?? null };
          await tx.metricDefinition.upsert({
            where: { benchmarkId_key: { benchmarkId: benchmark.id, key: metric.key } },
            create: { benchmarkId: benchmark.id, ...data },
            update: data,
          });
          summary.metrics++;
        }
      }

      for (const set of sets) {
        const benchmarkId = benchmarkIds.get(set.benchmark)!;
        const row = await tx.promptSet.upsert({
          where: { benchmarkId_name: { benchmarkId, name: set.name } },
          create: { benchmarkId, name: set.name, source: set.source },
          update: { source: set.source },
          select: { id: true },
        });
        const written = await upsertPrompts(tx, row.id, set.prompts);
        summary.promptSets.push({ benchmark: set.benchmark, name: set.name, prompts: set.prompts.length, written });
        // Prompts are never deleted here: runs may reference them.
        const stored = await tx.prompt.count({ where: { promptSetId: row.id } });
        if (stored > set.prompts.length) {
          summary.warnings.push(`prompt set ${set.benchmark}/${set.name} holds ${stored - set.prompts.length} prompt(s) that ${set.source} no longer has`);
        }
      }

      for (const model of models) {
        const fields = {
          location: model.location,
          family: model.family,
          defaultParams: (model.defaultParams as Prisma.InputJsonObject | null) ?? Prisma.DbNull,
        };
        await tx.model.upsert({ where: { name: model.name }, create: { name: model.name, ...fields }, update: fields });
        summary.models.push({ name: model.name, family: model.family, problem: model.problem });
        if (model.problem) summary.warnings.push(`model ${model.name}: stored without family and defaults (${model.problem})`);
      }

      for (const method of methodSchemas) {
        const fields = { description: method.description, paramSchema: method.paramSchema };
        await tx.method.upsert({ where: { name: method.name }, create: { name: method.name, ...fields }, update: fields });
        summary.methods++;
      }
      return summary;
    },
    // The VISOR set alone is 31,680 prompts; the default 5 s interactive-transaction limit is for requests.
    { timeout: 120_000, maxWait: 10_000 },
  );
}
