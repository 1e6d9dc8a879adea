import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTokenizer } from '../../src/text/tokenizer.ts';
import { clipStyleVocabulary, TEST_MERGES } from './clip-vocabulary.ts';

function tokenizerFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenizer-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const MERGES_TXT = ['#version: 0.2', ...TEST_MERGES.map((pair) => pair.join(' ')), ''].join('\n');
const VOCAB_JSON = JSON.stringify(clipStyleVocabulary(TEST_MERGES));

describe('loadTokenizer', () => {
  test('reads a CLIP tokenizer folder as diffusers and OWL-ViT ship it', () => {
    const vocab = clipStyleVocabulary(TEST_MERGES);
    const config = {
      tokenizer_class: 'CLIPTokenizer',
      model_max_length: 16,
      bos_token: { __type: 'AddedToken', content: '<|startoftext|>', lstrip: false },
      eos_token: '<|endoftext|>',
      pad_token: '!',
      unk_token: null,
    };
    const tokenizer = loadTokenizer(tokenizerFolder({ 'tokenizer_config.json': JSON.stringify(config), 'vocab.json': VOCAB_JSON, 'merges.txt': MERGES_TXT }));
    assert.equal(tokenizer.type, 'clip-bpe');
    assert.equal(tokenizer.modelMaxLength, 16);
    assert.deepEqual(tokenizer.specialIds, { start: vocab['<|startoftext|>'], end: vocab['<|endoftext|>'], pad: vocab['!'], unknown: vocab['<|endoftext|>'] });
    assert.deepEqual(tokenizer.encode('Lower', { length: 5 }).ids, [vocab['<|startoftext|>'], vocab.low, vocab['er</w>'], vocab['<|endoftext|>'], vocab['!']]);
  });

  test('reads a word-level tokenizer folder', () => {
    const config = { tokenizer_class: 'WordLevelTokenizer', model_max_length: 8, bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>' };
    const vocab = { '<pad>': 0, '<s>': 1, '</s>': 2, '<unk>': 3, cube: 4 };
    const tokenizer = loadTokenizer(tokenizerFolder({ 'tokenizer_config.json': JSON.stringify(config), 'vocab.json': JSON.stringify(vocab) }));
    assert.equal(tokenizer.type, 'word-level');
    assert.deepEqual(tokenizer.encode('Cube ball', { length: 6 }).ids, [1, 4, 3, 2, 0, 0]);
  });

  test('errors name the folder or file and what is wrong', () => {
    const empty = tokenizerFolder({});
    assert.throws(() => loadTokenizer(empty), { message: `${empty}: no tokenizer_config.json; a tokenizer folder needs one naming its tokenizer_class` });

    const t5 = tokenizerFolder({ 'tokenizer_config.json': JSON.stringify({ tokenizer_class: 'T5Tokenizer' }) });
    assert.throws(
      () => loadTokenizer(t5),
      (err: Error) => err.message.startsWith(`${join(t5, 'tokenizer_config.json')}: tokenizer_class: `) && err.message.includes('CLIPTokenizer'),
    );

    const badMerges = tokenizerFolder({
      'tokenizer_config.json': '{"tokenizer_class": "CLIPTokenizerFast"}',
      'vocab.json': VOCAB_JSON,
      'merges.txt': '#version: 0.2\nl o\nlo w </w>\n',
    });
    assert.throws(() => loadTokenizer(badMerges), {
      message: `${join(badMerges, 'merges.txt')}:3: expected two symbols separated by one space, got 'lo w </w>'`,
    });

    const noMerges = tokenizerFolder({ 'tokenizer_config.json': '{"tokenizer_class": "CLIPTokenizer"}', 'vocab.json': VOCAB_JSON });
    assert.throws(() => loadTokenizer(noMerges), { message: `${join(noMerges, 'merges.txt')}: cannot read (ENOENT)` });

    const wordLevel = tokenizerFolder({
      'tokenizer_config.json': '{"tokenizer_class": "WordLevelTokenizer", "bos_token": "<s>", "eos_token": "</s>"}',
      'vocab.json': '{}',
    });
    assert.throws(() => loadTokenizer(wordLevel), {
      message: `${join(wordLevel, 'tokenizer_config.json')}: a WordLevelTokenizer must name pad_token, unk_token, model_max_length`,
    });

    const badVocab = tokenizerFolder({ 'tokenizer_config.json': '{"tokenizer_class": "CLIPTokenizer"}', 'vocab.json': '{"a": -1}', 'merges.txt': '' });
    assert.throws(
      () => loadTokenizer(badVocab),
      (err: Error) => err.message.startsWith(`${join(badVocab, 'vocab.json')}: a: `),
    );
  });
});
