import type { NoiseSource } from '../noise.ts';
import type { SchedulerConfig, TimestepSpacing } from './config.ts';
import { DdimScheduler } from './ddim.ts';
import { DdpmScheduler } from './ddpm.ts';
import { EulerScheduler } from './euler.ts';

export type { NoiseSource };

export type SchedulerKind = 'ddpm' | 'ddim' | 'euler';

/** A sampler over one image's latent; the pipeline loops over its batch, so each image keeps its own noise stream. */
export interface Scheduler {
  /** The model's timestep at each step, in sampling order (fractional for Euler with linspace spacing). */
  readonly timesteps: readonly number[];
  /** Multiply the initial latent noise by this. */
  readonly initNoiseSigma: number;
  /** What the model is given at step `stepIndex` (identity for DDPM and DDIM). */
  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array;
  /**
   * The factor `scaleModelInput` multiplies the sample by at step `stepIndex` (1 for DDPM and DDIM).
   * A gradient with respect to the model's input times this is the gradient with respect to the
   * sample (the chain rule through the scaling), which is what guidance differentiates.
   */
  modelInputScale(stepIndex: number): number;
  /** One image's update: x_t -> x_{t-1}, given the (guided, CFG-combined) model output. */
  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, noise: NoiseSource): Float32Array;
}

/**
 * How each kind spaces its timesteps (docs/method.md §1). DDPM and DDIM are the reference's samplers,
 * which it builds with trailing spacing whatever the model's file says (SDXL's file says "leading").
 * The reference has no Euler: it follows the file, or diffusers' default (linspace) when the file
 * names none (SD 1.x's does not).
 */
function spacingFor(kind: SchedulerKind, config: SchedulerConfig): TimestepSpacing {
  if (kind === 'ddpm' || kind === 'ddim') return 'trailing';
  return config.timestep_spacing ?? 'linspace';
}

/** A `steps`-step scheduler of the given kind over the training schedule of the model's config. */
export function createScheduler(kind: SchedulerKind, config: SchedulerConfig, steps: number): Scheduler {
  const spacing = spacingFor(kind, config);
  switch (kind) {
    case 'ddpm':
      return new DdpmScheduler(config, steps, spacing);
    case 'ddim':
      return new DdimScheduler(config, steps, spacing);
    case 'euler':
      return new EulerScheduler(config, steps, spacing);
  }
}
