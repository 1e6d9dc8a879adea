import { z } from 'zod';
import { readJsonFile } from '../util/read-data-file.ts';
import { readGenEvalPrompts, type GenEvalPrompt } from './geneval.ts';
import { readT2IPrompts, type T2IPrompt } from './t2i-compbench.ts';
import { BENCHMARK_NAMES, isBenchmarkName, type BenchmarkName } from './types.ts';
import { toVisorPrompt, visorRecordSchema, type VisorPrompt } from './visor.ts';

/** A benchmark's prompts, tagged with the rules that score them (`visor-shapes` is scored as `visor`). */
export type PromptSet =
  | { scoring: 'visor'; prompts: VisorPrompt[] }
  | { scoring: 't2i'; prompts: T2IPrompt[] }
  | { scoring: 'geneval'; prompts: GenEvalPrompt[] };

/** Reads a VISOR-format JSON file (the generated set or any subset of it); unique_ids must be distinct. */
export function readVisorPrompts(path: string): VisorPrompt[] {
  const prompts = readJsonFile(path, z.array(visorRecordSchema)).map(toVisorPrompt);
  const seen = new Set<number>();
  prompts.forEach((prompt, index) => {
    if (seen.has(prompt.id)) throw new Error(`${path}: [${index}].unique_id: ${prompt.id} appears twice`);
    seen.add(prompt.id);
  });
  return prompts;
}

/**
 * Loads the prompt file of a benchmark, validated:
 * visor / visor-shapes: a VISOR JSON array; t2i: spatial_val.txt-style text or a JSON array of
 * {prompt, objects}; geneval: evaluation_metadata.jsonl (optionally only one `tag`).
 */
export function loadPrompts(benchmark: string, path: string, options: { tag?: string } = {}): PromptSet {
  if (!isBenchmarkName(benchmark)) throw new Error(`unknown benchmark '${benchmark}' (expected one of ${BENCHMARK_NAMES.join(', ')})`);
  return loadKnownPrompts(benchmark, path, options);
}

function loadKnownPrompts(benchmark: BenchmarkName, path: string, options: { tag?: string }): PromptSet {
  switch (benchmark) {
    case 'visor':
    case 'visor-shapes':
      return { scoring: 'visor', prompts: readVisorPrompts(path) };
    case 't2i':
      return { scoring: 't2i', prompts: readT2IPrompts(path) };
    case 'geneval':
      return { scoring: 'geneval', prompts: readGenEvalPrompts(path, options) };
  }
}
