import type { SchedulerConfig } from './config.ts';

/** n evenly spaced values from `start` to `end`, both included (numpy's linspace). */
export function linspace(start: number, end: number, n: number): number[] {
  if (n === 1) return [start];
  const step = (end - start) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? end : start + i * step));
}

/**
 * The training noise schedule beta_t, t = 0 .. T-1: linear in beta (DDPM's), or linear in
 * sqrt(beta) ("scaled_linear", Stable Diffusion's), unless the config lists them.
 */
export function betas(config: SchedulerConfig): number[] {
  const T = config.num_train_timesteps;
  if (config.trained_betas !== null) return config.trained_betas;
  if (config.beta_schedule === 'linear') return linspace(config.beta_start, config.beta_end, T);
  return linspace(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), T).map((b) => b * b);
}

/** alpha_bar_t = prod_{s <= t} (1 - beta_s): z_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps. */
export function alphasCumprod(config: SchedulerConfig): Float64Array {
  const out = new Float64Array(config.num_train_timesteps);
  let product = 1;
  betas(config).forEach((beta, t) => {
    product *= 1 - beta;
    out[t] = product;
  });
  return out;
}
