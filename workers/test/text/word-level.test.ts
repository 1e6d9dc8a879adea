import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { phrasePositions } from '../../src/text/tokenizer.ts';
import { vocabularyFromObject } from '../../src/text/vocabulary.ts';
import { WordLevelTokenizer } from '../../src/text/word-level.ts';

const vocab = { '<pad>': 0, '<s>': 1, '</s>': 2, '<unk>': 3, a: 4, red: 5, cube: 6, to: 7, the: 8, left: 9, of: 10, blue: 11, ball: 12, ',': 13 };
const tokenizer = new WordLevelTokenizer({
  vocabulary: vocabularyFromObject(vocab),
  specialTokens: { start: '<s>', end: '</s>', pad: '<pad>', unknown: '<unk>' },
  modelMaxLength: 12,
});

describe('WordLevelTokenizer', () => {
  test('one token per word, lower-cased, punctuation alone', () => {
    assert.deepEqual(tokenizer.words('A red  cube, to the LEFT of a blue ball'), ['a', 'red', 'cube', ',', 'to', 'the', 'left', 'of', 'a', 'blue', 'ball']);
    const encoding = tokenizer.encode('A red cube, left of a ball');
    assert.deepEqual(encoding.ids, [1, 4, 5, 6, 13, 9, 10, 4, 12, 2]);
    assert.deepEqual(
      encoding.words.map((w) => w.positions),
      [[1], [2], [3], [4], [5], [6], [7], [8]],
    );
  });

  test('unknown words become the unknown token and keep their position', () => {
    const encoding = tokenizer.encode('a green cube');
    assert.deepEqual(encoding.ids, [1, 4, 3, 6, 2]);
    assert.deepEqual(phrasePositions(tokenizer, encoding, 'green'), [2]);
  });

  test('pads with the pad token and truncates to model_max_length', () => {
    const padded = tokenizer.encode('a ball', { length: 6 });
    assert.deepEqual(padded.ids, [1, 4, 12, 2, 0, 0]);
    assert.deepEqual(padded.attentionMask, [1, 1, 1, 1, 0, 0]);
    const long = tokenizer.encode('a red cube to the left of a blue ball , a red ball');
    assert.equal(long.ids.length, 12);
    assert.equal(long.ids[11], 2);
    assert.equal(long.truncated, true);
  });
});
