import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSchedulerConfig } from '../../src/diffusion/schedulers/config.ts';

const FILE = 'sd14/scheduler/scheduler_config.json';

/** Stable Diffusion 1.4's scheduler/scheduler_config.json, as published. */
const SD14 = {
  _class_name: 'PNDMScheduler',
  _diffusers_version: '0.7.0.dev0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
};

describe('scheduler config', () => {
  test("reads SD 1.4's file: its values, diffusers' defaults for the rest, other classes' keys ignored", () => {
    const config = parseSchedulerConfig(SD14, FILE);
    assert.equal(config.beta_schedule, 'scaled_linear');
    assert.equal(config.steps_offset, 1);
    assert.equal(config.prediction_type, 'epsilon');
    assert.equal(config.timestep_spacing, undefined);
    assert.equal(config.variance_type, 'fixed_small');
    assert.ok(!('skip_prk_steps' in config) && !('_class_name' in config));
  });

  test("an empty file means diffusers' defaults", () => {
    assert.deepEqual(parseSchedulerConfig({}, FILE), {
      num_train_timesteps: 1000,
      beta_start: 0.0001,
      beta_end: 0.02,
      beta_schedule: 'linear',
      trained_betas: null,
      prediction_type: 'epsilon',
      steps_offset: 0,
      clip_sample: true,
      clip_sample_range: 1,
      set_alpha_to_one: true,
      variance_type: 'fixed_small',
      thresholding: false,
      rescale_betas_zero_snr: false,
      use_karras_sigmas: false,
      interpolation_type: 'linear',
      timestep_type: 'discrete',
      final_sigmas_type: 'zero',
    });
  });

  test('errors name the file and the key; options this project lacks are refused, not ignored', () => {
    const parse = (value: unknown) => () => parseSchedulerConfig(value, FILE);
    assert.throws(parse({ ...SD14, beta_schedule: 'squaredcos_cap_v2' }), /^Error: sd14\/scheduler\/scheduler_config\.json: beta_schedule: /);
    assert.throws(parse({ prediction_type: 'sample' }), /scheduler_config\.json: prediction_type: /);
    assert.throws(parse({ timestep_spacing: 'evenly' }), /scheduler_config\.json: timestep_spacing: /);
    assert.throws(parse({ use_karras_sigmas: true }), /scheduler_config\.json: use_karras_sigmas: only false is supported/);
    assert.throws(parse({ rescale_betas_zero_snr: true }), /rescale_betas_zero_snr: only false is supported/);
    assert.throws(parse({ num_train_timesteps: 3, trained_betas: [0.1] }), /scheduler_config\.json: trained_betas: must have num_train_timesteps entries/);
  });
});
