import { z } from 'zod';
import { readJsonFile } from '../util/read-data-file.ts';
import type { SpecialTokenIds } from './tokenizer.ts';

/** A token -> id table, remembering the file it came from for error messages. */
export interface Vocabulary {
  ids: ReadonlyMap<string, number>;
  source: string;
}

const vocabularySchema = z.record(z.string(), z.number().int().nonnegative());

/** Reads a `vocab.json` (token -> id). */
export function readVocabulary(path: string): Vocabulary {
  return { ids: new Map(Object.entries(readJsonFile(path, vocabularySchema))), source: path };
}

export function vocabularyFromObject(tokens: Record<string, number>, source = 'vocabulary'): Vocabulary {
  return { ids: new Map(Object.entries(tokens)), source };
}

/** The special tokens by name (`<|endoftext|>`), each of which the vocabulary must hold. */
export interface SpecialTokens {
  start: string;
  end: string;
  pad: string;
  unknown: string;
}

export function specialTokenIds(vocabulary: Vocabulary, tokens: SpecialTokens): SpecialTokenIds {
  const idOf = (role: keyof SpecialTokens) => {
    const id = vocabulary.ids.get(tokens[role]);
    if (id === undefined) throw new Error(`${vocabulary.source}: the ${role} token '${tokens[role]}' is not in the vocabulary`);
    return id;
  };
  return { start: idOf('start'), end: idOf('end'), pad: idOf('pad'), unknown: idOf('unknown') };
}
