/**
 * The bundled model's claim, small: on 12 VISOR-Shapes eval prompts spread over the pairs and
 * relations, 2 images each, InfSplign with the model's defaults puts more objects where the prompt
 * says than the baseline does. The full table (240 prompts x 4 images) is in models/bundled/README.md.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readModelFolder } from '../../src/diffusion/model-folder.ts';
import { resolveModel } from '../../src/diffusion/model-registry.ts';
import { parseConfigList } from '../../src/experiment/configs.ts';
import { runExperiment } from '../../src/experiment/run-experiment.ts';
import { DEFAULT_CACHE_MAX_BYTES } from '../../src/guidance/guided-cache.ts';
import { loadPrompts } from '../../src/prompts/load.ts';

const EVAL_FILE = resolve(import.meta.dirname, '../../../json_files/visor_shapes_eval.json');

describe('the bundled model', () => {
  test('InfSplign with the model defaults beats the baseline on VISOR_cond (12 prompts x 2 images)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundled-direction-'));
    const spatial = (JSON.parse(readFileSync(EVAL_FILE, 'utf8')) as { num_objects: number; rel_type: string }[]).filter(
      (r) => r.num_objects === 2 && r.rel_type !== 'and',
    );
    const step = Math.floor(spatial.length / 12);
    const promptsFile = join(dir, 'prompts.json');
    // A pair's 8 spatial prompts are consecutive (4 relations, both orders): the offset k % 8 varies the relation and order.
    writeFileSync(promptsFile, JSON.stringify(Array.from({ length: 12 }, (_, k) => spatial[k * step + (k % 8)])));
    const folder = readModelFolder(resolveModel('bundled'));
    const result = await runExperiment({
      folder,
      model: 'bundled',
      benchmark: 'visor-shapes',
      set: loadPrompts('visor-shapes', promptsFile),
      promptsFile,
      configs: parseConfigList('baseline,infsplign'),
      seed: 42,
      imagesPerPrompt: 2,
      batchSize: 4,
      device: 'cpu',
      detector: 'shapes',
      threshold: 0.1,
      outDir: join(dir, 'out'),
      cache: { dir: join(dir, 'cache'), maxBytes: DEFAULT_CACHE_MAX_BYTES },
    });
    const [baseline, guided] = result.rows.map((row) => row.aggregates as Record<string, number>);
    assert.equal(result.prompts, 12);
    assert.ok(guided!.VISOR_cond! > baseline!.VISOR_cond!, `VISOR_cond: baseline ${baseline!.VISOR_cond}, InfSplign ${guided!.VISOR_cond}`);
  });
});
