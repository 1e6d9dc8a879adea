/** The benchmarks the project can score; `visor-shapes` is scored by the VISOR rules. */
export const BENCHMARK_NAMES = ['visor', 'visor-shapes', 't2i', 'geneval'] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];

export function isBenchmarkName(name: string): name is BenchmarkName {
  return (BENCHMARK_NAMES as readonly string[]).includes(name);
}

/**
 * A spatial relation, normalised across the benchmarks' wordings ("to the left of", "on the left
 * of" and "left of" are all `left of`). `near` stands for T2I-CompBench's near / next to / on side of.
 */
export const RELATIONS = ['left of', 'right of', 'above', 'below', 'near'] as const;
/** One of RELATIONS, whose order is the scorers' listing order and the guided U-Net's one-hot order. */
export type Relation = (typeof RELATIONS)[number];

/**
 * One prompt as every scorer sees it, whatever file it came from.
 * - `id`: the benchmark's own prompt id (VISOR unique_id; 0-based line/record index otherwise).
 * - `objects`: the object class names, subject first then reference ([A, B]); one name for single-object prompts.
 * - `relation`: how A must stand relative to B, or null when the prompt states no scorable relation
 *   (VISOR "and" and single-object prompts, GenEval non-position tags, T2I relations the reference
 *   does not list).
 * - `raw`: the record exactly as read, for the benchmark-specific parts (GenEval clauses, VISOR rel_type).
 */
export interface PromptRecord<Raw> {
  id: number;
  text: string;
  objects: string[];
  relation: Relation | null;
  raw: Raw;
}
