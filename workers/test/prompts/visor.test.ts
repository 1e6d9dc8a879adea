import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatVisorPrompts, generateVisorPrompts, toVisorPrompt, visorClassNames, withArticle, type VisorRecord } from '../../src/prompts/visor.ts';

const repoRoot = join(import.meta.dirname, '../../..');
const officialDir = join(repoRoot, '../shared/benchmarks/infsplign');
const committedPath = join(repoRoot, 'json_files/visor_prompts.json');
const fullSet = generateVisorPrompts(visorClassNames());

describe('VISOR class names', () => {
  test('are the 80 COCO names of object_names.txt with VISOR\'s three short names', () => {
    const names = visorClassNames();
    const original = readFileSync(join(repoRoot, '../shared/benchmarks/geneval/object_names.txt'), 'utf8').trim().split('\n');
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
      { unique_id: 0, num_objects: 2, obj_1_attributes: ['apple'], obj_2_attributes: ['bus'], rel_type: 'to the left of', text: 'an apple to the left of a bus' },
      { unique_id: 1, num_objects: 2, obj_1_attributes: ['bus'], obj_2_attributes: ['apple'], rel_type: 'to the left of', text: 'a bus to the left of an apple' },
      { unique_id: 2, num_objects: 2, obj_1_attributes: ['apple'], obj_2_attributes: ['bus'], rel_type: 'to the right of', text: 'an apple to the right of a bus' },
    ]);
    assert.deepEqual(records.slice(0, 10).map((r) => r.rel_type), ['to the left of', 'to the left of', 'to the right of', 'to the right of', 'above', 'above', 'below', 'below', 'and', 'and']);
    assert.equal(records[9].text, 'a bus and an apple');
    assert.equal(records[10].text, 'an apple to the left of a cat'); // next pair: (apple, cat), combinations order
    assert.equal(records[20].text, 'a bus to the left of a cat');
    assert.deepEqual(records[30], { unique_id: 30, num_objects: 1, obj_1_attributes: ['apple'], obj_2_attributes: [null], rel_type: 'single', text: 'an apple' });
    assert.deepEqual(records.map((r) => r.unique_id), records.map((_, i) => i));
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

  test('every record of the official subsets equals the generated record with its unique_id', () => {
    const byId = new Map(fullSet.map((r) => [r.unique_id, r]));
    const subsets = readdirSync(officialDir).filter((name) => /^visor_subset_\d+\.json$/.test(name));
    assert.ok(subsets.length >= 4);
    for (const name of subsets) {
      const records = JSON.parse(readFileSync(join(officialDir, name), 'utf8')) as VisorRecord[];
      for (const record of records) assert.deepEqual(record, byId.get(record.unique_id), `${name}: unique_id ${record.unique_id}`);
    }
  });

  test('lays records out as the official subset files do (key order, indent 4, no final newline)', () => {
    const text = readFileSync(join(officialDir, 'visor_subset_20.json'), 'utf8');
    assert.equal(formatVisorPrompts(JSON.parse(text)), text);
  });
});

describe('toVisorPrompt', () => {
  test('normalises relations; "and" and single prompts have none', () => {
    const [left, , right, , above, , below, , and] = generateVisorPrompts(['dog', 'cup']);
    assert.deepEqual([left, right, above, below, and].map((r) => toVisorPrompt(r).relation), ['left of', 'right of', 'above', 'below', null]);
    assert.deepEqual(toVisorPrompt(left).objects, ['dog', 'cup']);
    const single = generateVisorPrompts(['dog', 'cup']).at(-1)!;
    assert.deepEqual(toVisorPrompt(single), { id: 11, text: 'a cup', objects: ['cup'], relation: null, raw: single });
  });
});
