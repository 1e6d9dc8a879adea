/**
 * The schedulers against fixtures/schedulers/expected.json, which make_expected.py computes with numpy
 * from the published formulas, independently of this code.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alphasCumprod } from '../../src/diffusion/schedulers/alphas.ts';
import { parseSchedulerConfig, type SchedulerConfig } from '../../src/diffusion/schedulers/config.ts';
import { DdimScheduler } from '../../src/diffusion/schedulers/ddim.ts';
import { DdpmScheduler } from '../../src/diffusion/schedulers/ddpm.ts';
import { EulerScheduler } from '../../src/diffusion/schedulers/euler.ts';
import { createScheduler } from '../../src/diffusion/schedulers/scheduler.ts';
import { assertClose, scriptedNoise } from './scheduler-support.ts';

interface StepResult {
  step: number;
  timestep?: number;
  prediction_type: 'epsilon' | 'v_prediction';
  prev_sample: number[];
  original_coefficient?: number;
  sample_coefficient?: number;
  variance?: number;
  sample?: number[];
  scaled_input?: number[];
}
interface StepCase {
  config: 'sd' | 'defaults';
  spacing: 'trailing' | 'leading';
  steps: number;
  results: StepResult[];
}
interface Expected {
  inputs: { sample: number[]; model_output: number[]; noise: number[] };
  configs: Record<'sd' | 'defaults', Record<string, unknown>>;
  timesteps: { spacing: 'trailing' | 'leading' | 'linspace'; steps: number; steps_offset: number; timesteps: number[] }[];
  alphas_cumprod: Record<'sd' | 'defaults', { t: number[]; values: number[] }>;
  ddpm: StepCase;
  ddpm_clipped: StepCase;
  ddim: StepCase;
  ddim_clipped: StepCase;
  euler: { spacing: 'leading' | 'linspace'; steps: number; timesteps: number[]; sigmas: number[]; init_noise_sigma: number; step_results: StepResult[] }[];
}

const expected = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/schedulers/expected.json'), 'utf8')) as Expected;
const sample = Float32Array.from(expected.inputs.sample);
const modelOutput = Float32Array.from(expected.inputs.model_output);

function config(name: 'sd' | 'defaults', overrides: Record<string, unknown> = {}): SchedulerConfig {
  return parseSchedulerConfig({ ...expected.configs[name], ...overrides }, `expected.json ${name}`);
}

/** Runs every step of a case on the fixed inputs and compares the new samples. */
function checkSteps(Scheduler: typeof DdpmScheduler | typeof DdimScheduler, c: StepCase): void {
  const kind = Scheduler.name;
  for (const r of c.results) {
    const scheduler = new Scheduler(config(c.config, { prediction_type: r.prediction_type }), c.steps, c.spacing);
    if (r.timestep !== undefined) assert.equal(scheduler.timesteps[r.step], r.timestep);
    const noise = scriptedNoise(expected.inputs.noise);
    const prev = scheduler.step(modelOutput, r.step, sample, noise);
    assertClose(prev, r.prev_sample, 1e-6, `${kind} step ${r.step} ${r.prediction_type}`);
  }
}

describe('schedulers against expected.json', () => {
  test('timesteps for trailing, leading and linspace spacing', () => {
    for (const c of expected.timesteps) {
      const cfg = config('sd', { steps_offset: c.steps_offset });
      for (const Scheduler of [DdpmScheduler, DdimScheduler]) {
        assert.deepEqual(new Scheduler(cfg, c.steps, c.spacing).timesteps, c.timesteps, `${Scheduler.name} ${c.spacing} ${c.steps}`);
      }
    }
  });

  test('alphas_cumprod of scaled_linear (SD) and linear (diffusers default) betas', () => {
    for (const name of ['sd', 'defaults'] as const) {
      const alphaBar = alphasCumprod(config(name));
      const { t, values } = expected.alphas_cumprod[name];
      assertClose(
        t.map((i) => alphaBar[i]),
        values,
        1e-6,
        name,
      );
    }
  });

  test('DDPM posterior mean coefficients and variance at three steps, the last included', () => {
    const scheduler = new DdpmScheduler(config('sd'), 50, 'trailing');
    for (const r of expected.ddpm.results) {
      const p = scheduler.posterior(r.step);
      assertClose(
        [p.originalCoefficient, p.sampleCoefficient, p.variance],
        [r.original_coefficient!, r.sample_coefficient!, r.variance!],
        1e-6,
        `posterior ${r.step}`,
      );
    }
    assert.equal(scheduler.posterior(49).variance, 0);
  });

  test('DDPM steps (epsilon, v_prediction; with clip_sample), drawing noise at every step but the last', () => {
    checkSteps(DdpmScheduler, expected.ddpm);
    checkSteps(DdpmScheduler, expected.ddpm_clipped);
    const scheduler = createScheduler('ddpm', config('sd'), 50);
    const noise = scriptedNoise(expected.inputs.noise);
    for (let i = 0; i < 50; i++) scheduler.step(modelOutput, i, sample, noise);
    assert.equal(noise.draws, 49);
  });

  test('DDIM steps (epsilon, v_prediction; with clip_sample and set_alpha_to_one)', () => {
    checkSteps(DdimScheduler, expected.ddim);
    checkSteps(DdimScheduler, expected.ddim_clipped);
  });

  test('Euler sigmas, initial noise sigma, model input scaling and steps', () => {
    for (const c of expected.euler) {
      for (const r of c.step_results) {
        const scheduler = new EulerScheduler(config('sd', { prediction_type: r.prediction_type }), c.steps, c.spacing);
        assertClose(scheduler.timesteps, c.timesteps, 1e-12, `${c.spacing} timesteps`);
        assertClose(scheduler.sigmas, c.sigmas, 1e-6, `${c.spacing} sigmas`);
        assertClose(scheduler.initNoiseSigma, c.init_noise_sigma, 1e-6, `${c.spacing} init sigma`);
        const x = Float32Array.from(r.sample!);
        assertClose(scheduler.scaleModelInput(x, r.step), r.scaled_input!, 1e-6, `${c.spacing} scaled input ${r.step}`);
        const prev = scheduler.step(modelOutput, r.step, x);
        assertClose(prev, r.prev_sample, 1e-6, `${c.spacing} step ${r.step} ${r.prediction_type}`);
      }
    }
  });
});
