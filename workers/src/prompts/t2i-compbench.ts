import { z } from 'zod';
import { readJsonFile, readTextFile } from '../util/read-data-file.ts';
import type { PromptRecord, Relation } from './types.ts';

/**
 * The relation phrases the T2I-CompBench reference scores, in the order it searches a prompt for them
 * (the first one found wins), with their normalised meaning.
 */
const T2I_RELATIONS: ReadonlyArray<readonly [phrase: string, relation: Relation]> = [
  ['on side of', 'near'],
  ['next to', 'near'],
  ['near', 'near'],
  ['on the left of', 'left of'],
  ['on the right of', 'right of'],
  ['on the bottom of', 'below'],
  ['on the top of', 'above'],
];

/** The reference detects people with UniDet's "person" class. */
const PERSON_WORDS = new Set(['girl', 'boy', 'man', 'woman']);

/** Maps a person word to "person", as the benchmark does for prompt objects (and, here, detector labels). */
export function t2iClassName(name: string): string {
  return PERSON_WORDS.has(name) ? 'person' : name;
}

/** A record of the JSON form (`t2i_prompts.json`); the text form is parsed into the same shape. */
export const t2iRecordSchema = z.object({
  prompt: z.string().min(1),
  objects: z.tuple([z.string().min(1), z.string().min(1)]),
});
export type T2IRecord = z.infer<typeof t2iRecordSchema>;
export type T2IPrompt = PromptRecord<T2IRecord>;

/** The relation phrase the reference would find in a prompt (first listed one it contains), or null. */
export function findT2IRelation(text: string): { phrase: string; relation: Relation } | null {
  const padded = ` ${text} `;
  for (const [phrase, relation] of T2I_RELATIONS) {
    if (padded.includes(` ${phrase} `)) return { phrase, relation };
  }
  return null;
}

/**
 * The scorer's view of a record. Objects are mapped to the detector's class names; a relation the
 * reference does not list (e.g. "on top of") gives `relation: null`, which scores position 0, as there.
 */
export function toT2IPrompt(record: T2IRecord, id: number): T2IPrompt {
  return {
    id,
    text: record.prompt,
    objects: record.objects.map(t2iClassName),
    relation: findT2IRelation(record.prompt)?.relation ?? null,
    raw: record,
  };
}

const ARTICLED = /^an? (.+)$/;

/** Splits "a giraffe next to a lamp" into its two objects; null when the line does not read that way. */
function parsePromptText(text: string): T2IRecord | null {
  const found = findT2IRelation(text);
  if (!found) return null;
  const at = text.indexOf(` ${found.phrase} `);
  const subject = ARTICLED.exec(text.slice(0, at))?.[1];
  const reference = ARTICLED.exec(text.slice(at + found.phrase.length + 2))?.[1];
  return subject && reference ? { prompt: text, objects: [subject, reference] } : null;
}

/** Reads `spatial_val.txt`-style files: one prompt a line, id = 0-based line index. */
export function readT2IPromptText(path: string): T2IPrompt[] {
  const lines = readTextFile(path).split('\n').map((line) => line.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line, index) => {
    const record = parsePromptText(line.trim());
    if (!record) {
      const phrases = T2I_RELATIONS.map(([phrase]) => `"${phrase}"`).join(', ');
      throw new Error(`${path}:${index + 1}: cannot read "${line}" as "a X <relation> a Y" with a relation among ${phrases} (use the JSON form with explicit objects for other wordings)`);
    }
    return toT2IPrompt(record, index);
  });
}

/** Reads `t2i_prompts.json`-style files: an array of {prompt, objects}, id = 0-based index. */
export function readT2IPromptJson(path: string): T2IPrompt[] {
  return readJsonFile(path, z.array(t2iRecordSchema)).map(toT2IPrompt);
}

/** Reads either form, chosen by the file extension. */
export function readT2IPrompts(path: string): T2IPrompt[] {
  return path.endsWith('.json') ? readT2IPromptJson(path) : readT2IPromptText(path);
}
