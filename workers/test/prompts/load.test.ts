import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPrompts } from '../../src/prompts/load.ts';
import { OFFICIAL_FILES, visorSubsetFile } from '../../src/prompts/official-files.ts';
import { generateVisorPrompts } from '../../src/prompts/visor.ts';

function tempJson(value: unknown, name = 'prompts.json'): string {
  const path = join(mkdtempSync(join(tmpdir(), 'load-prompts-')), name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

describe('loadPrompts', () => {
  test('picks the reader and the scoring rules by benchmark; visor-shapes is scored as visor', () => {
    const visor = loadPrompts('visor', visorSubsetFile(20));
    assert.equal(visor.scoring, 'visor');
    assert.equal(visor.prompts[0].id, 17965);
    assert.equal(loadPrompts('visor-shapes', tempJson(generateVisorPrompts(['disc', 'star']))).scoring, 'visor');
    assert.equal(loadPrompts('t2i', OFFICIAL_FILES.t2iSpatialVal).prompts.length, 300);
    assert.equal(loadPrompts('geneval', OFFICIAL_FILES.genevalMetadata, { tag: 'position' }).prompts.length, 100);
  });

  test('rejects an unknown benchmark, naming the known ones', () => {
    assert.throws(() => loadPrompts('coco', 'x.json'), { message: "unknown benchmark 'coco' (expected one of visor, visor-shapes, t2i, geneval)" });
  });

  test('VISOR records have exactly the six keys and distinct unique_ids', () => {
    const [record] = generateVisorPrompts(['disc', 'star']);
    const extraKey = tempJson([{ ...record, seed: 3 }]);
    assert.throws(() => loadPrompts('visor', extraKey), { message: `${extraKey}: [0]: Unrecognized key: "seed"` });
    const duplicate = tempJson([record, record]);
    assert.throws(() => loadPrompts('visor', duplicate), { message: `${duplicate}: [1].unique_id: 0 appears twice` });
    const inconsistent = tempJson([{ ...record, num_objects: 1 }]);
    assert.throws(() => loadPrompts('visor', inconsistent), /single-object records need num_objects 1/);
  });

  test('a .ids.json file names prompts of the generated VISOR set, and only of that set', () => {
    const ids = tempJson([31679, 0], 'subset.ids.json');
    assert.deepEqual(
      loadPrompts('visor', ids).prompts.map((p) => p.text),
      ['a toothbrush', 'a person to the left of a bicycle'],
    );
    const unknown = tempJson([0, 31680], 'subset.ids.json');
    assert.throws(() => loadPrompts('visor', unknown), { message: `${unknown}: [1]: unique_id 31680 is not in the VISOR set (0 to 31679)` });
    const twice = tempJson([5, 5], 'subset.ids.json');
    assert.throws(() => loadPrompts('visor', twice), { message: `${twice}: [1].unique_id: 5 appears twice` });
    assert.throws(() => loadPrompts('visor', tempJson([], 'subset.ids.json')), /subset\.ids\.json: Too small: expected array to have >=1 items/);
    assert.throws(() => loadPrompts('visor-shapes', ids), {
      message: `${ids}: a .ids.json file names prompts of the COCO VISOR set, not of visor-shapes (give a VISOR-Shapes JSON file such as json_files/visor_shapes_eval.json)`,
    });
  });

  test('a missing file is named', () => {
    assert.throws(() => loadPrompts('visor', '/nonexistent/prompts.json'), { message: '/nonexistent/prompts.json: cannot read (ENOENT)' });
  });
});
