import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readVisorPrompts } from '../../src/prompts/load.ts';
import { JSON_FILES_DIR, OFFICIAL_FILES, VISOR_SUBSET_SIZES, visorSubsetFile } from '../../src/prompts/official-files.ts';
import { formatVisorPrompts, generateVisorPrompts, toVisorPrompt, visorClassNames, withArticle } from '../../src/prompts/visor.ts';

const committedPath = join(JSON_FILES_DIR, 'visor_prompts.json');
const fullSet = generateVisorPrompts(visorClassNames());

describe('VISOR class names', () => {
  test("are the 80 COCO names of object_names.txt with VISOR's three short names", () => {
    const names = visorClassNames();
    const original = readFileSync(OFFICIAL_FILES.cocoObjectNames, 'utf8').trim().split('\n');
    assert.equal(names.length, 80);
    assert.deepEqual(names.slice(0, 3), ['person', 'bicycle', 'car']);
    assert.equal(names[original.indexOf('computer mouse')], 'mouse');
    assert.equal(names[original.indexOf('tv remote')], 'remote');
    assert.equal(names[original.indexOf('computer keyboard')], 'keyboard');
    const unchanged = names.filter((name, i) => name === original[i]);
    assert.equal(unchanged.length, 77);
  });
});

describe('generateVisorPrompts', () => {
  test('articles follow the first letter', () => {
    assert.equal(withArticle('umbrella'), 'an umbrella');
    assert.equal(withArticle('hair drier'), 'a hair drier');
    assert.equal(withArticle('orange'), 'an orange');
  });

  test('emits relations both ways per pair, then "and" both ways, then single objects', () => {
    const records = generateVisorPrompts(['apple', 'bus', 'cat']);
    assert.equal(records.length, 3 * 10 + 3);
    assert.deepEqual(records.slice(0, 3), [
      {
        unique_id: 0,
        num_objects: 2,
        obj_1_attributes: ['apple'],
        obj_2_attributes: ['bus'],
        rel_type: 'to the left of',
        text: 'an apple to the left of a bus',
      },
      {
        unique_id: 1,
        num_objects: 2,
        obj_1_attributes: ['bus'],
        obj_2_attributes: ['apple'],
        rel_type: 'to the left of',
        text: 'a bus to the left of an apple',
      },
      {
        unique_id: 2,
        num_objects: 2,
        obj_1_attributes: ['apple'],
        obj_2_attributes: ['bus'],
        rel_type: 'to the right of',
        text: 'an apple to the right of a bus',
      },
    ]);
    assert.deepEqual(
      records.slice(0, 10).map((r) => r.rel_type),
      ['to the left of', 'to the left of', 'to the right of', 'to the right of', 'above', 'above', 'below', 'below', 'and', 'and'],
    );
    assert.equal(records[9].text, 'a bus and an apple');
    assert.equal(records[10].text, 'an apple to the left of a cat'); // next pair: (apple, cat), combinations order
    assert.equal(records[20].text, 'a bus to the left of a cat');
    assert.deepEqual(records[30], {
      unique_id: 30,
      num_objects: 1,
      obj_1_attributes: ['apple'],
      obj_2_attributes: [null],
      rel_type: 'single',
      text: 'an apple',
    });
    assert.deepEqual(
      records.map((r) => r.unique_id),
      records.map((_, i) => i),
    );
    for (const r of records) assert.deepEqual(Object.keys(r), ['unique_id', 'num_objects', 'obj_1_attributes', 'obj_2_attributes', 'rel_type', 'text']);
  });

  test('the 80 classes give 31,680 prompts, 25,280 of them spatial', () => {
    assert.equal(fullSet.length, 31680);
    assert.equal(fullSet.filter((r) => r.num_objects === 2 && r.rel_type !== 'and').length, 25280);
  });

  test('regenerating gives the committed json_files/visor_prompts.json byte for byte', () => {
    const regenerated = formatVisorPrompts(fullSet);
    assert.ok(regenerated === readFileSync(committedPath, 'utf8'), 'json_files/visor_prompts.json differs: run `npx infsplign prompts visor`');
  });
});

/**
 * The InfSplign paper's subsets, shipped as unique_ids (scripts/fixtures/visor-subsets.ts checked
 * every record of the official files against the generated set when it wrote them).
 */
describe('the InfSplign VISOR subsets', () => {
  const committed = new Map((JSON.parse(readFileSync(committedPath, 'utf8')) as typeof fullSet).map((r) => [r.unique_id, r]));

  for (const size of VISOR_SUBSET_SIZES) {
    test(`visor_subset_${size}.ids.json: ${size} distinct ids of two-object spatial prompts of the committed set`, () => {
      const ids = JSON.parse(readFileSync(visorSubsetFile(size), 'utf8')) as number[];
      assert.equal(ids.length, size);
      assert.equal(new Set(ids).size, size);
      const prompts = readVisorPrompts(visorSubsetFile(size));
      assert.deepEqual(
        prompts.map((p) => p.id),
        ids,
      );
      for (const prompt of prompts) {
        assert.deepEqual(prompt.raw, committed.get(prompt.id), `unique_id ${prompt.id}`);
        assert.equal(prompt.objects.length, 2, `unique_id ${prompt.id}: ${prompt.text}`);
        assert.notEqual(prompt.relation, null, `unique_id ${prompt.id}: ${prompt.text}`);
      }
    });
  }

  test('keep the official order: the 20-prompt subset starts with "a fork above a tie"', () => {
    assert.deepEqual(
      readVisorPrompts(visorSubsetFile(20))
        .slice(0, 2)
        .map((p) => p.text),
      ['a fork above a tie', 'a traffic light to the left of a tie'],
    );
  });
});

describe('toVisorPrompt', () => {
  test('normalises relations; "and" and single prompts have none', () => {
    const [left, , right, , above, , below, , and] = generateVisorPrompts(['dog', 'cup']);
    assert.deepEqual(
      [left, right, above, below, and].map((r) => toVisorPrompt(r).relation),
      ['left of', 'right of', 'above', 'below', null],
    );
    assert.deepEqual(toVisorPrompt(left).objects, ['dog', 'cup']);
    const single = generateVisorPrompts(['dog', 'cup']).at(-1)!;
    assert.deepEqual(toVisorPrompt(single), { id: 11, text: 'a cup', objects: ['cup'], relation: null, raw: single });
  });
});
