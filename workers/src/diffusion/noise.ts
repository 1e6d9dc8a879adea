import { Random } from '../util/random.ts';

/** Standard normal samples for one image, drawn in order: the initial latent first, then each step's noise. */
export interface NoiseSource {
  normal(count: number): Float32Array;
}

/**
 * The Gaussian noise of image `imageIndex` under `seed` (docs/method.md §3). Stream k is the seed's
 * generator jumped k times by 2^64 draws, so streams never overlap and an image's noise depends on
 * (seed, imageIndex) alone: not on the batch it is sampled in, nor on the worker. (A jump costs
 * about a microsecond, so even image 10^5 starts in a tenth of a second.)
 */
export function noiseStream(seed: number, imageIndex: number): NoiseSource {
  // Random keeps 32 bits of its seed; refusing larger seeds keeps two seeds from sharing noise.
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`noise: the seed must be an integer in [0, 2^32), got ${seed}`);
  }
  if (!Number.isInteger(imageIndex) || imageIndex < 0) {
    throw new Error(`noise: the image index must be a non-negative integer, got ${imageIndex}`);
  }
  const random = new Random(seed);
  for (let k = 0; k < imageIndex; k++) random.jump();
  return {
    normal(count: number): Float32Array {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = random.normal();
      return out;
    },
  };
}
