import { join } from 'node:path';
import { BYTE_TO_UNICODE, END_OF_WORD, type MergeRule } from '../../src/text/clip-bpe.ts';

/** CLIP's real tokenizer in Hugging Face's layout, derived from OpenAI's merges (models/clip-tokenizer/SOURCE). */
export const CLIP_TOKENIZER_DIR = join(import.meta.dirname, '../../../models/clip-tokenizer');

/**
 * A vocabulary built the way CLIP's is: every byte character alone and with the end-of-word marker,
 * then one token per merge, then the start and end tokens. `drop` leaves symbols out, to test
 * pieces the vocabulary lacks.
 */
export function clipStyleVocabulary(merges: readonly MergeRule[], drop: readonly string[] = []): Record<string, number> {
  const symbols = [
    ...BYTE_TO_UNICODE,
    ...BYTE_TO_UNICODE.map((c) => c + END_OF_WORD),
    ...merges.map(([left, right]) => left + right),
    '<|startoftext|>',
    '<|endoftext|>',
  ];
  const kept = symbols.filter((symbol) => !drop.includes(symbol));
  return Object.fromEntries(kept.map((symbol, id) => [symbol, id]));
}

/** A handful of merges, in rank order, worked through by hand in the tests. */
export const TEST_MERGES: MergeRule[] = [
  ['l', 'o'],
  ['lo', 'w</w>'],
  ['e', 'r</w>'],
  ['lo', 'w'],
  ['n', 'e'],
  ['ne', 'w</w>'],
  ['c', 'a'],
  ['ca', 't</w>'],
  ['d', 'o'],
  ['do', 'g</w>'],
];
