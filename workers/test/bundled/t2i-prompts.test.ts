/**
 * Guided generation never drops a T2I-CompBench prompt: on the bundled model, the prompts whose object
 * is a person word (girl, boy, man, woman; the scorer's `person`) are guided like every other one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultParams, resolveParams } from '../../src/contracts/method-params.ts';
import { readModelFolder } from '../../src/diffusion/model-folder.ts';
import { resolveModel } from '../../src/diffusion/model-registry.ts';
import { generate } from '../../src/diffusion/pipeline.ts';
import { DEFAULT_CACHE_MAX_BYTES } from '../../src/guidance/guided-cache.ts';
import { loadPrompts } from '../../src/prompts/load.ts';
import { OFFICIAL_FILES } from '../../src/prompts/official-files.ts';

test('the bundled model guides every T2I-CompBench prompt, girl/boy/man/woman included', async () => {
  const PEOPLE = ['girl', 'boy', 'man', 'woman'];
  const people = loadPrompts('t2i', OFFICIAL_FILES.t2iSpatialVal).prompts.filter((p) => p.objects.some((o) => PEOPLE.includes(o)));
  const chosen = PEOPLE.map((word) => people.find((p) => p.objects.includes(word))!);
  const folder = readModelFolder(resolveModel('bundled'));
  const out = mkdtempSync(join(tmpdir(), 't2i-bundled-'));
  try {
    const manifest = await generate({
      folder,
      prompts: chosen.map((p) => ({ id: p.id, text: p.text, objects: p.objects, relation: p.relation })),
      method: 'infsplign',
      params: resolveParams({ ...defaultParams(folder.family), ...folder.defaultParams }, { steps: 2 }),
      seed: 42,
      imagesPerPrompt: 1,
      batchSize: 4,
      device: 'cpu',
      outDir: out,
      resume: false,
      cache: { dir: join(out, 'cache'), maxBytes: DEFAULT_CACHE_MAX_BYTES },
    });
    assert.deepEqual(manifest.failures, []);
    assert.deepEqual(
      manifest.images.map((i) => [i.prompt, i.guided]),
      chosen.map((p) => [p.id, true]),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
