import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OFFICIAL_FILES } from '../../src/prompts/official-files.ts';
import { readT2IPromptJson, readT2IPromptText, readT2IPrompts, t2iLocality } from '../../src/prompts/t2i-compbench.ts';

const valText = OFFICIAL_FILES.t2iSpatialVal;
const fullText = OFFICIAL_FILES.t2iSpatial;

function tempFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 't2i-prompts-')), name);
  writeFileSync(path, content);
  return path;
}

describe('T2I-CompBench prompts', () => {
  test('spatial_val.txt: 300 prompts, 0-based ids, the objects as the prompt words them, the relation', () => {
    const prompts = readT2IPromptText(valText);
    assert.equal(prompts.length, 300);
    assert.deepEqual(
      prompts.map((p) => p.id),
      prompts.map((_, i) => i),
    );
    assert.deepEqual(prompts[0], {
      id: 0,
      text: 'a giraffe next to a lamp',
      objects: ['giraffe', 'lamp'],
      relation: 'near',
      raw: { prompt: 'a giraffe next to a lamp', objects: ['giraffe', 'lamp'] },
    });
    // person words stay the prompt's own (generation finds them among its tokens); the scorer maps them
    assert.deepEqual([prompts[1].objects, prompts[1].relation], [['girl', 'frog'], 'above']);
    assert.deepEqual([prompts[3].objects, prompts[3].relation], [['bee', 'refrigerator'], 'right of']);
  });

  test('every line of spatial_val.txt and spatial.txt gives two objects that are words of the prompt', () => {
    for (const [path, count, withPersonWord] of [
      [valText, 300, 79],
      [fullText, 1000, 251],
    ] as const) {
      const prompts = readT2IPromptText(path);
      assert.equal(prompts.length, count);
      for (const p of prompts) {
        assert.equal(p.objects.length, 2, p.text);
        for (const object of p.objects) assert.ok(` ${p.text} `.includes(` ${object} `), `${path}: '${object}' in "${p.text}"`);
        assert.notEqual(p.relation, null, p.text);
      }
      // these keep their own word: the prompts that guided generation used to drop
      assert.equal(prompts.filter((p) => p.objects.some((o) => ['girl', 'boy', 'man', 'woman'].includes(o))).length, withPersonWord);
    }
  });

  test('every locality wording maps to its meaning; "on top of" parses, with no relation (position 0)', () => {
    const lines = [
      'a cat on side of a dog',
      'a cat next to a dog',
      'a cat near a dog',
      'a cat on the left of a dog',
      'a cat on the right of a dog',
      'a cat on the bottom of a dog',
      'an owl on the top of an egg',
      'a man on top of a horse',
    ];
    const prompts = readT2IPromptText(tempFile('p.txt', [...lines, ''].join('\n')));
    assert.deepEqual(
      prompts.map((p) => p.relation),
      ['near', 'near', 'near', 'left of', 'right of', 'below', 'above', null],
    );
    assert.deepEqual(prompts[6].objects, ['owl', 'egg']);
    assert.deepEqual(prompts[7].objects, ['man', 'horse']);
  });

  test('the locality is the first listed phrase the prompt contains, as a plain substring', () => {
    assert.deepEqual(t2iLocality('a linear lamp on the left of a cup'), { phrase: 'near', relation: 'near' });
    assert.deepEqual(t2iLocality('a cat on the top of a dog'), { phrase: 'on the top of', relation: 'above' });
    assert.deepEqual(t2iLocality('a cat on top of a dog'), { phrase: 'on top of', relation: null });
    assert.equal(t2iLocality('a cat and a dog'), null);
    // the text form splits at the phrase standing as whole words, so the objects stay intact
    const [linear] = readT2IPromptText(tempFile('p.txt', 'a linear lamp on the left of a cup\n'));
    assert.deepEqual([linear.objects, linear.relation], [['linear lamp', 'cup'], 'near']);
  });

  test('the JSON form gives the same prompts as the text form', () => {
    const fromText = readT2IPromptText(valText);
    const valJson = tempFile('spatial_val.json', JSON.stringify(fromText.map((p) => p.raw)));
    assert.deepEqual(readT2IPromptJson(valJson), fromText);
    assert.equal(readT2IPrompts(valJson).length, 300);
  });

  test('the JSON form: explicit objects, which must be words of the prompt', () => {
    const path = tempFile(
      'p.json',
      JSON.stringify([
        { prompt: 'a man on top of a horse', objects: ['man', 'horse'] },
        { prompt: 'a small cat near a big dog', objects: ['cat', 'big dog'] },
      ]),
    );
    assert.deepEqual(readT2IPrompts(path), [
      {
        id: 0,
        text: 'a man on top of a horse',
        objects: ['man', 'horse'],
        relation: null,
        raw: { prompt: 'a man on top of a horse', objects: ['man', 'horse'] },
      },
      {
        id: 1,
        text: 'a small cat near a big dog',
        objects: ['cat', 'big dog'],
        relation: 'near',
        raw: { prompt: 'a small cat near a big dog', objects: ['cat', 'big dog'] },
      },
    ]);
    const stranger = tempFile('bad.json', JSON.stringify([{ prompt: 'a man near a horse', objects: ['person', 'horse'] }]));
    assert.throws(() => readT2IPromptJson(stranger), { message: `${stranger}: [0].objects[0]: 'person' is not a word of the prompt "a man near a horse"` });
  });

  test('a text line that does not read "a X <relation> a Y" is an error naming file and line', () => {
    const path = tempFile('bad.txt', 'a cat near a dog\na cat beside a dog\n');
    assert.throws(
      () => readT2IPromptText(path),
      (err: Error) => err.message.startsWith(`${path}:2: cannot read "a cat beside a dog"`),
    );
  });

  test('a malformed JSON record is an error naming file and record', () => {
    const path = tempFile(
      'bad.json',
      JSON.stringify([
        { prompt: 'a cat near a dog', objects: ['cat', 'dog'] },
        { prompt: 'a cat near a dog', objects: ['cat'] },
      ]),
    );
    assert.throws(
      () => readT2IPromptJson(path),
      (err: Error) => err.message.startsWith(`${path}: [1].objects`),
    );
  });
});
