/**
 * The cache of prepared (guided) U-Nets: keyed by the guided graph's structure only (the loss's
 * values are inputs), entries of one U-Net sharing one weights file, bounded in bytes with
 * least-recently-used eviction, safe with several processes; and the guided step computing, bit
 * for bit, what it computed when the values were constants of the graph.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { defaultParams, resolveParams, type MethodParams } from '../../src/contracts/method-params.ts';
import { readModelFolder } from '../../src/diffusion/model-folder.ts';
import { createSession } from '../../src/diffusion/providers.ts';
import { cacheBytes, parseByteSize, WEIGHTS_FILE, type GuidedCache } from '../../src/guidance/guided-cache.ts';
import { lossValueFeeds } from '../../src/guidance/loss-evaluation.ts';
import { GUIDED_IO, prepareGuidedUnet, type PreparedGuidance } from '../../src/guidance/prepare.ts';
import { REPO_ROOT } from '../onnx/support/reference.ts';
import { seededRandom } from '../onnx/support/random.ts';
import { digestOutputs, STEP_MODELS, stepFeeds, type StepModel } from './support/guided-step.ts';

const EXPECTED = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/guided-bits/expected.json'), 'utf8')) as Array<{
  model: StepModel;
  params: Record<string, unknown>;
  loss: number;
  sha256: Record<string, string>;
}>;
const BUNDLED_DEFAULTS = readModelFolder(join(REPO_ROOT, 'models/bundled')).defaultParams;

const root = mkdtempSync(join(tmpdir(), 'guided-cache-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let caches = 0;
const freshCache = (maxBytes = 2 ** 40): GuidedCache => ({ dir: join(root, `cache-${caches++}`), maxBytes });

function paramsFor(model: StepModel, overrides: Record<string, unknown>): MethodParams {
  const base =
    model === 'bundled'
      ? { ...defaultParams('custom'), ...BUNDLED_DEFAULTS }
      : { ...defaultParams('custom'), cfg_scale: 5, steps: 10, map_size: 8, layers: STEP_MODELS.opset17.layers };
  return resolveParams(base, overrides);
}

/** Prepares, and unpins at once (the session is opened later, if at all). */
function prepare(model: StepModel, params: MethodParams, cache: GuidedCache): PreparedGuidance {
  const m = STEP_MODELS[model];
  const prepared = prepareGuidedUnet(m.unet, { layers: params.layers, params, latentHeight: m.latent[0], latentWidth: m.latent[1] }, cache);
  prepared.unpin();
  return prepared;
}

async function step(model: StepModel, params: MethodParams, prepared: PreparedGuidance) {
  // one thread: sums then come out the same whatever the machine's core count
  const session = await createSession(prepared.path, 'cpu', { intraOpNumThreads: 1 });
  try {
    return await session.run({ ...stepFeeds(model), ...lossValueFeeds(params, (name) => GUIDED_IO.values[name]) });
  } finally {
    await session.release();
  }
}

const entriesOf = (cache: GuidedCache) =>
  readdirSync(cache.dir)
    .filter((n) => n.startsWith('guided-'))
    .sort();

describe('the guided U-Net cache', () => {
  test('the guided step gives the very bits the graph gave with its loss values as constants (bundled model, opset-17 fixture)', async () => {
    const cache = freshCache();
    for (const expected of EXPECTED) {
      const params = paramsFor(expected.model, expected.params);
      const got = digestOutputs(await step(expected.model, params, prepare(expected.model, params, cache)));
      // outputs added since (infsplign_layers, the per-layer report) were not part of that graph
      const recorded = Object.fromEntries(Object.keys(expected.sha256).map((name) => [name, got.sha256[name]]));
      assert.deepEqual(
        { loss: got.loss, sha256: recorded },
        { loss: expected.loss, sha256: expected.sha256 },
        `${expected.model} ${JSON.stringify(expected.params)}`,
      );
    }
    // the cases differ in structure only by activation and strategies: six graphs per model
    assert.equal(entriesOf(cache).length, 12);
  });

  test('20 parameter sets that differ only in values share one entry, and each gets its own loss', async () => {
    const cache = freshCache();
    const rng = seededRandom(20);
    const losses = new Set<number>();
    const keys = new Set<string>();
    for (let k = 0; k < 20; k++) {
      const params = paramsFor('bundled', {
        guidance_weight: 1 + 100 * rng.uniform(),
        cfg_scale: 1 + 5 * rng.uniform(),
        steps: 10 + k,
        alpha: 0.1 + 2 * rng.uniform(),
        margin: rng.uniform() - 0.5,
        leaky_relu_slope: rng.uniform(),
        lambda_spatial: 2 * rng.uniform(),
        lambda_presence: 2 * rng.uniform(),
        lambda_balance: 2 * rng.uniform(),
        object_tokens: k % 2 ? 'last_word' : 'whole_phrase',
      });
      const prepared = prepare('bundled', params, cache);
      keys.add(prepared.cacheKey);
      if (k < 4) losses.add(digestOutputs(await step('bundled', params, prepared)).loss);
    }
    assert.equal(keys.size, 1);
    assert.deepEqual(entriesOf(cache), [...keys]);
    assert.equal(losses.size, 4, 'the values reach the graph');
  });

  test('a change of structure is another entry; patterns that select the same layers are the same one; entries of one U-Net share its weights file', () => {
    const cache = freshCache();
    const key = (overrides: Record<string, unknown>, model: StepModel = 'bundled') => prepare(model, paramsFor(model, overrides), cache).cacheKey;
    const base = key({});
    assert.equal(key({ layers: ['up_blocks.0.attentions.0.transformer_blocks.0.attn2', 'up_blocks.1.attentions.0.*.0.attn2'] }), base);
    const changed = [
      key({ layers: ['up_blocks.0.attentions.0.transformer_blocks.0.attn2'] }),
      key({ map_size: 8 }),
      key({ loss_type: 'relu' }),
      key({ strategy: 'both' }),
      key({ top_strategy: 'diff' }),
      key({}, 'opset17'),
    ];
    assert.equal(new Set([base, ...changed]).size, 7);
    const bundled = entriesOf(cache).filter((n) => n.startsWith(base.slice(0, 'guided-'.length + 16)));
    assert.equal(bundled.length, 6);
    const inodes = new Set(bundled.map((n) => statSync(join(cache.dir, n, WEIGHTS_FILE)).ino));
    assert.equal(inodes.size, 1, 'one weights file, hardlinked into every entry of the U-Net');
    const weights = statSync(join(cache.dir, bundled[0]!, WEIGHTS_FILE));
    assert.equal(weights.nlink, 6);
    assert.ok(weights.size > 3_000_000, `the bundled U-Net's weights: ${weights.size} bytes`);
    for (const n of bundled) assert.ok(statSync(join(cache.dir, n, 'model.onnx')).size < weights.size / 2, "an entry's own graph holds no copy of the weights");
  });

  test('the official options: their switches and choices are structure, their numbers values', () => {
    const cache = freshCache();
    const key = (overrides: Record<string, unknown>) => prepare('opset17', paramsFor('opset17', overrides), cache).cacheKey;
    const base = key({});
    for (const values of [{ masked_mean_thresh: 0.9, masked_mean_weight: 2 }, { no_wt: false }, { alpha: 2, lambda_balance: 0 }])
      assert.equal(key(values), base, JSON.stringify(values));
    const structures = [
      { loss_num: 2 },
      { L2_norm: true },
      { gaussian_smoothing: true },
      { masked_mean: true },
      { object_presence: true },
      { energy_loss: 'prob' },
      { top_loss: 'gibs' },
      { loss_type: 'rrelu' },
    ];
    assert.equal(new Set([base, ...structures.map(key)]).size, 1 + structures.length);
  });

  test('stays within its byte bound across 20 structurally different sets, evicting the least recently used', () => {
    const probe = freshCache();
    const first = prepare('opset17', paramsFor('opset17', { map_size: 1 }), probe);
    const weights = statSync(join(probe.dir, first.cacheKey, WEIGHTS_FILE)).size;
    const entry = cacheBytes(probe) - weights;
    const cache = freshCache(weights + Math.floor(3.5 * entry));
    const made: string[] = [];
    for (let size = 1; size <= 20; size++) {
      made.push(prepare('opset17', paramsFor('opset17', { map_size: size }), cache).cacheKey);
      assert.ok(cacheBytes(cache) <= cache.maxBytes, `after map_size ${size}: ${cacheBytes(cache)} bytes, over ${cache.maxBytes}`);
      assert.ok(entriesOf(cache).includes(made.at(-1)!), 'the entry just made is kept');
      if (size === 10) {
        // using an old entry again makes it the most recent: it outlives the ones made after it
        const old = entriesOf(cache).find((n) => n !== made.at(-1));
        const future = new Date(Date.now() + 60_000);
        utimesSync(join(cache.dir, old!, 'guidance.json'), future, future);
        made.push(old!);
      }
    }
    const left = entriesOf(cache);
    assert.equal(left.length, 3, `entries left: ${left.join(', ')}`);
    assert.ok(left.includes(made[10]!), 'the entry used again at step 10 was kept');
    assert.deepEqual(new Set(left.map((n) => statSync(join(cache.dir, n, WEIGHTS_FILE)).ino)).size, 1);
  });

  test('several processes filling one small cache leave only whole, loadable entries, within the bound', async () => {
    const probe = freshCache();
    const first = prepare('opset17', paramsFor('opset17', { map_size: 1 }), probe);
    const weights = statSync(join(probe.dir, first.cacheKey, WEIGHTS_FILE)).size;
    const cache = freshCache(weights + Math.floor(2.5 * (cacheBytes(probe) - weights)));
    const script = resolve(import.meta.dirname, 'support/prepare-many.ts');
    const run = (sizes: number[]) =>
      new Promise<void>((done, fail) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, cache.dir, String(cache.maxBytes), sizes.join(',')], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`prepare-many ${sizes} exited ${code}: ${stderr}`))));
      });
    // overlapping map sizes: both build some of the same entries at once, and evict each other's
    await Promise.all([run([2, 3, 4, 5]), run([5, 4, 3, 2]), run([3, 6, 7])]);
    assert.ok(cacheBytes(cache) <= cache.maxBytes);
    assert.deepEqual(
      readdirSync(cache.dir).filter((n) => !n.startsWith('guided-')),
      [],
      'no building or removed folders left',
    );
    for (const name of entriesOf(cache)) {
      const session = await createSession(join(cache.dir, name, 'model.onnx'), 'cpu');
      await session.release();
    }
  });

  test('INFSPLIGN_CACHE_MAX_BYTES takes bytes or binary units', () => {
    assert.equal(parseByteSize('1024', 'X'), 1024);
    assert.equal(parseByteSize('20G', 'X'), 20 * 2 ** 30);
    assert.equal(parseByteSize('512MiB', 'X'), 512 * 2 ** 20);
    assert.equal(parseByteSize('1.5k', 'X'), 1536);
    assert.throws(() => parseByteSize('lots', 'INFSPLIGN_CACHE_MAX_BYTES'), {
      message: "INFSPLIGN_CACHE_MAX_BYTES must be a size in bytes, e.g. 20G or 21474836480 (got 'lots')",
    });
    assert.throws(() => parseByteSize('0', 'X'), /must be a size/);
  });
});
