import type { PredictionType } from './config.ts';

/**
 * The clean sample x_0 and the noise eps that a model output m implies at
 * z_t = sqrt(alpha_bar) x_0 + sqrt(1 - alpha_bar) eps. An epsilon model predicts eps; a
 * v_prediction model predicts v = sqrt(alpha_bar) eps - sqrt(1 - alpha_bar) x_0, so
 *   x_0 = sqrt(alpha_bar) z_t - sqrt(1 - alpha_bar) v,   eps = sqrt(alpha_bar) v + sqrt(1 - alpha_bar) z_t.
 * Worked in float64, element by element.
 */
export function readPrediction(
  type: PredictionType,
  modelOutput: Float32Array,
  sample: ArrayLike<number>,
  alphaBar: number,
): { original: Float64Array; noise: Float64Array } {
  if (modelOutput.length !== sample.length) {
    throw new Error(`scheduler: the model output has ${modelOutput.length} values, the sample ${sample.length}`);
  }
  const a = Math.sqrt(alphaBar);
  const b = Math.sqrt(1 - alphaBar);
  const original = new Float64Array(sample.length);
  const noise = new Float64Array(sample.length);
  for (let i = 0; i < sample.length; i++) {
    const z = sample[i];
    const m = modelOutput[i];
    if (type === 'epsilon') {
      noise[i] = m;
      original[i] = (z - b * m) / a;
    } else {
      original[i] = a * z - b * m;
      noise[i] = a * m + b * z;
    }
  }
  return { original, noise };
}

/** Clamps x_0 in place to [-range, range] (diffusers' `clip_sample`). */
export function clipOriginal(original: Float64Array, range: number): void {
  for (let i = 0; i < original.length; i++) original[i] = Math.min(range, Math.max(-range, original[i]));
}
