import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile } from '../util/read-data-file.ts';
import { loadClipBpeTokenizer } from './clip-bpe.ts';
import { loadWordLevelTokenizer } from './word-level.ts';

/** One word of the input (as the tokenizer split it, normalised) and where its tokens ended up. */
export interface TokenizedWord {
  text: string;
  /** indices into `Encoding.ids`; fewer than the word's tokens (or none) when truncation cut it */
  positions: number[];
}

export interface Encoding {
  /** start token, the text's tokens, end token, then padding when a length was asked for */
  ids: number[];
  /** 1 for the start, text and end tokens, 0 for padding */
  attentionMask: number[];
  words: TokenizedWord[];
  /** true when some of the text's tokens did not fit */
  truncated: boolean;
}

export interface EncodeOptions {
  /** pad (with the pad token) or truncate to exactly this many tokens; without it, only truncate to model_max_length */
  length?: number;
}

export interface SpecialTokenIds {
  start: number;
  end: number;
  pad: number;
  unknown: number;
}

export interface Tokenizer {
  readonly type: 'clip-bpe' | 'word-level';
  /** the longest sequence the text encoder accepts, start and end tokens included */
  readonly modelMaxLength: number;
  readonly specialIds: SpecialTokenIds;
  /** The text normalised and split into words exactly as `encode` splits it. */
  words(text: string): string[];
  encode(text: string, options?: EncodeOptions): Encoding;
}

// Hugging Face writes special tokens either as plain strings or as AddedToken objects.
const specialTokenSchema = z
  .union([z.string().min(1), z.looseObject({ content: z.string().min(1) })])
  .nullish()
  .transform((token) => (token == null ? undefined : typeof token === 'string' ? token : token.content));

const TOKENIZER_CLASSES = {
  CLIPTokenizer: 'clip-bpe',
  CLIPTokenizerFast: 'clip-bpe',
  WordLevelTokenizer: 'word-level',
} as const;

const tokenizerConfigSchema = z.looseObject({
  tokenizer_class: z.enum(Object.keys(TOKENIZER_CLASSES) as [keyof typeof TOKENIZER_CLASSES, ...(keyof typeof TOKENIZER_CLASSES)[]]),
  model_max_length: z.number().int().min(2).optional(),
  do_lower_case: z.boolean().optional(),
  bos_token: specialTokenSchema,
  eos_token: specialTokenSchema,
  pad_token: specialTokenSchema,
  unk_token: specialTokenSchema,
});

/** `tokenizer_config.json`, validated; special tokens are plain strings, absent when not named. */
export type TokenizerConfig = z.output<typeof tokenizerConfigSchema>;

const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/**
 * Loads the tokenizer of a diffusers-style folder (`tokenizer/`): `tokenizer_config.json` names the
 * class (CLIPTokenizer / CLIPTokenizerFast: byte-level BPE from vocab.json + merges.txt;
 * WordLevelTokenizer: the bundled model's vocab.json), the special tokens and model_max_length.
 */
export function loadTokenizer(dir: string): Tokenizer {
  const configPath = join(dir, TOKENIZER_CONFIG_FILE);
  if (!existsSync(configPath)) throw new Error(`${dir}: no ${TOKENIZER_CONFIG_FILE}; a tokenizer folder needs one naming its tokenizer_class`);
  const config = readJsonFile(configPath, tokenizerConfigSchema);
  switch (TOKENIZER_CLASSES[config.tokenizer_class]) {
    case 'clip-bpe':
      return loadClipBpeTokenizer(dir, config);
    case 'word-level':
      return loadWordLevelTokenizer(dir, config);
  }
}

/**
 * The token positions of the first occurrence of `phrase` (one or more words, e.g. an object name
 * such as "hair drier") in an encoded text: the positions of all its words, in order.
 */
export function phrasePositions(tokenizer: Tokenizer, encoding: Encoding, phrase: string): number[] {
  const target = tokenizer.words(phrase);
  if (target.length === 0) throw new Error(`phrase '${phrase}' has no words`);
  const { words } = encoding;
  for (let start = 0; start + target.length <= words.length; start++) {
    if (!target.every((word, k) => words[start + k].text === word)) continue;
    const positions = words.slice(start, start + target.length).flatMap((w) => w.positions);
    if (positions.length === 0) throw new Error(`'${phrase}' was cut off by truncation`);
    return positions;
  }
  throw new Error(`'${phrase}' is not among the words of the text (${words.map((w) => w.text).join(' ')})`);
}
