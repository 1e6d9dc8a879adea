import type { NoiseSource } from '../noise.ts';
import { alphasCumprod } from './alphas.ts';
import type { SchedulerConfig, TimestepSpacing } from './config.ts';
import { clipOriginal, readPrediction } from './prediction.ts';
import type { Scheduler } from './scheduler.ts';
import { roundHalfEven, spacedTimesteps, timestepAt } from './timesteps.ts';

/** The Gaussian q(x_t' | x_t, x_0) that a DDPM step samples: mean = original * x_0 + sample * x_t. */
export interface DdpmPosterior {
  originalCoefficient: number;
  sampleCoefficient: number;
  variance: number;
}

/**
 * Ancestral DDPM sampling (Ho et al. 2020) over spaced timesteps, as diffusers' DDPMScheduler with
 * the "fixed_small" variance. A step goes from t to the next timestep t' of the schedule (after the
 * last one, to x_0 itself: alpha_bar = 1); diffusers takes t' = t - T // steps, which is the same
 * for leading spacing and for trailing with steps dividing T (the reference's 50).
 */
export class DdpmScheduler implements Scheduler {
  readonly timesteps: readonly number[];
  readonly initNoiseSigma = 1;
  private readonly alphaBar: Float64Array;

  constructor(
    private readonly config: SchedulerConfig,
    steps: number,
    spacing: TimestepSpacing,
  ) {
    this.alphaBar = alphasCumprod(config);
    this.timesteps = spacedTimesteps(spacing, config, steps).map(roundHalfEven);
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  modelInputScale(): number {
    return 1;
  }

  /**
   * With alpha_bar at t and t', and the jump's own alpha = alpha_bar_t / alpha_bar_t', beta = 1 - alpha
   * (DDPM eq. 7, for a jump over several training steps):
   *   mean     = sqrt(alpha_bar_t') beta / (1 - alpha_bar_t) x_0 + sqrt(alpha) (1 - alpha_bar_t') / (1 - alpha_bar_t) x_t
   *   variance = (1 - alpha_bar_t') / (1 - alpha_bar_t) beta
   */
  posterior(stepIndex: number): DdpmPosterior {
    const alphaBarT = this.alphaBar[timestepAt(this.timesteps, stepIndex)];
    const next = this.timesteps[stepIndex + 1];
    const alphaBarPrev = next === undefined ? 1 : this.alphaBar[next];
    const alpha = alphaBarT / alphaBarPrev;
    const beta = 1 - alpha;
    return {
      originalCoefficient: (Math.sqrt(alphaBarPrev) * beta) / (1 - alphaBarT),
      sampleCoefficient: (Math.sqrt(alpha) * (1 - alphaBarPrev)) / (1 - alphaBarT),
      variance: ((1 - alphaBarPrev) / (1 - alphaBarT)) * beta,
    };
  }

  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, noise: NoiseSource): Float32Array {
    const t = timestepAt(this.timesteps, stepIndex);
    const { original } = readPrediction(this.config.prediction_type, modelOutput, sample, this.alphaBar[t]);
    if (this.config.clip_sample) clipOriginal(original, this.config.clip_sample_range);
    const { originalCoefficient, sampleCoefficient, variance } = this.posterior(stepIndex);
    // The last step lands on x_0 (variance 0) and draws nothing, so a stream's later values stay unused.
    const isLast = stepIndex === this.timesteps.length - 1;
    const z = isLast ? null : noise.normal(sample.length);
    const sd = Math.sqrt(variance);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      out[i] = originalCoefficient * original[i] + sampleCoefficient * sample[i] + (z === null ? 0 : sd * z[i]);
    }
    return out;
  }
}
