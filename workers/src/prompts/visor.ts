import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { OFFICIAL_FILES } from './official-files.ts';
import type { PromptRecord, Relation } from './types.ts';

/** VISOR's relation phrases, in the order the official generator emits them. */
export const VISOR_RELATIONS = ['to the left of', 'to the right of', 'above', 'below'] as const;
type VisorRelation = (typeof VISOR_RELATIONS)[number];

const RELATION_OF: Record<VisorRelation, Relation> = {
  'to the left of': 'left of',
  'to the right of': 'right of',
  above: 'above',
  below: 'below',
};

/**
 * One SR2D record: exactly the six official keys (a strict object, so a stray key is an error).
 * Single-object records carry `[null]` as their second object, as the official file does.
 */
export const visorRecordSchema = z
  .strictObject({
    unique_id: z.number().int().nonnegative(),
    num_objects: z.union([z.literal(1), z.literal(2)]),
    obj_1_attributes: z.tuple([z.string().min(1)]),
    obj_2_attributes: z.tuple([z.string().min(1).nullable()]),
    rel_type: z.enum([...VISOR_RELATIONS, 'and', 'single']),
    text: z.string().min(1),
  })
  .refine((r) => (r.rel_type === 'single') === (r.num_objects === 1) && (r.num_objects === 1) === (r.obj_2_attributes[0] === null), {
    message: 'single-object records need num_objects 1 and obj_2_attributes [null]; two-object records need num_objects 2 and a second name',
  });

export type VisorRecord = z.infer<typeof visorRecordSchema>;
export type VisorPrompt = PromptRecord<VisorRecord>;

/** VISOR's short names for three COCO classes that GenEval's object_names.txt spells out. */
const VISOR_RENAMES: Record<string, string> = {
  'computer mouse': 'mouse',
  'tv remote': 'remote',
  'computer keyboard': 'keyboard',
};

/** The 80 COCO class names in COCO order as VISOR spells them, derived from GenEval's list. */
export function visorClassNames(objectNamesFile: string = OFFICIAL_FILES.cocoObjectNames): string[] {
  const names = readFileSync(objectNamesFile, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  for (const original of Object.keys(VISOR_RENAMES)) {
    if (!names.includes(original)) throw new Error(`${objectNamesFile}: expected a line '${original}' (VISOR renames it)`);
  }
  return names.map((name) => VISOR_RENAMES[name] ?? name);
}

/** "an umbrella", "a hair drier": the article rule of docs/benchmarks.md §1 (vowel letter, not sound). */
export function withArticle(name: string): string {
  return /^[aeiou]/i.test(name) ? `an ${name}` : `a ${name}`;
}

/**
 * The SR2D prompt set over any class list, in the official emission order (docs/benchmarks.md §1): for
 * every unordered pair, each relation both ways, then "and" both ways; then one single-object
 * prompt per class. Keys are created in the official order so that serialising gives the official layout.
 */
export function generateVisorPrompts(classNames: string[]): VisorRecord[] {
  const records: VisorRecord[] = [];
  const emit = (numObjects: 1 | 2, first: string, second: string | null, relType: VisorRecord['rel_type'], text: string) => {
    records.push({
      unique_id: records.length,
      num_objects: numObjects,
      obj_1_attributes: [first],
      obj_2_attributes: [second],
      rel_type: relType,
      text,
    });
  };
  for (let i = 0; i < classNames.length; i++) {
    for (let j = i + 1; j < classNames.length; j++) {
      const [s1, s2] = [classNames[i], classNames[j]];
      for (const relation of VISOR_RELATIONS) {
        emit(2, s1, s2, relation, `${withArticle(s1)} ${relation} ${withArticle(s2)}`);
        emit(2, s2, s1, relation, `${withArticle(s2)} ${relation} ${withArticle(s1)}`);
      }
      emit(2, s1, s2, 'and', `${withArticle(s1)} and ${withArticle(s2)}`);
      emit(2, s2, s1, 'and', `${withArticle(s2)} and ${withArticle(s1)}`);
    }
  }
  for (const name of classNames) emit(1, name, null, 'single', withArticle(name));
  return records;
}

/** Serialises records the way the official JSON files are laid out (Python's json.dump, indent 4, no final newline). */
export function formatVisorPrompts(records: VisorRecord[]): string {
  return JSON.stringify(records, null, 4);
}

/** The scorer's view of a VISOR record: "and" and single-object prompts state no relation to score. */
export function toVisorPrompt(record: VisorRecord): VisorPrompt {
  const second = record.obj_2_attributes[0];
  const isSpatial = record.rel_type !== 'and' && record.rel_type !== 'single';
  return {
    id: record.unique_id,
    text: record.text,
    objects: second === null ? [record.obj_1_attributes[0]] : [record.obj_1_attributes[0], second],
    relation: isSpatial ? RELATION_OF[record.rel_type as VisorRelation] : null,
    raw: record,
  };
}
