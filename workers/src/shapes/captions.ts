import { VISOR_RELATIONS, withArticle } from '../prompts/visor.ts';
import type { Random } from '../util/random.ts';
import type { LabelledBox } from './render.ts';

/**
 * The bundled model's training captions: weak spatial supervision on purpose, as web captions
 * have (the paper's premise). A caption names every object of its scene, in random order, and
 * never says where anything is in a way that can be trusted:
 *   - EMPTY_SHARE of captions are empty (the unconditional model of classifier-free guidance);
 *   - one object: "a box";
 *   - two objects: half the time "an apple and a box", otherwise "an apple <relation> a box" with the
 *     relation drawn uniformly from VISOR's four, independently of the layout;
 *   - three objects: "an apple and a box and a tree".
 * So the model learns the objects' names and the relation words, but not what the words mean.
 */
export const EMPTY_SHARE = 0.15;
export const UNTRUSTED_RELATION_SHARE = 0.5;

export function trainingCaption(objects: readonly LabelledBox[], random: Random): string {
  if (random.next() < EMPTY_SHARE) return '';
  const named = random.shuffled(objects.map((o) => withArticle(o.label)));
  if (named.length === 2 && random.next() < UNTRUSTED_RELATION_SHARE) {
    const relation = VISOR_RELATIONS[random.integer(0, VISOR_RELATIONS.length - 1)]!;
    return `${named[0]} ${relation} ${named[1]}`;
  }
  return named.join(' and ');
}

/** Every word a caption or a VISOR-Shapes prompt can contain besides the class names. */
export const CAPTION_WORDS: readonly string[] = ['a', 'an', 'and', 'to', 'the', 'left', 'right', 'of', 'above', 'below'];
