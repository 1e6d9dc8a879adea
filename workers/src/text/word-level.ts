import { join } from 'node:path';
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
