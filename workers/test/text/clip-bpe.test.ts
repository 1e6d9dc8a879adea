import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BYTE_TO_UNICODE, ClipBpeTokenizer } from '../../src/text/clip-bpe.ts';
import { phrasePositions } from '../../src/text/tokenizer.ts';
import { vocabularyFromObject } from '../../src/text/vocabulary.ts';
import { clipStyleVocabulary, TEST_MERGES } from './clip-vocabulary.ts';

const vocab = clipStyleVocabulary(TEST_MERGES);
const tokenizer = new ClipBpeTokenizer({ vocabulary: vocabularyFromObject(vocab), merges: TEST_MERGES });
const START = vocab['<|startoftext|>'];
const END = vocab['<|endoftext|>'];
const ids = (...symbols: string[]) => symbols.map((s) => vocab[s]);

describe('CLIP byte-to-unicode table', () => {
  test('printable bytes stand for themselves, the others move to U+0100 onwards in byte order', () => {
    assert.equal(BYTE_TO_UNICODE[0x21], '!');
    assert.equal(BYTE_TO_UNICODE[0x7e], '~');
    assert.equal(BYTE_TO_UNICODE[0xc3], 'Ã');
    assert.equal(BYTE_TO_UNICODE[0], '\u0100');
    assert.equal(BYTE_TO_UNICODE[0x0a], 'Ċ');
    assert.equal(BYTE_TO_UNICODE[0x20], 'Ġ');
    assert.equal(BYTE_TO_UNICODE[0x7f], '\u0121');
    assert.equal(BYTE_TO_UNICODE[0xad], '\u0143');
    assert.equal(new Set(BYTE_TO_UNICODE).size, 256);
  });
});

describe('ClipBpeTokenizer', () => {
  test('merges by rank, worked by hand', () => {
    // l o w</w> -> (l o, rank 0) lo w</w> -> (lo w</w>, rank 1) low</w>
    assert.deepEqual(tokenizer.symbols('low'), ['low</w>']);
    // l o w e r</w> -> lo w e r</w> -> lo w er</w> (rank 2 beats lo w, rank 3) -> low er</w>
    assert.deepEqual(tokenizer.symbols('lower'), ['low', 'er</w>']);
    // n e w e r</w> -> n e w er</w> -> ne w er</w>; (ne, w) has no rank, only (ne, w</w>)
    assert.deepEqual(tokenizer.symbols('newer'), ['ne', 'w', 'er</w>']);
    assert.deepEqual(tokenizer.symbols('new'), ['new</w>']);
    // a single character still ends the word
    assert.deepEqual(tokenizer.symbols('x'), ['x</w>']);
    // a pair that repeats is merged everywhere in one step: l o l o w</w> -> lo lo w</w> -> lo low</w>
    assert.deepEqual(tokenizer.symbols('lolow'), ['lo', 'low</w>']);
  });

  test('encodes with start and end tokens, no padding unless asked', () => {
    const encoding = tokenizer.encode('a cat');
    assert.deepEqual(encoding.ids, [START, ...ids('a</w>', 'cat</w>'), END]);
    assert.deepEqual(encoding.attentionMask, [1, 1, 1, 1]);
    assert.equal(encoding.truncated, false);
  });

  test('lower-cases and cleans whitespace', () => {
    assert.deepEqual(tokenizer.encode('  A\tCAT \n\n lower ').ids, tokenizer.encode('a cat lower').ids);
    assert.deepEqual(tokenizer.words('  A\tCAT \n\n Lower '), ['a', 'cat', 'lower']);
  });

  test('splits punctuation, contractions and digits as CLIP does', () => {
    assert.deepEqual(tokenizer.words("a dog's cat, 42 cats?! (low)"), ['a', 'dog', "'s", 'cat', ',', '4', '2', 'cats', '?!', '(', 'low', ')']);
    assert.deepEqual(tokenizer.encode('cat,dog').ids, [START, ...ids('cat</w>', ',</w>', 'dog</w>'), END]);
    assert.deepEqual(tokenizer.symbols('?!'), ['?', '!</w>']);
  });

  test('spells characters outside ASCII by their UTF-8 bytes', () => {
    // é is C3 A9 in UTF-8; the byte table writes those as Ã and ©
    assert.deepEqual(tokenizer.symbols('é'), ['Ã', '©</w>']);
    assert.deepEqual(tokenizer.encode('café').ids, [START, ...ids('ca', 'f', 'Ã', '©</w>'), END]);
    // 🙂 is F0 9F 99 82; 0x9F and 0x99 are not printable and are shifted
    assert.deepEqual(tokenizer.symbols('🙂'), ['ð', BYTE_TO_UNICODE[0x9f], BYTE_TO_UNICODE[0x99], BYTE_TO_UNICODE[0x82] + '</w>']);
  });

  test('a piece the vocabulary lacks becomes the unknown token', () => {
    const reduced = clipStyleVocabulary(TEST_MERGES, ['©</w>']);
    const small = new ClipBpeTokenizer({ vocabulary: vocabularyFromObject(reduced), merges: TEST_MERGES });
    assert.deepEqual(small.encode('é').ids, [reduced['<|startoftext|>'], reduced['Ã'], reduced['<|endoftext|>'], reduced['<|endoftext|>']]);
  });

  test('the special tokens written in the text are kept whole', () => {
    assert.deepEqual(tokenizer.encode('cat<|endoftext|>dog').ids, [START, ...ids('cat</w>'), END, ...ids('dog</w>'), END]);
  });

  test('pads to a length with the end token by default, or with the configured pad token', () => {
    const padded = tokenizer.encode('a cat', { length: 7 });
    assert.deepEqual(padded.ids, [START, ...ids('a</w>', 'cat</w>'), END, END, END, END]);
    assert.deepEqual(padded.attentionMask, [1, 1, 1, 1, 0, 0, 0]);
    const bang = new ClipBpeTokenizer({ vocabulary: vocabularyFromObject(vocab), merges: TEST_MERGES, specialTokens: { pad: '!' } });
    assert.equal(bang.specialIds.pad, vocab['!']);
    assert.deepEqual(bang.encode('a cat', { length: 6 }).ids, [START, ...ids('a</w>', 'cat</w>'), END, vocab['!'], vocab['!']]);
  });

  test('truncates so that the end token still fits; default limit is model_max_length', () => {
    const cut = tokenizer.encode('a cat lower', { length: 5 });
    assert.deepEqual(cut.ids, [START, ...ids('a</w>', 'cat</w>', 'low'), END]);
    assert.equal(cut.truncated, true);
    assert.deepEqual(cut.words, [
      { text: 'a', positions: [1] },
      { text: 'cat', positions: [2] },
      { text: 'lower', positions: [3] },
    ]);
    const short = new ClipBpeTokenizer({ vocabulary: vocabularyFromObject(vocab), merges: TEST_MERGES, modelMaxLength: 4 });
    assert.deepEqual(short.encode('a cat lower').ids, [START, ...ids('a</w>', 'cat</w>'), END]);
    assert.equal(tokenizer.modelMaxLength, 77);
  });

  test('rejects a length it cannot honour', () => {
    assert.throws(() => tokenizer.encode('cat', { length: 78 }), { message: "length 78 exceeds the tokenizer's model_max_length 77" });
    assert.throws(() => tokenizer.encode('cat', { length: 1 }), /at least 2/);
  });

  test('maps every word to its token positions, a word of two tokens to two', () => {
    const encoding = tokenizer.encode('A cat, lower than a dog', { length: 16 });
    assert.deepEqual(encoding.words, [
      { text: 'a', positions: [1] },
      { text: 'cat', positions: [2] },
      { text: ',', positions: [3] },
      { text: 'lower', positions: [4, 5] },
      { text: 'than', positions: [6, 7, 8, 9] },
      { text: 'a', positions: [10] },
      { text: 'dog', positions: [11] },
    ]);
    assert.deepEqual(phrasePositions(tokenizer, encoding, 'Lower'), [4, 5]);
    assert.deepEqual(phrasePositions(tokenizer, encoding, 'a dog'), [10, 11]);
    assert.throws(() => phrasePositions(tokenizer, encoding, 'bee'), { message: "'bee' is not among the words of the text (a cat , lower than a dog)" });
    const cut = tokenizer.encode('a cat lower dog', { length: 5 });
    assert.throws(() => phrasePositions(tokenizer, cut, 'dog'), { message: "'dog' was cut off by truncation" });
  });

  test('a special token missing from the vocabulary is an error naming the vocabulary', () => {
    assert.throws(() => new ClipBpeTokenizer({ vocabulary: vocabularyFromObject({ a: 0 }, 'tok/vocab.json'), merges: [] }), {
      message: "tok/vocab.json: the start token '<|startoftext|>' is not in the vocabulary",
    });
  });
});
