import { z } from 'zod';
import { readJsonFile, readTextFile } from '../util/read-data-file.ts';
import type { PromptRecord, Relation } from './types.ts';

/**
 * The localities T2I-CompBench's spatial_eval.py looks for, in its order, with what each one means
 * to its `determine_position`. The first phrase a prompt CONTAINS (a plain substring: "linear"
 * contains "near") is the prompt's locality. `on top of` is on the list but `determine_position`
 * has no branch for it, so it places nothing (relation null, position 0). docs/benchmarks.md §2.
 */
const T2I_LOCALITIES: ReadonlyArray<readonly [phrase: string, relation: Relation | null]> = [
  ['on side of', 'near'],
  ['next to', 'near'],
  ['near', 'near'],
  ['on the left of', 'left of'],
  ['on the right of', 'right of'],
  ['on the bottom of', 'below'],
  ['on the top of', 'above'],
  ['on top of', null],
];

/** A record of the JSON form; the text form is parsed into the same shape. `objects` are words of `prompt`. */
export const t2iRecordSchema = z.object({
  prompt: z.string().min(1),
  objects: z.tuple([z.string().min(1), z.string().min(1)]),
});
export type T2IRecord = z.infer<typeof t2iRecordSchema>;
export type T2IPrompt = PromptRecord<T2IRecord>;

/** The locality the official scorer finds in a prompt (the first listed phrase it contains), or null when it finds none. */
export function t2iLocality(text: string): { phrase: string; relation: Relation | null } | null {
  const found = T2I_LOCALITIES.find(([phrase]) => text.includes(phrase));
  return found ? { phrase: found[0], relation: found[1] } : null;
}

/**
 * The scorer's view of a record. `objects` stay the prompt's own words (generation finds them among
 * the prompt's tokens; the scorer maps girl/boy/man/woman to its detector class itself). `relation`
 * is the official locality's meaning; null where the official scorer gives position 0.
 */
export function toT2IPrompt(record: T2IRecord, id: number): T2IPrompt {
  return { id, text: record.prompt, objects: [...record.objects], relation: t2iLocality(record.prompt)?.relation ?? null, raw: record };
}

const ARTICLED = /^an? (.+)$/;

/**
 * Splits "a giraffe next to a lamp" into its two objects at a locality phrase standing as whole
 * words (the first listed one found); null when the line does not read that way.
 */
function parsePromptText(text: string): T2IRecord | null {
  const phrase = T2I_LOCALITIES.map(([p]) => p).find((p) => text.includes(` ${p} `));
  if (phrase === undefined) return null;
  const at = text.indexOf(` ${phrase} `);
  const subject = ARTICLED.exec(text.slice(0, at))?.[1];
  const reference = ARTICLED.exec(text.slice(at + phrase.length + 2))?.[1];
  return subject && reference ? { prompt: text, objects: [subject, reference] } : null;
}

/** Reads `spatial_val.txt`-style files: one prompt "a X <locality> a Y" a line, id = 0-based line index. */
export function readT2IPromptText(path: string): T2IPrompt[] {
  const lines = readTextFile(path)
    .split('\n')
    .map((line) => line.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line, index) => {
    const record = parsePromptText(line.trim());
    if (!record) {
      const phrases = T2I_LOCALITIES.map(([phrase]) => `"${phrase}"`).join(', ');
      throw new Error(
        `${path}:${index + 1}: cannot read "${line}" as "a X <relation> a Y" with a relation among ${phrases} (use the JSON form with explicit objects for other wordings)`,
      );
    }
    return toT2IPrompt(record, index);
  });
}

/** The JSON form: an array of {prompt, objects}, each object a run of whole words of its prompt. */
const t2iJsonSchema = z.array(
  t2iRecordSchema.superRefine((record, ctx) => {
    record.objects.forEach((object, k) => {
      if (!` ${record.prompt} `.includes(` ${object} `))
        ctx.addIssue({ code: 'custom', path: ['objects', k], message: `'${object}' is not a word of the prompt "${record.prompt}"` });
    });
  }),
);

/** Reads JSON files of {prompt, objects} records (for wordings the text form cannot split), id = 0-based index. */
export function readT2IPromptJson(path: string): T2IPrompt[] {
  return readJsonFile(path, t2iJsonSchema).map(toT2IPrompt);
}

/** Reads either form, chosen by the file extension. */
export function readT2IPrompts(path: string): T2IPrompt[] {
  return path.endsWith('.json') ? readT2IPromptJson(path) : readT2IPromptText(path);
}
