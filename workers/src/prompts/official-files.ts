import { join, resolve } from 'node:path';

/**
 * The official benchmark files (read-only, next to the repository; never copied into it).
 * Resolved from this file's location so that tests and the CLI agree whatever the working directory.
 */
export const OFFICIAL_BENCHMARKS_DIR = resolve(import.meta.dirname, '../../../../shared/benchmarks');

export const OFFICIAL_FILES = {
  cocoObjectNames: join(OFFICIAL_BENCHMARKS_DIR, 'geneval/object_names.txt'),
  genevalMetadata: join(OFFICIAL_BENCHMARKS_DIR, 'geneval/evaluation_metadata.jsonl'),
  t2iSpatialVal: join(OFFICIAL_BENCHMARKS_DIR, 't2i-compbench/spatial_val.txt'),
  t2iPromptsJson: join(OFFICIAL_BENCHMARKS_DIR, 'infsplign/t2i_prompts.json'),
} as const;
