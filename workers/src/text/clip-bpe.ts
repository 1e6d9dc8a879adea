import { join } from 'node:path';
import { readTextFile } from '../util/read-data-file.ts';
import { assembleEncoding, cleanText } from './encoding.ts';
import type { EncodeOptions, Encoding, SpecialTokenIds, Tokenizer, TokenizerConfig } from './tokenizer.ts';
import { readVocabulary, specialTokenIds, type SpecialTokens, type Vocabulary } from './vocabulary.ts';

/*
 * CLIP's byte-level BPE (openai/CLIP simple_tokenizer.py, Hugging Face CLIPTokenizer): the text is
 * cleaned and lower-cased, split into words by CLIP's pattern, each word's UTF-8 bytes are written
 * as printable characters (so every string has a spelling in the vocabulary), the last character
 * gets the end-of-word marker `</w>`, and adjacent symbols are merged by rank until no ranked pair
 * is left.
 */

export const END_OF_WORD = '</w>';
const DEFAULT_MODEL_MAX_LENGTH = 77;
const CLIP_SPECIAL_TOKENS: SpecialTokens = { start: '<|startoftext|>', end: '<|endoftext|>', pad: '<|endoftext|>', unknown: '<|endoftext|>' };

/**
 * GPT-2's byte -> character table: printable Latin-1 bytes stand for themselves, the other 68 bytes
 * (controls, space, soft hyphen...) are shifted to U+0100 onwards, in byte order.
 */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const table: string[] = new Array(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let shifted = 256;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(printable(b) ? b : shifted++);
  return table;
})();

const utf8 = new TextEncoder();

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** CLIP's pre-tokenizer: the special tokens whole, common English contractions, letter runs, single digits, other symbol runs. */
function wordPattern(special: SpecialTokens): RegExp {
  return new RegExp(`${escapeRegExp(special.start)}|${escapeRegExp(special.end)}|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^\\s\\p{L}\\p{N}]+`, 'gu');
}

export type MergeRule = readonly [left: string, right: string];

/** Reads `merges.txt`: an optional `#version` line, then one merge a line, highest priority first. */
export function readMerges(path: string): MergeRule[] {
  const merges: MergeRule[] = [];
  readTextFile(path)
    .split('\n')
    .forEach((line, index) => {
      if (line.trim() === '' || (index === 0 && line.startsWith('#version'))) return;
      const parts = line.replace(/\r$/, '').split(' ');
      if (parts.length !== 2 || parts[0] === '' || parts[1] === '')
        throw new Error(`${path}:${index + 1}: expected two symbols separated by one space, got '${line}'`);
      merges.push([parts[0], parts[1]]);
    });
  return merges;
}

export interface ClipBpeOptions {
  vocabulary: Vocabulary;
  /** merge rules in rank order (first = merged first) */
  merges: readonly MergeRule[];
  /** CLIP's by default: `<|startoftext|>`, and `<|endoftext|>` for end, padding and unknown pieces */
  specialTokens?: Partial<SpecialTokens>;
  modelMaxLength?: number;
  lowerCase?: boolean;
}

export class ClipBpeTokenizer implements Tokenizer {
  readonly type = 'clip-bpe';
  readonly modelMaxLength: number;
  readonly specialIds: SpecialTokenIds;
  private readonly vocabulary: Vocabulary;
  private readonly ranks = new Map<string, number>();
  private readonly specialTokens: SpecialTokens;
  private readonly pattern: RegExp;
  private readonly lowerCase: boolean;
  /** byte-encoded word -> its BPE symbols; prompts repeat the same few hundred words */
  private readonly cache = new Map<string, string[]>();

  constructor(options: ClipBpeOptions) {
    this.vocabulary = options.vocabulary;
    options.merges.forEach(([left, right], rank) => {
      const key = `${left} ${right}`;
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
    });
    this.specialTokens = { ...CLIP_SPECIAL_TOKENS, ...options.specialTokens };
    this.specialIds = specialTokenIds(this.vocabulary, this.specialTokens);
    this.pattern = wordPattern(this.specialTokens);
    this.modelMaxLength = options.modelMaxLength ?? DEFAULT_MODEL_MAX_LENGTH;
    this.lowerCase = options.lowerCase ?? true;
  }

  words(text: string): string[] {
    return cleanText(text, this.lowerCase).match(this.pattern) ?? [];
  }

  encode(text: string, options?: EncodeOptions): Encoding {
    const words = this.words(text).map((word) => ({ text: word, ids: this.wordIds(word) }));
    return assembleEncoding(words, this.specialIds, this.modelMaxLength, options);
  }

  /** The BPE symbols of one word, e.g. `['lo', 'w', 'er</w>']`. */
  symbols(word: string): string[] {
    const encoded = Array.from(utf8.encode(word), (byte) => BYTE_TO_UNICODE[byte]).join('');
    let symbols = this.cache.get(encoded);
    if (!symbols) {
      symbols = this.merge(encoded);
      this.cache.set(encoded, symbols);
    }
    return symbols;
  }

  private wordIds(word: string): number[] {
    if (word === this.specialTokens.start) return [this.specialIds.start];
    if (word === this.specialTokens.end) return [this.specialIds.end];
    // Every single byte character is in CLIP's vocabulary; a reduced vocabulary may lack some, which is what unknown is for.
    return this.symbols(word).map((symbol) => this.vocabulary.ids.get(symbol) ?? this.specialIds.unknown);
  }

  /** Merges the lowest-ranked adjacent pair everywhere it occurs, left to right, until no pair has a rank. */
  private merge(encoded: string): string[] {
    let symbols = Array.from(encoded);
    symbols[symbols.length - 1] += END_OF_WORD;
    while (symbols.length > 1) {
      let best = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) best = Math.min(best, this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`) ?? Infinity);
      if (best === Infinity) break;
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`) === best) {
          merged.push(symbols[i] + symbols[i + 1]);
          i++;
        } else {
          merged.push(symbols[i]);
        }
      }
      symbols = merged;
    }
    return symbols;
  }
}

/** The special tokens that tokenizer_config.json names; the others keep CLIP's. */
function configuredSpecialTokens(config: TokenizerConfig): Partial<SpecialTokens> {
  const named: Partial<SpecialTokens> = {};
  if (config.bos_token) named.start = config.bos_token;
  if (config.eos_token) named.end = config.eos_token;
  if (config.pad_token) named.pad = config.pad_token;
  if (config.unk_token) named.unknown = config.unk_token;
  return named;
}

/** A CLIP tokenizer from a folder with vocab.json and merges.txt, configured by its tokenizer_config.json. */
export function loadClipBpeTokenizer(dir: string, config: TokenizerConfig): ClipBpeTokenizer {
  return new ClipBpeTokenizer({
    vocabulary: readVocabulary(join(dir, 'vocab.json')),
    merges: readMerges(join(dir, 'merges.txt')),
    specialTokens: configuredSpecialTokens(config),
    modelMaxLength: config.model_max_length,
    lowerCase: config.do_lower_case,
  });
}
