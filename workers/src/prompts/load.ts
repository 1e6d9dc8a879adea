import { z } from 'zod';
import { readJsonFile } from '../util/read-data-file.ts';
import { readGenEvalPrompts, type GenEvalPrompt } from './geneval.ts';
import { readT2IPrompts, type T2IPrompt } from './t2i-compbench.ts';
import { BENCHMARK_NAMES, isBenchmarkName, type BenchmarkName } from './types.ts';
import { generateVisorPrompts, toVisorPrompt, visorClassNames, visorRecordSchema, type VisorPrompt, type VisorRecord } from './visor.ts';

/** A benchmark's prompts, tagged with the rules that score them (`visor-shapes` is scored as `visor`). */
export type PromptSet =
  { scoring: 'visor'; prompts: VisorPrompt[] } | { scoring: 't2i'; prompts: T2IPrompt[] } | { scoring: 'geneval'; prompts: GenEvalPrompt[] };

/** How a file of unique_ids into the generated VISOR set is named (json_files/infsplign/visor_subset_*.ids.json). */
export const VISOR_IDS_SUFFIX = '.ids.json';

/**
 * The records a `.ids.json` file names, in its order: a JSON array of unique_ids into the SR2D set
 * that `generateVisorPrompts` makes from the 80 COCO classes (json_files/visor_prompts.json).
 */
function readVisorIds(path: string): VisorRecord[] {
  const ids = readJsonFile(path, z.array(z.number().int().nonnegative()).min(1));
  const full = generateVisorPrompts(visorClassNames());
  return ids.map((id, index) => {
    // unique_id is the record's position in the generated set
    const record = full[id];
    if (!record) throw new Error(`${path}: [${index}]: unique_id ${id} is not in the VISOR set (0 to ${full.length - 1})`);
    return record;
  });
}

/**
 * Reads a VISOR-format JSON file (the generated set or any subset of it), or a `.ids.json` file of
 * unique_ids into the generated set; unique_ids must be distinct.
 */
export function readVisorPrompts(path: string): VisorPrompt[] {
  const records = path.endsWith(VISOR_IDS_SUFFIX) ? readVisorIds(path) : readJsonFile(path, z.array(visorRecordSchema));
  const prompts = records.map(toVisorPrompt);
  const seen = new Set<number>();
  prompts.forEach((prompt, index) => {
    if (seen.has(prompt.id)) throw new Error(`${path}: [${index}].unique_id: ${prompt.id} appears twice`);
    seen.add(prompt.id);
  });
  return prompts;
}

/**
 * Loads the prompt file of a benchmark, validated:
 * visor / visor-shapes: a VISOR JSON array (visor also a `.ids.json` file of unique_ids); t2i:
 * spatial_val.txt-style text or a JSON array of {prompt, objects}; geneval: evaluation_metadata.jsonl
 * (optionally only one `tag`).
 */
export function loadPrompts(benchmark: string, path: string, options: { tag?: string } = {}): PromptSet {
  if (!isBenchmarkName(benchmark)) throw new Error(`unknown benchmark '${benchmark}' (expected one of ${BENCHMARK_NAMES.join(', ')})`);
  return loadKnownPrompts(benchmark, path, options);
}

function loadKnownPrompts(benchmark: BenchmarkName, path: string, options: { tag?: string }): PromptSet {
  switch (benchmark) {
    case 'visor':
      return { scoring: 'visor', prompts: readVisorPrompts(path) };
    case 'visor-shapes':
      // ids name prompts of the COCO set; the Shapes sets are only ever shipped as records
      if (path.endsWith(VISOR_IDS_SUFFIX))
        throw new Error(
          `${path}: a ${VISOR_IDS_SUFFIX} file names prompts of the COCO VISOR set, not of visor-shapes (give a VISOR-Shapes JSON file such as json_files/visor_shapes_eval.json)`,
        );
      return { scoring: 'visor', prompts: readVisorPrompts(path) };
    case 't2i':
      return { scoring: 't2i', prompts: readT2IPrompts(path) };
    case 'geneval':
      return { scoring: 'geneval', prompts: readGenEvalPrompts(path, options) };
  }
}
