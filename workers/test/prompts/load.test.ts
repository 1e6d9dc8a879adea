import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPrompts } from '../../src/prompts/load.ts';
import { generateVisorPrompts } from '../../src/prompts/visor.ts';

const benchmarks = join(import.meta.dirname, '../../../../shared/benchmarks');

function tempJson(value: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'load-prompts-')), 'prompts.json');
  writeFileSync(path, JSON.stringify(value));
  return path;
}

describe('loadPrompts', () => {
  test('picks the reader and the scoring rules by benchmark; visor-shapes is scored as visor', () => {
    const subset = join(benchmarks, 'infsplign/visor_subset_20.json');
    const visor = loadPrompts('visor', subset);
    assert.equal(visor.scoring, 'visor');
    assert.equal(visor.prompts[0].id, 17965);
    assert.equal(loadPrompts('visor-shapes', tempJson(generateVisorPrompts(['disc', 'star']))).scoring, 'visor');
    assert.equal(loadPrompts('t2i', join(benchmarks, 't2i-compbench/spatial_val.txt')).prompts.length, 300);
    assert.equal(loadPrompts('geneval', join(benchmarks, 'geneval/evaluation_metadata.jsonl'), { tag: 'position' }).prompts.length, 100);
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

  test('a missing file is named', () => {
    assert.throws(() => loadPrompts('visor', '/nonexistent/prompts.json'), { message: '/nonexistent/prompts.json: cannot read (ENOENT)' });
  });
});
