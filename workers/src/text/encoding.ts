import type { EncodeOptions, Encoding, SpecialTokenIds, TokenizedWord } from './tokenizer.ts';

/**
 * The normalisation both tokenizers share, as CLIPTokenizerFast does it: Unicode NFC, runs of
 * whitespace to one space, trimmed, and (optionally) lower-cased. (The slow CLIPTokenizer's ftfy
 * mojibake repair and HTML unescaping are not applied: prompts are plain text.)
 */
export function cleanText(text: string, lowerCase: boolean): string {
  const cleaned = text.normalize('NFC').replace(/\s+/g, ' ').trim();
  return lowerCase ? cleaned.toLowerCase() : cleaned;
}

/** A word with the ids of its tokens. */
export interface WordIds {
  text: string;
  ids: number[];
}

/** How many tokens a sequence gets: exactly `length` when asked, else at most model_max_length. */
function sequenceLimit(options: EncodeOptions, modelMaxLength: number): { limit: number; pad: boolean } {
  if (options.length === undefined) return { limit: modelMaxLength, pad: false };
  const { length } = options;
  if (!Number.isInteger(length) || length < 2) throw new Error(`length must be an integer of at least 2 (start and end tokens), got ${length}`);
  if (length > modelMaxLength) throw new Error(`length ${length} exceeds the tokenizer's model_max_length ${modelMaxLength}`);
  return { limit: length, pad: true };
}

/**
 * Lays out start token, the words' tokens, end token (then padding), as Hugging Face tokenizers do
 * with truncation: the text's tokens are cut so that the end token always fits.
 */
export function assembleEncoding(words: readonly WordIds[], special: SpecialTokenIds, modelMaxLength: number, options: EncodeOptions = {}): Encoding {
  const { limit, pad } = sequenceLimit(options, modelMaxLength);
  const room = limit - 2;
  const ids = [special.start];
  const tokenized: TokenizedWord[] = [];
  let truncated = false;
  for (const word of words) {
    const positions: number[] = [];
    for (const id of word.ids) {
      if (ids.length - 1 >= room) {
        truncated = true;
        break;
      }
      positions.push(ids.length);
      ids.push(id);
    }
    tokenized.push({ text: word.text, positions });
  }
  ids.push(special.end);
  const attentionMask = ids.map(() => 1);
  if (pad) {
    while (ids.length < limit) {
      ids.push(special.pad);
      attentionMask.push(0);
    }
  }
  return { ids, attentionMask, words: tokenized, truncated };
}
