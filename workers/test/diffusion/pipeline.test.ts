/**
 * The sampling loop on the tiny model: determinism across runs and batch sizes, the prepared
 * model at s = 0 reproducing the baseline byte for byte, guidance changing the images, the
 * manifest's traces and costs, Attend-and-Excite's and CONFORM's latent updates (per image, whatever
 * the batch; CONFORM's previous maps carried per image),
 * resuming, and a prompt whose object cannot be found failing alone.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveMethodParams } from '../../src/contracts/model-defaults.ts';
import { readModelFolder, type ModelFolder } from '../../src/diffusion/model-folder.ts';
import { generate, type GenerationPrompt } from '../../src/diffusion/pipeline.ts';
import { DEFAULT_CACHE_MAX_BYTES } from '../../src/guidance/guided-cache.ts';
import { requireMethod } from '../../src/methods/registry.ts';
import { buildSdLikeFolder } from '../support/sd-like-folders.ts';
import { buildTinyModelFolder } from '../support/tiny-model.ts';

const root = mkdtempSync(join(tmpdir(), 'pipeline-'));
after(() => rmSync(root, { recursive: true, force: true }));
let folder: ModelFolder;
before(() => {
  buildTinyModelFolder(join(root, 'model'));
  folder = readModelFolder(join(root, 'model'));
});

const PROMPTS: GenerationPrompt[] = [
  { id: 0, text: 'an apple to the left of a tree', objects: ['apple', 'tree'], relation: 'left of' },
  { id: 7, text: 'a box above a lemon', objects: ['box', 'lemon'], relation: 'above' },
  { id: 9, text: 'a gem and a flower', objects: ['gem', 'flower'], relation: null },
];

let runs = 0;
async function run(method: string, overrides: object, options: { batchSize?: number; prompts?: GenerationPrompt[]; out?: string; resume?: boolean } = {}) {
  const outDir = options.out ?? join(root, `run-${runs++}`);
  const manifest = await generate({
    folder,
    prompts: options.prompts ?? PROMPTS,
    method,
    params: resolveMethodParams(requireMethod(method), folder.family, folder.defaults, { steps: 6, ...overrides }, 'the test'),
    seed: 42,
    imagesPerPrompt: 2,
    batchSize: options.batchSize ?? 4,
    device: 'cpu',
    outDir,
    resume: options.resume ?? false,
    cache: { dir: join(root, 'cache'), maxBytes: DEFAULT_CACHE_MAX_BYTES },
  });
  const pngs = Object.fromEntries(
    readdirSync(outDir)
      .filter((f) => f.endsWith('.png'))
      .sort()
      .map((f) => [f, readFileSync(join(outDir, f))]),
  );
  return { outDir, manifest, pngs };
}

describe('generate on the tiny model', () => {
  test('the same seed gives the same bytes across runs and batch sizes', async () => {
    const a = await run('baseline', {}, { batchSize: 1 });
    const b = await run('baseline', {}, { batchSize: 4 });
    const c = await run('baseline', {}, { batchSize: 4 });
    assert.deepEqual(Object.keys(a.pngs), ['0_0.png', '0_1.png', '7_0.png', '7_1.png', '9_0.png', '9_1.png']);
    assert.deepEqual(b.pngs, a.pngs);
    assert.deepEqual(c.pngs, a.pngs);
    assert.notDeepEqual(a.pngs['0_0.png'], a.pngs['7_0.png'], 'different prompts give different images');
  });

  test('the prepared model with s = 0 gives the baseline PNG bytes; s > 0 changes them', async () => {
    const baseline = await run('baseline', {});
    const zero = await run('infsplign', { guidance_weight: 0 }, { batchSize: 2 });
    assert.deepEqual(zero.pngs, baseline.pngs);
    const guided = await run('infsplign', { guidance_weight: 1000 });
    assert.notDeepEqual(guided.pngs['0_0.png'], baseline.pngs['0_0.png']);
    const again = await run('infsplign', { guidance_weight: 1000 }, { batchSize: 1 });
    assert.deepEqual(again.pngs, guided.pngs);
    // Every guided image records the loss and both centroids at each of the 6 guided steps.
    for (const image of guided.manifest.images) {
      assert.equal(image.guided, true);
      assert.equal(image.loss.length, 6);
      assert.equal(image.centroids.length, 6);
      assert.ok(image.loss.every(Number.isFinite));
    }
    assert.equal(guided.manifest.config.method, 'infsplign');
    assert.match(guided.manifest.config_hash, /^[0-9a-f]{64}$/);
  });

  test('every image records its cost: a CFG pair per step, plus one forward and one backward pass per guided evaluation', async () => {
    const baseline = await run('baseline', {});
    const guided = await run('infsplign', { guidance_weight: 1000, guide_steps: [1, 4] });
    for (const image of baseline.manifest.images) assert.deepEqual([image.cost?.unet_evaluations, image.cost?.backward_passes], [12, 0]);
    // the guided steps' conditional half is the guided pass: still 2 evaluations a step, 3 backward passes
    for (const image of guided.manifest.images) assert.deepEqual([image.cost?.unet_evaluations, image.cost?.backward_passes], [12, 3]);
    for (const image of [...baseline.manifest.images, ...guided.manifest.images])
      assert.ok(image.cost!.seconds > 0 && Math.abs(image.cost!.seconds * 1000 - image.ms) <= 1);
    assert.equal(guided.manifest.device, 'cpu');
  });

  // Attend-and-Excite on the tiny model: its 8x8 maps, the words only in the softmax, updates at
  // steps 0-3, refinement at steps 0 and 3 (a threshold of 1 refines while the loss is above 0: to the cap).
  const AE = { attention_res: 8, normalize_eot: true, max_iter_to_alter: 4, thresholds: { 0: 0.05, 3: 1 }, max_refinement_steps: 3 };

  test("attend-and-excite: latent updates change the images, each image's refinement is its own (same bytes at batch sizes 1, 2 and 4), its cost counted", async () => {
    const baseline = await run('baseline', {});
    const one = await run('attend-and-excite', AE, { batchSize: 1 });
    const two = await run('attend-and-excite', AE, { batchSize: 2 });
    const four = await run('attend-and-excite', AE, { batchSize: 4 });
    assert.deepEqual(two.pngs, one.pngs);
    assert.deepEqual(four.pngs, one.pngs);
    assert.notDeepEqual(one.pngs['0_0.png'], baseline.pngs['0_0.png']);
    assert.equal(one.manifest.config.method, 'attend-and-excite');
    for (const [k, image] of one.manifest.images.entries()) {
      const other = four.manifest.images[k]!;
      assert.deepEqual(
        [other.loss, other.steps, other.cost?.backward_passes],
        [image.loss, image.steps, image.cost?.backward_passes],
        'the same evaluations whatever the batch',
      );
      assert.equal(image.guided, true);
      // the loss is read at the steps that update or refine (0-3), never after
      assert.deepEqual(image.steps, [0, 1, 2, 3]);
      assert.ok(image.loss.every((l) => l >= 0 && l <= 1));
      // a guided pass per evaluation the plan asked for at a new latent: at least one per step, refinements to their cap of 3 at step 3
      const backward = image.cost!.backward_passes;
      assert.ok(backward >= 4 + 3, `${backward} backward passes`);
      assert.equal(image.cost!.unet_evaluations, 12 + backward);
    }
  });

  test("attend-and-excite: with scale_factor 0 its updates move nothing, so the images are the baseline's", async () => {
    const baseline = await run('baseline', {});
    const still = await run('attend-and-excite', { ...AE, scale_factor: 0 }, { batchSize: 2 });
    assert.deepEqual(still.pngs, baseline.pngs);
  });

  // CONFORM on the tiny model: its 8x8 maps, updates at steps 0-3, 2 refinement iterations at steps 0 and 3.
  const CONFORM = { attn_res: 8, max_iter_to_alter: 4, iterative_refinement_steps: [0, 3], refinement_steps: 2 };

  test('conform: each image carries its own previous maps from step to step (same bytes at batch sizes 1, 2 and 4); one-token objects give 0 at step 0, then the previous maps pull', async () => {
    const baseline = await run('baseline', {});
    const one = await run('conform', CONFORM, { batchSize: 1 });
    const two = await run('conform', CONFORM, { batchSize: 2 });
    const four = await run('conform', CONFORM, { batchSize: 4 });
    assert.deepEqual(two.pngs, one.pngs);
    assert.deepEqual(four.pngs, one.pngs);
    assert.notDeepEqual(one.pngs['0_0.png'], baseline.pngs['0_0.png']);
    for (const [k, image] of one.manifest.images.entries()) {
      assert.deepEqual(four.manifest.images[k]!.loss, image.loss, 'the same evaluations whatever the batch');
      assert.deepEqual(image.steps, [0, 1, 2, 3]);
      assert.equal(image.loss[0], 0);
      assert.ok(
        image.loss.slice(1).every((l) => l > 0 && Number.isFinite(l)),
        `${image.loss}`,
      );
    }
    // without the previous maps one-token objects have no positive pair: the loss stays 0, nothing moves
    const alone = await run('conform', { ...CONFORM, add_previous_attention_maps: false }, { batchSize: 2 });
    assert.deepEqual(alone.pngs, baseline.pngs);
    assert.ok(alone.manifest.images.every((image) => image.loss.every((l) => l === 0)));
  });

  test('resume skips images already written with the same configuration and refuses another', async () => {
    const first = await run('baseline', {}, { prompts: PROMPTS.slice(0, 1) });
    const resumed = await run('baseline', {}, { out: first.outDir, resume: true });
    assert.equal(resumed.manifest.images.length, 6);
    assert.deepEqual(resumed.pngs['0_0.png'], first.pngs['0_0.png']);
    await assert.rejects(run('baseline', {}, { out: first.outDir }), /exists: pass --resume/);
    await assert.rejects(run('infsplign', {}, { out: first.outDir, resume: true }), /made with another configuration/);
  });

  test('a prompt whose object is not in the text fails alone, with the reason', async () => {
    const prompts: GenerationPrompt[] = [PROMPTS[0]!, { id: 3, text: 'a tire to the left of a box', objects: ['grape', 'box'], relation: 'left of' }];
    const { manifest, outDir } = await run('infsplign', {}, { prompts });
    assert.deepEqual(
      manifest.failures.map((f) => f.prompt),
      [3],
    );
    assert.match(manifest.failures[0]!.reason, /object 'grape' not found/);
    assert.ok(existsSync(join(outDir, '0_1.png')));
    assert.equal(existsSync(join(outDir, '3_0.png')), false);
  });

  test("object_presence: a prompt without a relation fails alone, with the reference's defect; the baseline does not mind", async () => {
    const { manifest, outDir } = await run('infsplign', { object_presence: true, steps: 2 });
    assert.deepEqual(
      manifest.failures.map((f) => f.prompt),
      [9],
    );
    assert.match(manifest.failures[0]!.reason, /object_presence needs a relation the reference lists: on a prompt without one the reference raises/);
    assert.deepEqual(manifest.images.map((i) => `${i.prompt}_${i.index}`).sort(), ['0_0', '0_1', '7_0', '7_1']);
    assert.equal(existsSync(join(outDir, '9_0.png')), false);
    assert.equal((await run('baseline', { steps: 2 })).manifest.failures.length, 0);
  });
});

test('an SDXL-layout U-Net is fed its pooled text embedding and size conditioning', async () => {
  const dir = join(root, 'sdxl');
  buildSdLikeFolder(dir, { family: 'sdxl', latentSide: 8 });
  const sdxl = readModelFolder(dir);
  assert.equal(sdxl.family, 'sdxl');
  const outDir = join(root, 'sdxl-out');
  const manifest = await generate({
    folder: sdxl,
    prompts: [{ id: 0, text: 'a cat to the left of a dog', objects: ['cat', 'dog'], relation: 'left of' }],
    method: 'baseline',
    params: resolveMethodParams(requireMethod('baseline'), sdxl.family, sdxl.defaults, { steps: 2 }, 'the test'),
    seed: 1,
    imagesPerPrompt: 1,
    batchSize: 1,
    device: 'cpu',
    outDir,
    resume: false,
    cache: { dir: join(root, 'cache'), maxBytes: DEFAULT_CACHE_MAX_BYTES },
  });
  assert.equal(manifest.images.length, 1);
  assert.ok(existsSync(join(outDir, '0_0.png')));
});
