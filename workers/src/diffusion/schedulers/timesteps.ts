import { linspace } from './alphas.ts';
import type { SchedulerConfig, TimestepSpacing } from './config.ts';

/** Round half to even, as numpy's round does (diffusers rounds timesteps with it). */
export function roundHalfEven(x: number): number {
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
}

/**
 * The training timesteps that `steps` sampling steps visit, in sampling (descending) order, spaced as
 * diffusers' `set_timesteps` spaces them for T = num_train_timesteps:
 *   leading:  round(arange(0, steps) * (T // steps)) + steps_offset, reversed
 *   trailing: round(arange(T, 0, -T / steps)) - 1   (ends at T/steps - 1, so the last step is not t = 0)
 *   linspace: linspace(0, T - 1, steps), reversed, unrounded (DDPM and DDIM round it, Euler does not)
 * Trailing takes exactly `steps` values, where numpy's arange of a float step sometimes makes one
 * more, ending at t = -1 (diffusers' bug for e.g. 61 steps).
 */
export function spacedTimesteps(spacing: TimestepSpacing, config: SchedulerConfig, steps: number): number[] {
  const T = config.num_train_timesteps;
  if (!Number.isInteger(steps) || steps < 1 || steps > T) {
    throw new Error(`scheduler: steps must be an integer in [1, ${T}], got ${steps}`);
  }
  const indices = Array.from({ length: steps }, (_, i) => i);
  switch (spacing) {
    case 'leading': {
      const ratio = Math.floor(T / steps);
      const first = (steps - 1) * ratio + config.steps_offset;
      if (first > T - 1) throw new Error(`scheduler: ${steps} leading steps offset by ${config.steps_offset} pass t = ${T - 1}`);
      return indices.map((i) => first - i * ratio);
    }
    case 'trailing': {
      // numpy's arange fills start + i * ((start + step) - start); copying that keeps the ties
      // rounding as diffusers' do (48 steps: 937.4999.., not 937.5).
      const delta = T - T / steps - T;
      return indices.map((i) => roundHalfEven(T + i * delta) - 1);
    }
    case 'linspace':
      return linspace(0, T - 1, steps).reverse();
  }
}

/** The timestep of step `stepIndex`; a step outside the schedule is a caller's bug, so it throws. */
export function timestepAt(timesteps: readonly number[], stepIndex: number): number {
  const t = timesteps[stepIndex];
  if (t === undefined) throw new Error(`scheduler: step ${stepIndex} is outside the ${timesteps.length}-step schedule`);
  return t;
}
