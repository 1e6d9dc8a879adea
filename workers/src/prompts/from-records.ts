/**
 * A benchmark's prompts rebuilt from stored records (the database's prompt rows, a job's prompts):
 * each record goes through the same schema and `to*Prompt` mapping as the prompt-file loaders, so
 * every consumer scores exactly the prompts `infsplign score` would read from the file.
 */
import type { z } from 'zod';
import { describeZodError } from '../util/read-data-file.ts';
import { genevalMetadataSchema, toGenEvalPrompt } from './geneval.ts';
import type { PromptSet } from './load.ts';
import { t2iRecordSchema, toT2IPrompt } from './t2i-compbench.ts';
import type { BenchmarkName } from './types.ts';
import { toVisorPrompt, visorRecordSchema } from './visor.ts';

/** A prompt's benchmark id and its record as the benchmark's file holds it. */
export interface PromptRow {
  externalId: number;
  metadata: unknown;
}

function parseRecord<S extends z.ZodType>(schema: S, row: PromptRow, benchmark: string): z.output<S> {
  const result = schema.safeParse(row.metadata);
  if (!result.success)
    throw new Error(`prompt ${row.externalId} of ${benchmark}: its stored record is not a ${benchmark} record (${describeZodError(result.error)})`);
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
