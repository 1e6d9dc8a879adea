/**
 * A run's prompts as the scorers see them, rebuilt from the database's prompt rows: each row keeps the
 * benchmark's own record (`metadata`), which goes through the same record schema and `to*Prompt`
 * mapping as the CLI's prompt loaders, so the API scores with exactly the prompts `infsplign score`
 * would read from the file.
 */
import { scoreImages } from '@infsplign/workers/evaluation/score.ts';
import type { PromptSet } from '@infsplign/workers/prompts/load.ts';
import { genevalMetadataSchema, toGenEvalPrompt } from '@infsplign/workers/prompts/geneval.ts';
import { t2iRecordSchema, toT2IPrompt } from '@infsplign/workers/prompts/t2i-compbench.ts';
import type { BenchmarkName } from '@infsplign/workers/prompts/types.ts';
import { toVisorPrompt, visorRecordSchema } from '@infsplign/workers/prompts/visor.ts';
import { describeZodError } from '@infsplign/workers/util/read-data-file.ts';
import type { z } from 'zod';

export interface PromptRow {
  externalId: number;
  metadata: unknown;
}

function parseRecord<S extends z.ZodType>(schema: S, row: PromptRow, benchmark: string): z.output<S> {
  const result = schema.safeParse(row.metadata);
  if (!result.success) throw new Error(`prompt ${row.externalId} of ${benchmark}: its stored record is not a ${benchmark} record (${describeZodError(result.error)})`);
  return result.data;
}

/** The prompt set of `benchmark` made of `rows` (in any order). */
export function promptSetFromRows(benchmark: BenchmarkName, rows: readonly PromptRow[]): PromptSet {
  switch (benchmark) {
    case 'visor':
    case 'visor-shapes':
      return { scoring: 'visor', prompts: rows.map((row) => toVisorPrompt(parseRecord(visorRecordSchema, row, benchmark))) };
    case 't2i':
      return { scoring: 't2i', prompts: rows.map((row) => toT2IPrompt(parseRecord(t2iRecordSchema, row, benchmark), row.externalId)) };
    case 'geneval':
      return { scoring: 'geneval', prompts: rows.map((row) => toGenEvalPrompt(parseRecord(genevalMetadataSchema, row, benchmark), row.externalId)) };
  }
}

/**
 * The ids of the prompts whose images the benchmark scores. VISOR leaves out prompts that state no
 * relation and GenEval the tags it cannot judge; a run neither generates nor evaluates those, so that
 * every image of a run gets a score row and "all images scored" is a count. The scorer itself is asked
 * (one imageless probe per prompt) rather than its rules being restated here.
 */
export function scoredPromptIds(benchmark: BenchmarkName, set: PromptSet): Set<number> {
  const probe = set.prompts.map((p) => ({ prompt: p.id, image: 0, width: 1, height: 1, detections: [] }));
  const result = scoreImages(benchmark, set, probe, { bootstrap: { resamples: 1 } });
  return new Set(result.images.map((image) => image.prompt));
}
