import { alphasCumprod } from './alphas.ts';
import type { SchedulerConfig, TimestepSpacing } from './config.ts';
import { clipOriginal, readPrediction } from './prediction.ts';
import type { Scheduler } from './scheduler.ts';
import { roundHalfEven, spacedTimesteps, timestepAt } from './timesteps.ts';

/**
 * Deterministic DDIM (Song et al. 2021, eta = 0) as diffusers' DDIMScheduler: from t to the next
 * timestep t' of the schedule,
 *   x_t' = sqrt(alpha_bar_t') x_0 + sqrt(1 - alpha_bar_t') eps     (eq. 12 with sigma_t = 0)
 * where x_0 and eps are what the model output implies (x_0 clipped if the config says so; eps is
 * not recomputed from the clipped x_0, as in diffusers' default). After the last step alpha_bar is
 * 1 (`set_alpha_to_one`) or alpha_bar_0.
 */
export class DdimScheduler implements Scheduler {
  readonly timesteps: readonly number[];
  readonly initNoiseSigma = 1;
  private readonly alphaBar: Float64Array;
  private readonly finalAlphaBar: number;

  constructor(
    private readonly config: SchedulerConfig,
    steps: number,
    spacing: TimestepSpacing,
  ) {
    this.alphaBar = alphasCumprod(config);
    this.finalAlphaBar = config.set_alpha_to_one ? 1 : this.alphaBar[0];
    this.timesteps = spacedTimesteps(spacing, config, steps).map(roundHalfEven);
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  modelInputScale(): number {
    return 1;
  }

  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): Float32Array {
    const t = timestepAt(this.timesteps, stepIndex);
    const next = this.timesteps[stepIndex + 1];
    const alphaBarPrev = next === undefined ? this.finalAlphaBar : this.alphaBar[next];
    const { original, noise } = readPrediction(this.config.prediction_type, modelOutput, sample, this.alphaBar[t]);
    if (this.config.clip_sample) clipOriginal(original, this.config.clip_sample_range);
    const a = Math.sqrt(alphaBarPrev);
    const b = Math.sqrt(1 - alphaBarPrev);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) out[i] = a * original[i] + b * noise[i];
    return out;
  }
}
