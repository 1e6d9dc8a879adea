import { createHash } from 'node:crypto';
import { generateVisorPrompts, type VisorRecord } from '../prompts/visor.ts';
import { classNames, SHAPES_WORLD } from './world.ts';

export interface VisorShapesPromptSets {
  /** Every VISOR-Shapes prompt, in generation order (unique_id 0, 1, 2, ...). */
  all: VisorRecord[];
  /** For choosing a method's parameters: about a third of the object pairs. */
  tune: VisorRecord[];
  /** For reporting results: the other pairs, never looked at while tuning. */
  eval: VisorRecord[];
}

/** The share of object groups that go to the tune set (the rest is the eval set). */
export const TUNE_SHARE = 1 / 3;

/**
 * The VISOR-Shapes prompts: VISOR's SR2D procedure over the Shapes world's class names, split into
 * tune and eval by object group, with records (and unique_ids) exactly as in `all`.
 *
 * The split keeps together every prompt about the same unordered set of objects: both orders, all
 * four relations and "and" of a pair, and each single-object prompt on its own. Otherwise tuning on
 * "an apple to the left of a box" would already have seen "a box to the right of an apple", the same
 * picture, and the eval score would flatter the tuned parameters. Groups are ranked by the SHA-256
 * of their sorted names joined by '|' ("apple|box"), pairs and single objects separately so each kind
 * splits in the same proportion, and the first TUNE_SHARE of each ranking (rounded) is the tune set.
 * The ranking depends only on the names, so the split never changes while the vocabulary does not.
 */
export function visorShapesPromptSets(names: readonly string[] = classNames(SHAPES_WORLD)): VisorShapesPromptSets {
  const all = generateVisorPrompts([...names]);
  const tuneGroups = new Set<string>();
  for (const objectCount of [1, 2]) {
    const groups = [...new Set(all.filter((r) => r.num_objects === objectCount).map(groupKey))];
    const hashes = new Map(groups.map((g) => [g, sha256(g)]));
    // Plain code-unit order, not localeCompare: the split must not depend on the machine's locale.
    const ranked = groups.sort((a, b) => (hashes.get(a)! < hashes.get(b)! ? -1 : 1));
    for (const group of ranked.slice(0, Math.round(groups.length * TUNE_SHARE))) tuneGroups.add(group);
  }
  return {
    all,
    tune: all.filter((r) => tuneGroups.has(groupKey(r))),
    eval: all.filter((r) => !tuneGroups.has(groupKey(r))),
  };
}

/** The record's objects as an unordered set: "apple|box" for both "apple ... box" and "box ... apple". */
function groupKey(record: VisorRecord): string {
  const names = [record.obj_1_attributes[0], record.obj_2_attributes[0]].filter((n): n is string => n !== null);
  return names.sort().join('|');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
