/**
 * Which token positions stand for each object of a prompt (docs/method.md §2.2), and the weights that
 * average their attention maps. Object 1 is the subject, object 2 the reference.
 */
import { phrasePositions, type Encoding, type Tokenizer } from '../text/tokenizer.ts';

export type ObjectTokens = 'last_word' | 'whole_phrase';
export type TokenAlignment = 'correct' | 'reference';

export class ObjectNotFoundError extends Error {}

/** The words that stand for an object: its last word (the reference's choice for VISOR and GenEval) or all of them. */
function objectWords(tokenizer: Tokenizer, name: string, mode: ObjectTokens): string[] {
  const words = tokenizer.words(name);
  if (words.length === 0) throw new ObjectNotFoundError(`object '${name}' has no words`);
  return mode === 'last_word' ? [words[words.length - 1]!] : words;
}

/** Token positions per object. `correct`: each object's own occurrence, the reference one after the subject's. */
function correctSpans(tokenizer: Tokenizer, encoding: Encoding, objects: readonly string[], mode: ObjectTokens): number[][] {
  const spans: number[][] = [];
  let after = -1;
  for (const name of objects) {
    const phrase = objectWords(tokenizer, name, mode).join(' ');
    const rest: Encoding = { ...encoding, words: encoding.words.map((w, k) => (k > after ? w : { ...w, text: '' })) };
    let positions: number[];
    try {
      positions = phrasePositions(tokenizer, rest, phrase);
    } catch {
      try {
        // The reference object may come first in the text ("... to the right of which stands X").
        positions = phrasePositions(tokenizer, encoding, phrase);
      } catch (err) {
        throw new ObjectNotFoundError(`object '${name}' not found in the prompt: ${(err as Error).message}`);
      }
    }
    spans.push(positions);
    after = encoding.words.findIndex((w) => w.positions.includes(positions[positions.length - 1]!));
  }
  return spans;
}

/**
 * The reference implementation's behaviour, kept as an option: the positions of every occurrence
 * of every object word are concatenated, then handed out per object by word count, so a word
 * split into two tokens gives its second token to the next object and a repeated word is counted twice.
 */
function referenceSpans(tokenizer: Tokenizer, encoding: Encoding, objects: readonly string[], mode: ObjectTokens): number[][] {
  const perObject = objects.map((name) => objectWords(tokenizer, name, mode));
  const all = perObject.flat().flatMap((word) => encoding.words.filter((w) => w.text === word).flatMap((w) => w.positions));
  const spans: number[][] = [];
  let next = 0;
  for (const [k, words] of perObject.entries()) {
    const span = all.slice(next, next + words.length);
    if (span.length === 0) throw new ObjectNotFoundError(`object '${objects[k]}' not found in the prompt`);
    spans.push(span);
    next += words.length;
  }
  return spans;
}

export function objectTokenSpans(
  tokenizer: Tokenizer,
  encoding: Encoding,
  objects: readonly string[],
  mode: ObjectTokens,
  alignment: TokenAlignment,
): number[][] {
  return alignment === 'reference' ? referenceSpans(tokenizer, encoding, objects, mode) : correctSpans(tokenizer, encoding, objects, mode);
}

/** Weights [2][tokens]: 1/n on each of an object's n positions. */
export function tokenWeights(spans: number[][], tokens: number): Float32Array {
  const w = new Float32Array(2 * tokens);
  spans.slice(0, 2).forEach((span, k) => {
    for (const p of span) w[k * tokens + p]! += 1 / span.length;
  });
  return w;
}
