import { alphasCumprod } from './alphas.ts';
import type { SchedulerConfig, TimestepSpacing } from './config.ts';
import { readPrediction } from './prediction.ts';
import type { Scheduler } from './scheduler.ts';
import { spacedTimesteps, timestepAt } from './timesteps.ts';

/** np.interp over 0 .. n-1: `values` at a fractional index, linearly between neighbours. */
function interpolate(values: ArrayLike<number>, index: number): number {
  const i = Math.min(Math.floor(index), values.length - 1);
  const next = Math.min(i + 1, values.length - 1);
  return values[i] + (index - i) * (values[next] - values[i]);
}

/**
 * Euler discrete (Karras et al. 2022, Algorithm 2 without churn) as diffusers' EulerDiscreteScheduler.
 * It works on x = z_t / sqrt(alpha_bar_t) = x_0 + sigma eps, sigma = sqrt((1 - alpha_bar) / alpha_bar),
 * and takes one Euler step of dx/dsigma = (x - x_0) / sigma from each step's sigma to the next
 * (the last to 0). The sample it holds is x; the model is given z_t = x / sqrt(sigma^2 + 1).
 */
export class EulerScheduler implements Scheduler {
  readonly timesteps: readonly number[];
  /** sigma at each step, then the final 0. */
  readonly sigmas: readonly number[];
  readonly initNoiseSigma: number;

  constructor(
    private readonly config: SchedulerConfig,
    steps: number,
    spacing: TimestepSpacing,
  ) {
    const trainingSigmas = Array.from(alphasCumprod(config), (alphaBar) => Math.sqrt((1 - alphaBar) / alphaBar));
    this.timesteps = spacedTimesteps(spacing, config, steps);
    this.sigmas = [...this.timesteps.map((t) => interpolate(trainingSigmas, t)), 0];
    // diffusers' rule, kept so that initial latents match: sigma_max for linspace and trailing
    // spacing, sqrt(sigma_max^2 + 1) (the standard deviation of x_0 + sigma eps) for leading.
    const sigmaMax = Math.max(...this.sigmas);
    this.initNoiseSigma = spacing === 'leading' ? Math.sqrt(sigmaMax ** 2 + 1) : sigmaMax;
  }

  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array {
    return Float32Array.from(this.modelInput(sample, stepIndex));
  }

  modelInputScale(stepIndex: number): number {
    return 1 / Math.sqrt(this.sigmaAt(stepIndex) ** 2 + 1);
  }

  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): Float32Array {
    const sigma = this.sigmaAt(stepIndex);
    const sigmaNext = this.sigmas[stepIndex + 1];
    const alphaBar = 1 / (sigma ** 2 + 1);
    const { original } = readPrediction(this.config.prediction_type, modelOutput, this.modelInput(sample, stepIndex), alphaBar);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      const derivative = (sample[i] - original[i]) / sigma;
      out[i] = sample[i] + (sigmaNext - sigma) * derivative;
    }
    return out;
  }

  private sigmaAt(stepIndex: number): number {
    timestepAt(this.timesteps, stepIndex); // throws outside the schedule
    return this.sigmas[stepIndex];
  }

  /** z_t = x / sqrt(sigma^2 + 1), kept in float64 for the step's own use. */
  private modelInput(sample: Float32Array, stepIndex: number): Float64Array {
    const scale = this.modelInputScale(stepIndex);
    return Float64Array.from(sample, (x) => x * scale);
  }
}
