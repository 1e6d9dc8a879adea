/**
 * Generation is made of `guidance step`s: on the tiny model, a two-step guided run (non-default
 * options) is redone from outside, one `infsplign guidance step` per denoising step on the run's own
 * initial noise, each eps_guided fed to the same scheduler; the steps' losses and centroids are the
 * run's trace and the decoded result is the run's PNG, byte for byte.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultParams, resolveParams } from '../../src/contracts/method-params.ts';
import { decodeLatent } from '../../src/diffusion/decode.ts';
import { readModelFolder } from '../../src/diffusion/model-folder.ts';
import { noiseStream } from '../../src/diffusion/noise.ts';
import { generate, imageFileName } from '../../src/diffusion/pipeline.ts';
import { parseSchedulerConfig } from '../../src/diffusion/schedulers/config.ts';
import { createScheduler } from '../../src/diffusion/schedulers/scheduler.ts';
import { DEFAULT_CACHE_MAX_BYTES } from '../../src/guidance/guided-cache.ts';
import { encodePng } from '../../src/image/png.ts';
import { formatNpy, readNpy } from '../../src/util/npy.ts';
import { runCli } from '../cli/run-cli.ts';
import { buildTinyModelFolder } from '../support/tiny-model.ts';

const root = mkdtempSync(join(tmpdir(), 'pipeline-step-'));
const cacheBefore = process.env.INFSPLIGN_CACHE;
after(() => {
  if (cacheBefore === undefined) delete process.env.INFSPLIGN_CACHE;
  else process.env.INFSPLIGN_CACHE = cacheBefore;
  rmSync(root, { recursive: true, force: true });
});

const OVERRIDES = { steps: 2, scheduler: 'ddim', guidance_weight: 800, strategy: 'both', gaussian_smoothing: true, no_wt: false, loss_type: 'softplus' };
const PROMPT = { id: 3, text: 'an apple to the left of a tree', objects: ['apple', 'tree'], relation: 'left of' as const };
const SEED = 42;

test("generation's guided steps are `guidance step` on the same inputs", async () => {
  const dir = join(root, 'model');
  buildTinyModelFolder(dir);
  const folder = readModelFolder(dir);
  const params = resolveParams({ ...defaultParams(folder.family), ...folder.defaultParams }, OVERRIDES);
  const cache = join(root, 'cache');
  process.env.INFSPLIGN_CACHE = cache;
  const out = join(root, 'run');
  const manifest = await generate({
    folder,
    prompts: [PROMPT],
    method: 'infsplign',
    params,
    seed: SEED,
    imagesPerPrompt: 1,
    batchSize: 1,
    device: 'cpu',
    outDir: out,
    resume: false,
    cache: { dir: cache, maxBytes: DEFAULT_CACHE_MAX_BYTES },
  });
  const [image] = manifest.images;
  assert.equal(image?.loss.length, 2, 'both steps guided');

  const { channels, height, width } = folder.unet.latent;
  const shape = [1, channels, height, width];
  const scheduler = createScheduler('ddim', parseSchedulerConfig(folder.scheduler.config, folder.scheduler.file), 2);
  const noise = noiseStream(SEED, 0);
  let z: Float32Array = noise.normal(channels * height * width).map((v) => v * scheduler.initNoiseSigma);
  for (let i = 0; i < 2; i++) {
    const latent = join(root, `latent-${i}.npy`);
    writeFileSync(latent, formatNpy({ shape, data: z }));
    const stepDir = join(root, `step-${i}`);
    const argv = [
      'guidance',
      'step',
      '--model',
      dir,
      '--prompt',
      PROMPT.text,
      '--objects',
      PROMPT.objects.join(','),
      '--relation',
      PROMPT.relation,
      '--latent',
      latent,
      '--step',
      String(i),
      '--params',
      JSON.stringify(OVERRIDES),
      '--out',
      stepDir,
    ];
    const run = await runCli(argv);
    assert.equal(run.code, 0, `infsplign ${argv.join(' ')} failed: ${run.stderr}`);
    const step = JSON.parse(run.stdout) as { guided: boolean; loss: number; centroids: number[][] };
    assert.deepEqual([step.guided, step.loss, step.centroids], [true, image!.loss[i], image!.centroids[i]], `step ${i}: the run's loss and centroids`);
    z = scheduler.step(readNpy(join(stepDir, 'eps_guided.npy')).data, i, z, noise);
  }
  const png = encodePng(await decodeLatent(z, folder.unet.latent, null));
  assert.ok(png.equals(readFileSync(join(out, imageFileName(PROMPT.id, 0)))), "the run's image, byte for byte");
});
