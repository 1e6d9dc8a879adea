import { boxBlur3x3 } from '../image/filters.ts';
import { clampRgbImage, cloneRgbImage, type RgbImage } from '../image/rgb-image.ts';
import { Random } from '../util/random.ts';

/**
 * Damage of the kind a small generative model's images show, to check that the detector still
 * judges them fairly.
 * - `blur`: one 3 x 3 box blur (edges spread by one pixel);
 * - `colourJitter`: each channel of the whole image multiplied by its own factor drawn uniformly
 *   from [1 - j, 1 + j] (a colour cast, as a model's colour balance drifts);
 * - `noiseSigma`: independent Gaussian noise of that standard deviation (0..1 scale) on every
 *   channel of every pixel.
 * Applied in that order, so the noise is not smoothed away, then clamped to 0..1.
 */
export interface Corruption {
  blur: boolean;
  colourJitter: number;
  noiseSigma: number;
}

/** The damage the detector's accuracy requirement names: sigma 0.1 noise, a 1-pixel blur, +-20% colour. */
export const STANDARD_CORRUPTION: Corruption = { blur: true, colourJitter: 0.2, noiseSigma: 0.1 };

export function corruptImage(image: RgbImage, corruption: Corruption, seed: number): RgbImage {
  const random = new Random(seed);
  const out = corruption.blur ? boxBlur3x3(image) : cloneRgbImage(image);
  const gains = [0, 1, 2].map(() => random.uniform(1 - corruption.colourJitter, 1 + corruption.colourJitter));
  const { data } = out;
  for (let i = 0; i < data.length; i++) data[i] = data[i] * gains[i % 3] + corruption.noiseSigma * random.normal();
  return clampRgbImage(out);
}
