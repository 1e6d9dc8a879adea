/** Run planning: chunks cover the prompts exactly once, image sets are read by their names, jobs pass the contracts. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LocalArtifactStore } from '@infsplign/workers/artifacts';
import {
  canonicalConfig,
  canonicalJson,
  configHash,
  defaultParams,
  evaluateChunkJobSchema,
  generateChunkJobSchema,
  resolveParams,
} from '@infsplign/workers/contracts';
import { loadPrompts } from '@infsplign/workers/benchmarks';
import {
  chunkImages,
  chunkPrompts,
  chunkRange,
  evaluateJob,
  generateJob,
  imageKey,
  listImageSet,
  makePlan,
  PlanError,
  type JobRun,
} from '../../src/runs/plan.ts';

const scratch = mkdtempSync(join(tmpdir(), 'infsplign-plan-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('chunks cut the prompts into near-equal contiguous parts that cover each prompt once', () => {
  for (const count of [1, 7, 8, 9, 100, 1001]) {
    const chunks = Math.ceil(count / 8);
    const seen: number[] = [];
    for (let c = 0; c < chunks; c++) {
      const [start, end] = chunkRange(count, chunks, c);
      assert.ok(end - start >= 1 && end - start <= 8, `chunk ${c} of ${count}: ${end - start} prompts`);
      for (let i = start; i < end; i++) seen.push(i);
    }
    assert.deepEqual(
      seen,
      Array.from({ length: count }, (_, i) => i),
    );
  }
});

test('an image set is read by its {ID}_{K}.png names; other PNG names are an error naming the file', async () => {
  const store = new LocalArtifactStore(join(scratch, 'store'));
  const png = new Uint8Array([137, 80, 78, 71]);
  for (const name of ['3_1.png', '3_0.png', '12_0.png', 'notes.txt']) await store.put(`uploads/a/${name}`, png);
  await store.put('uploads/a/sub/9_0.png', png);
  assert.deepEqual([...(await listImageSet(store, 'uploads/a'))].sort(), [
    [12, [0]],
    [3, [0, 1]],
  ]);
  await store.put('uploads/b/007_0.png', png);
  await assert.rejects(
    listImageSet(store, 'uploads/b'),
    (err: Error) => err instanceof PlanError && /uploads\/b\/007_0\.png: images must be named/.test(err.message),
  );
  assert.equal(imageKey('uploads/a', 3, 1), 'uploads/a/3_1.png');
});

test("the jobs a plan makes pass the contracts' schemas", () => {
  const set = loadPrompts('visor-shapes', join(import.meta.dirname, '../../../../json_files/visor_shapes_eval.json'));
  const prompts = set.prompts.slice(0, 10).map((p, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    externalId: p.id,
    text: p.text,
    objects: p.objects,
    relation: p.relation,
    metadata: p.raw,
  }));
  const plan = makePlan(
    prompts,
    prompts.map(() => [0, 1]),
    'runs/r1/images',
  );
  assert.equal(plan.chunks, 2);
  const config = canonicalConfig('baseline', resolveParams(defaultParams('sd2')));
  const run: JobRun = {
    id: '11111111-1111-4111-8111-111111111111',
    benchmark: 'visor-shapes',
    seed: 5,
    imagesPerPrompt: 2,
    detector: 'shapes',
    threshold: 0.1,
    model: 'tiny-shapes',
    config: { canonicalJson: canonicalJson(config), hash: configHash(config) },
    imageSetPrefix: 'runs/r1/images',
  };
  assert.equal(chunkPrompts(plan, 0).length + chunkPrompts(plan, 1).length, 10);
  const generate = generateChunkJobSchema.parse(generateJob(run, 1, 0, chunkPrompts(plan, 1), 'cpu'));
  assert.deepEqual(
    generate.prompts.map((p) => p.externalId),
    prompts.slice(5).map((p) => p.externalId),
  );
  const evaluate = evaluateChunkJobSchema.parse(evaluateJob(run, 0, 2, chunkPrompts(plan, 0), chunkImages(plan, 0)));
  assert.equal(evaluate.images.length, 10);
  assert.equal(evaluate.round, 2);
});

test("a chunk's images are its own prompts' images, each once, in (prompt, image) order, keyed by the image set", () => {
  const prompts = Array.from({ length: 1001 }, (_, i) => ({ id: `p${i}`, externalId: 3 * i, text: '', objects: [], relation: null, metadata: null }));
  // Prompts with 0, 1 or 2 images, as an uploaded set may have.
  const plan = makePlan(
    prompts,
    prompts.map((_, i) => [0, 1].slice(0, i % 3)),
    'uploads/x',
  );
  assert.equal(plan.imageCount, 1001 - 334 + 333);
  const all = Array.from({ length: plan.chunks }, (_, c) => chunkImages(plan, c)).flat();
  assert.equal(all.length, plan.imageCount);
  assert.deepEqual(
    all,
    prompts.flatMap((p, i) => [0, 1].slice(0, i % 3).map((k) => ({ promptId: p.id, imageIndex: k, artifactKey: `uploads/x/${p.externalId}_${k}.png` }))),
  );
  for (let c = 0; c < plan.chunks; c++) {
    const ids = new Set(chunkPrompts(plan, c).map((p) => p.id));
    assert.ok(chunkImages(plan, c).every((image) => ids.has(image.promptId)));
  }
});
