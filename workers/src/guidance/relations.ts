/**
 * Relation phrases as InfSplign reads them (METHOD.md §2.4). Unlike T2I-CompBench's scorer, which
 * ignores "on top of" (a reference quirk kept there), guidance reads it as above.
 */
import type { Relation } from '../prompts/types.ts';

/** The order of the relation one-hot vector the loss graph takes. */
export const RELATIONS: readonly Relation[] = ['left of', 'right of', 'above', 'below', 'near'];

const PHRASES: ReadonlyArray<[RegExp, Relation]> = [
  [/^(to the |on the )?left of$/, 'left of'],
  [/^(to the |on the )?right of$/, 'right of'],
  [/^(above|on (the )?top of)$/, 'above'],
  [/^(below|on (the )?bottom of)$/, 'below'],
  [/^(near|next to|on side of)$/, 'near'],
];

/** The relation a phrase names, or undefined. "and" (VISOR's rel_type) names none. */
export function relationOfPhrase(phrase: string): Relation | undefined {
  const p = phrase.trim().toLowerCase().replace(/\s+/g, ' ');
  return PHRASES.find(([pattern]) => pattern.test(p))?.[1];
}

/** The one-hot row for a relation; all zeros (no spatial term) for none. */
export function relationOneHot(relation: Relation | null): number[] {
  return RELATIONS.map((r) => (r === relation ? 1 : 0));
}

const TEXT_PHRASES = ['to the left of', 'on the left of', 'left of', 'to the right of', 'on the right of', 'right of', 'on the top of', 'on top of', 'above', 'on the bottom of', 'on bottom of', 'below', 'next to', 'on side of', 'near'];

/** The first relation phrase (longest wording first) found in a prompt's text, for prompts whose benchmark record names none. */
export function findRelationInText(text: string): Relation | null {
  const padded = ` ${text.toLowerCase().replace(/[^a-z]+/g, ' ')} `;
  const phrase = TEXT_PHRASES.find((p) => padded.includes(` ${p} `));
  return phrase ? relationOfPhrase(phrase)! : null;
}
