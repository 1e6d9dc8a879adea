import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { assembleEncoding, cleanText } from './encoding.ts';
import type { EncodeOptions, Encoding, SpecialTokenIds, Tokenizer, TokenizerConfig } from './tokenizer.ts';
import { readVocabulary, specialTokenIds, type SpecialTokens, type Vocabulary } from './vocabulary.ts';

/** Words are runs of letters and digits; any other visible character stands alone ("cube," -> "cube", ","). */
const WORD_PATTERN = /[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu;

export interface WordLevelOptions {
  vocabulary: Vocabulary;
  specialTokens: SpecialTokens;
  modelMaxLength: number;
  lowerCase?: boolean;
}

/** One token per word, for the bundled model's small closed vocabulary; words outside it become the unknown token. */
export class WordLevelTokenizer implements Tokenizer {
  readonly type = 'word-level';
  readonly modelMaxLength: number;
  readonly specialIds: SpecialTokenIds;
  private readonly vocabulary: Vocabulary;
  private readonly lowerCase: boolean;

  constructor(options: WordLevelOptions) {
    this.vocabulary = options.vocabulary;
    this.specialIds = specialTokenIds(options.vocabulary, options.specialTokens);
    this.modelMaxLength = options.modelMaxLength;
    this.lowerCase = options.lowerCase ?? true;
  }

  words(text: string): string[] {
    return cleanText(text, this.lowerCase).match(WORD_PATTERN) ?? [];
  }

  encode(text: string, options?: EncodeOptions): Encoding {
    const words = this.words(text).map((word) => ({ text: word, ids: [this.vocabulary.ids.get(word) ?? this.specialIds.unknown] }));
    return assembleEncoding(words, this.specialIds, this.modelMaxLength, options);
  }
}

/**
 * A word-level tokenizer from a folder with vocab.json. Unlike CLIP's, its special tokens and length
 * have no well-known defaults, so tokenizer_config.json must name them all.
 */
export function loadWordLevelTokenizer(dir: string, config: TokenizerConfig): WordLevelTokenizer {
  const { bos_token: start, eos_token: end, pad_token: pad, unk_token: unknown, model_max_length: modelMaxLength } = config;
  if (!start || !end || !pad || !unknown || modelMaxLength === undefined) {
    const missing = (['bos_token', 'eos_token', 'pad_token', 'unk_token', 'model_max_length'] as const).filter((key) => config[key] === undefined);
    throw new Error(`${join(dir, 'tokenizer_config.json')}: a WordLevelTokenizer must name ${missing.join(', ')}`);
  }
  return new WordLevelTokenizer({
    vocabulary: readVocabulary(join(dir, 'vocab.json')),
    specialTokens: { start, end, pad, unknown },
    modelMaxLength,
    lowerCase: config.do_lower_case,
  });
}

export const WORD_LEVEL_SPECIALS = { pad: '<pad>', start: '<s>', end: '</s>', unknown: '<unk>' } as const;

/** Writes a word-level tokenizer folder; ids: the four special tokens, then `words` in order. Returns the vocabulary. */
export function writeWordLevelTokenizer(dir: string, words: readonly string[], maxLength: number): Record<string, number> {
  const tokens = [WORD_LEVEL_SPECIALS.pad, WORD_LEVEL_SPECIALS.start, WORD_LEVEL_SPECIALS.end, WORD_LEVEL_SPECIALS.unknown, ...words];
  const vocab = Object.fromEntries(tokens.map((token, id) => [token, id]));
  writeJsonFile(join(dir, 'vocab.json'), vocab);
  writeJsonFile(join(dir, 'tokenizer_config.json'), {
    tokenizer_class: 'WordLevelTokenizer',
    model_max_length: maxLength,
    do_lower_case: true,
    bos_token: WORD_LEVEL_SPECIALS.start,
    eos_token: WORD_LEVEL_SPECIALS.end,
    pad_token: WORD_LEVEL_SPECIALS.pad,
    unk_token: WORD_LEVEL_SPECIALS.unknown,
  });
  return vocab;
}

function writeJsonFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
