/**
 * A process that prepares and opens the opset-17 fixture's guided U-Net for several map sizes in a
 * shared cache: `prepare-many.ts CACHE_DIR MAX_BYTES SIZE,SIZE,...` (guided-cache.test.ts runs a few
 * at once).
 */
import { defaultParams, resolveParams } from '../../../src/contracts/method-params.ts';
import { openGuidedUnet } from '../../../src/diffusion/pipeline.ts';
import { infsplign } from '../../../src/methods/infsplign/index.ts';
import { STEP_MODELS } from './guided-step.ts';

const [dir, maxBytes, sizes] = process.argv.slice(2);
const m = STEP_MODELS.opset17;
for (const size of sizes!.split(',').map(Number)) {
  const params = resolveParams({ ...defaultParams('custom'), cfg_scale: 5, steps: 10, layers: m.layers }, { map_size: size });
  const { session } = await openGuidedUnet(
    m.unet,
    { method: infsplign, params, latentHeight: m.latent[0], latentWidth: m.latent[1] },
    { dir: dir!, maxBytes: Number(maxBytes) },
    'cpu',
  );
  await session.release();
}
