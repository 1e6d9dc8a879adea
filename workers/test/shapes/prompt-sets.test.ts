import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatVisorPrompts, generateVisorPrompts } from '../../src/prompts/visor.ts';
import { visorShapesPromptSets } from '../../src/shapes/prompt-sets.ts';
import { classNames, SHAPES_WORLD } from '../../src/shapes/world.ts';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const isSpatial = (r: { rel_type: string }) => r.rel_type !== 'and' && r.rel_type !== 'single';
const objectsOf = (r: { obj_1_attributes: [string]; obj_2_attributes: [string | null] }) =>
  [r.obj_1_attributes[0], r.obj_2_attributes[0]]
    .filter((n) => n !== null)
    .sort()
    .join('|');

describe('VISOR-Shapes prompt sets', () => {
  const sets = visorShapesPromptSets();

  test('are the VISOR procedure over the world vocabulary: 10 x 9 x 4 = 360 spatial prompts or more', () => {
    assert.deepEqual(sets.all, generateVisorPrompts(classNames(SHAPES_WORLD)));
    assert.ok(sets.all.filter(isSpatial).length >= 360);
  });

  test('tune and eval cover every prompt exactly once, records unchanged', () => {
    const ids = [...sets.tune, ...sets.eval].map((r) => r.unique_id).sort((a, b) => a - b);
    assert.deepEqual(
      ids,
      sets.all.map((r) => r.unique_id),
    );
    for (const r of [...sets.tune, ...sets.eval]) assert.deepEqual(r, sets.all[r.unique_id]);
  });

  test('keep all prompts about the same objects in one split, about a third of them in tune', () => {
    const tuneGroups = new Set(sets.tune.map(objectsOf));
    assert.ok(sets.eval.every((r) => !tuneGroups.has(objectsOf(r))));
    const share = sets.tune.length / sets.all.length;
    assert.ok(share > 0.28 && share < 0.38, `tune share ${share}`);
    // The bundled-model benchmark needs at least 200 spatial eval prompts.
    assert.ok(sets.eval.filter(isSpatial).length >= 200);
  });

  test('are stable: recomputing gives the committed json_files byte for byte', () => {
    assert.deepEqual(visorShapesPromptSets(), sets);
    for (const [name, records] of [
      ['tune', sets.tune],
      ['eval', sets.eval],
    ] as const) {
      const committed = readFileSync(resolve(REPO_ROOT, `json_files/visor_shapes_${name}.json`), 'utf8');
      assert.equal(committed, formatVisorPrompts(records), `json_files/visor_shapes_${name}.json is out of date`);
    }
  });
});
