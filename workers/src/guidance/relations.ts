/**
 * Relation phrases as InfSplign's reference reads them (docs/method.md §2.4). The reference
 * knows a fixed list of phrasings; "on top of" and "on bottom of" (without "the") are not among them,
 * so a prompt using them gets no spatial term there, and none here: the default reproduces the
 * reference, quirks included.
 */
import type { Relation } from '../prompts/types.ts';

/** The order of the relation one-hot vector the loss graph takes. */
export const RELATIONS: readonly Relation[] = ['left of', 'right of', 'above', 'below', 'near'];

/** Relations whose Delta compares x; the others (above, below) compare y (loss_num 2 and 3 add the other axis). */
export const HORIZONTAL_RELATIONS: ReadonlySet<Relation> = new Set(['left of', 'right of', 'near']);

/** Every phrasing the reference's spatial loss names, with its meaning. */
const SPATIAL_PHRASES: ReadonlyArray<readonly [phrase: string, relation: Relation]> = [
  ['to the left of', 'left of'],
  ['on the left of', 'left of'],
  ['left of', 'left of'],
  ['to the right of', 'right of'],
  ['on the right of', 'right of'],
  ['right of', 'right of'],
  ['above', 'above'],
  ['on the top of', 'above'],
  ['below', 'below'],
  ['on the bottom of', 'below'],
  ['near', 'near'],
  ['next to', 'near'],
  ['on side of', 'near'],
];

/** Phrasings that are understood and get no spatial term: VISOR's "and", and the reference's unlisted "on top of" / "on bottom of". */
const NO_SPATIAL_TERM = new Set(['and', 'on top of', 'on bottom of']);

function normalise(phrase: string): string {
  return phrase.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** The relation a phrase names; null for a phrase known to carry no spatial term; undefined for an unknown phrase. */
export function relationOfPhrase(phrase: string): Relation | null | undefined {
  const p = normalise(phrase);
  if (NO_SPATIAL_TERM.has(p)) return null;
  return SPATIAL_PHRASES.find(([known]) => known === p)?.[1];
}

/** The one-hot row for a relation; all zeros (no spatial term) for none. */
export function relationOneHot(relation: Relation | null): number[] {
  return RELATIONS.map((r) => (r === relation ? 1 : 0));
}

/** Longest wording first, so "to the left of" wins over "left of". */
const TEXT_PHRASES = [...SPATIAL_PHRASES.map(([phrase]) => phrase)].sort((a, b) => b.length - a.length);

/**
 * The relation of a prompt whose benchmark record names none, read from its text: the longest listed
 * phrasing it contains as whole words, or null (so "on top of", which the reference does not list,
 * gives no spatial term).
 */
export function findRelationInText(text: string): Relation | null {
  const padded = ` ${text.toLowerCase().replace(/[^a-z]+/g, ' ')} `;
  const phrase = TEXT_PHRASES.find((p) => padded.includes(` ${p} `));
  return phrase ? relationOfPhrase(phrase)! : null;
}
