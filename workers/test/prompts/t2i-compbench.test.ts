import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OFFICIAL_FILES } from '../../src/prompts/official-files.ts';
import { readT2IPromptJson, readT2IPromptText, readT2IPrompts } from '../../src/prompts/t2i-compbench.ts';

const valText = OFFICIAL_FILES.t2iSpatialVal;

function tempFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 't2i-prompts-')), name);
  writeFileSync(path, content);
  return path;
}

describe('T2I-CompBench prompts', () => {
  test('spatial_val.txt: 300 prompts, 0-based ids, objects and relation read from the text', () => {
    const prompts = readT2IPromptText(valText);
    assert.equal(prompts.length, 300);
    assert.deepEqual(prompts.map((p) => p.id), prompts.map((_, i) => i));
    assert.deepEqual(prompts[0], { id: 0, text: 'a giraffe next to a lamp', objects: ['giraffe', 'lamp'], relation: 'near', raw: { prompt: 'a giraffe next to a lamp', objects: ['giraffe', 'lamp'] } });
    // person words become "person" for the detector; the raw record keeps the wording
    assert.deepEqual([prompts[1].objects, prompts[1].relation, prompts[1].raw.objects], [['person', 'frog'], 'above', ['girl', 'frog']]);
    assert.deepEqual([prompts[3].objects, prompts[3].relation], [['bee', 'refrigerator'], 'right of']);
  });

  test('every relation wording maps to its meaning', () => {
    const path = tempFile('p.txt', ['a cat on side of a dog', 'a cat next to a dog', 'a cat near a dog', 'a cat on the left of a dog', 'a cat on the right of a dog', 'a cat on the bottom of a dog', 'an owl on the top of an egg', ''].join('\n'));
    const prompts = readT2IPromptText(path);
    assert.deepEqual(prompts.map((p) => p.relation), ['near', 'near', 'near', 'left of', 'right of', 'below', 'above']);
    assert.deepEqual(prompts[6].objects, ['owl', 'egg']);
  });

  test('the JSON form gives the same prompts as the text form', () => {
    const fromText = readT2IPromptText(valText);
    const valJson = tempFile('spatial_val.json', JSON.stringify(fromText.map((p) => p.raw)));
    assert.deepEqual(readT2IPromptJson(valJson), fromText);
    assert.equal(readT2IPrompts(valJson).length, 300);
  });

  test('a JSON prompt whose relation the reference does not list has no relation (scores position 0)', () => {
    const path = tempFile('p.json', JSON.stringify([{ prompt: 'a man on top of a horse', objects: ['man', 'horse'] }]));
    assert.deepEqual(readT2IPromptJson(path)[0], { id: 0, text: 'a man on top of a horse', objects: ['person', 'horse'], relation: null, raw: { prompt: 'a man on top of a horse', objects: ['man', 'horse'] } });
  });

  test('a text line that does not read "a X <relation> a Y" is an error naming file and line', () => {
    const path = tempFile('bad.txt', 'a cat near a dog\na cat on top of a dog\n');
    assert.throws(() => readT2IPromptText(path), (err: Error) => err.message.startsWith(`${path}:2: cannot read "a cat on top of a dog"`));
  });

  test('a malformed JSON record is an error naming file and record', () => {
    const path = tempFile('bad.json', JSON.stringify([{ prompt: 'a cat near a dog', objects: ['cat', 'dog'] }, { prompt: 'a cat near a dog', objects: ['cat'] }]));
    assert.throws(() => readT2IPromptJson(path), (err: Error) => err.message.startsWith(`${path}: [1].objects`));
  });
});
