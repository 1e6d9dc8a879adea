/**
 * How STORM reads the relation: by substring tests on the prompt's text (pipeline.py:511-514), not
 * by its words, so "laptop" and "stop sign" contain "top" and are vertical; and the direction word
 * is otherwise ignored (ST:518-535, 583-592): the first object is always the one sent left / up, so
 * "right of" is guided as "left of" and "below" as "above". The refinement gate reads the centroid
 * gap along x when "left" or "right" is in the prompt, along y otherwise (ST:793). Reproduced as the
 * reference computes it (docs/method.md §6.5).
 */

export interface StormRelation {
  /** "top", "above" or "below" is in the text: vertical costs and targets (checked first) */
  vertical: boolean;
  /** "left" or "right" is in the text: horizontal costs and targets */
  horizontal: boolean;
  /** "side", "next" or "near" is in the text: each object is transported to the other's map, not to a disc */
  objectRelation: boolean;
  /** which coordinate of the gate the refinement reads: 0 (x) when "left" or "right" is in the text, else 1 (y) */
  gateAxis: 0 | 1;
}

const VERTICAL = ['top', 'above', 'below'];
const HORIZONTAL = ['left', 'right'];
const OBJECT_RELATION = ['side', 'next', 'near'];
const contains = (text: string, words: readonly string[]) => words.some((w) => text.includes(w));

/** The relation STORM finds in the text, or why it finds none (a prompt it guides only with its default costs, which the arena refuses). */
export function stormRelation(text: string): StormRelation | { problem: string } {
  const vertical = contains(text, VERTICAL);
  const horizontal = contains(text, HORIZONTAL);
  const objectRelation = contains(text, OBJECT_RELATION);
  if (!vertical && !horizontal && !objectRelation) {
    return {
      problem: `STORM reads the relation from the prompt's text (one of ${[...VERTICAL, ...HORIZONTAL, ...OBJECT_RELATION].map((w) => `"${w}"`).join(', ')}, as substrings) and finds none in "${text}"`,
    };
  }
  return { vertical, horizontal, objectRelation, gateAxis: contains(text, HORIZONTAL) ? 0 : 1 };
}
