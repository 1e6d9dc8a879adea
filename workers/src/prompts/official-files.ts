import { join, resolve } from 'node:path';

/**
 * json_files/ at the repository root: the benchmark prompt files the project ships, the official ones
 * with their origin, commit and licence in json_files/SOURCES.md. Resolved from this file's location
 * so that tests, the CLI and the seed agree whatever the working directory.
 */
export const JSON_FILES_DIR = resolve(import.meta.dirname, '../../../json_files');

/** The official files, as their benchmarks publish them (T2I-CompBench, GenEval). */
export const OFFICIAL_FILES = {
  cocoObjectNames: join(JSON_FILES_DIR, 'geneval/object_names.txt'),
  genevalMetadata: join(JSON_FILES_DIR, 'geneval/evaluation_metadata.jsonl'),
  t2iSpatial: join(JSON_FILES_DIR, 't2i-compbench/spatial.txt'),
  t2iSpatialVal: join(JSON_FILES_DIR, 't2i-compbench/spatial_val.txt'),
} as const;

/** The sizes of the InfSplign paper's VISOR subsets, shipped as unique_ids into the generated set. */
export const VISOR_SUBSET_SIZES = [20, 500, 1000, 3160] as const;

export function visorSubsetFile(size: number): string {
  return join(JSON_FILES_DIR, `infsplign/visor_subset_${size}.ids.json`);
}
