import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { noiseStream } from '../../src/diffusion/noise.ts';
import { parseSchedulerConfig, type SchedulerConfig } from '../../src/diffusion/schedulers/config.ts';
import type { DdpmScheduler } from '../../src/diffusion/schedulers/ddpm.ts';
import { readPrediction } from '../../src/diffusion/schedulers/prediction.ts';
import { createScheduler, type SchedulerKind } from '../../src/diffusion/schedulers/scheduler.ts';
import { assertClose, scriptedNoise } from './scheduler-support.ts';

const KINDS: SchedulerKind[] = ['ddpm', 'ddim', 'euler'];

/**
 * A hand-workable schedule: two training steps with beta = 0.2, so alpha_bar = [0.8, 0.64]; with
 * trailing spacing two sampling steps visit t = 1 then t = 0.
 */
function tiny(prediction: 'epsilon' | 'v_prediction'): SchedulerConfig {
  return parseSchedulerConfig(
    { num_train_timesteps: 2, trained_betas: [0.2, 0.2], timestep_spacing: 'trailing', clip_sample: false, prediction_type: prediction },
    'tiny',
  );
}

describe('v_prediction, worked by hand', () => {
  // At t = 1, sqrt(alpha_bar) = 0.8 and sqrt(1 - alpha_bar) = 0.6. Take x_0 = 0.5, eps = 1: then
  // z = 0.8 * 0.5 + 0.6 * 1 = 1 and v = 0.8 * 1 - 0.6 * 0.5 = 0.5.
  const z = Float32Array.of(1);
  const v = Float32Array.of(0.5);
  const eps = Float32Array.of(1);

  test('x_0 and eps from v', () => {
    const fromV = readPrediction('v_prediction', v, z, 0.64);
    assertClose(fromV.original, [0.5]);
    assertClose(fromV.noise, [1]);
    assertClose(readPrediction('epsilon', eps, z, 0.64).original, [0.5]);
  });

  test('each scheduler steps the same from v = 0.5 as from eps = 1', () => {
    // DDIM to t = 0: sqrt(0.8) * 0.5 + sqrt(0.2) * 1 = sqrt(0.8).
    // DDPM to t = 0: alpha = 0.64 / 0.8 = 0.8, beta = 0.2; both coefficients are sqrt(0.8) * 0.2 / 0.36,
    //   so with zero noise x = sqrt(0.8) * (5/9) * (0.5 + 1) = sqrt(0.8) * 5/6.
    // Euler on x = z / 0.8 = 1.25 with sigma = 0.75 -> 0.5: x_0 = 0.5, dx/dsigma = (1.25 - 0.5) / 0.75 = 1,
    //   so x = 1.25 - 0.25 = 1 (= x_0 + 0.5 eps: exact here).
    const byHand: Record<SchedulerKind, { sample: number; next: number }> = {
      ddim: { sample: 1, next: Math.sqrt(0.8) },
      ddpm: { sample: 1, next: (Math.sqrt(0.8) * 5) / 6 },
      euler: { sample: 1.25, next: 1 },
    };
    for (const kind of KINDS) {
      const x = Float32Array.of(byHand[kind].sample);
      for (const [prediction, output] of [
        ['v_prediction', v],
        ['epsilon', eps],
      ] as const) {
        const scheduler = createScheduler(kind, tiny(prediction), 2);
        assert.deepEqual(scheduler.timesteps, [1, 0]);
        assertClose(scheduler.step(output, 0, x, scriptedNoise([0])), [byHand[kind].next], 1e-6, `${kind} ${prediction}`);
      }
    }
    const ddpm = createScheduler('ddpm', tiny('epsilon'), 2) as DdpmScheduler;
    assertClose(ddpm.posterior(0).variance, (0.2 / 0.36) * 0.2);
  });
});

describe('createScheduler', () => {
  const sd = parseSchedulerConfig({ beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, steps_offset: 1, clip_sample: false }, 'sd');

  test("DDPM and DDIM are the reference's, trailing whatever the file says; Euler follows the file or diffusers' default", () => {
    for (const kind of ['ddpm', 'ddim'] as const) {
      for (const spacing of [undefined, 'leading', 'linspace'] as const) {
        const timesteps = createScheduler(kind, { ...sd, timestep_spacing: spacing }, 50).timesteps;
        assert.deepEqual([timesteps[0], timesteps.at(-1)], [999, 19], `${kind} ${spacing}`);
      }
    }
    assertClose(createScheduler('euler', sd, 50).timesteps[1], (999 * 48) / 49, 1e-12); // linspace, unrounded
    assert.equal(createScheduler('euler', { ...sd, timestep_spacing: 'leading' }, 50).timesteps[0], 981);
  });

  test('DDPM and DDIM give the model its sample; Euler scales it and its initial noise', () => {
    const x = Float32Array.of(2, -4);
    for (const kind of ['ddpm', 'ddim'] as const) {
      const scheduler = createScheduler(kind, sd, 10);
      assert.equal(scheduler.initNoiseSigma, 1);
      assert.deepEqual(scheduler.scaleModelInput(x, 0), x);
    }
    const euler = createScheduler('euler', { ...sd, timestep_spacing: 'trailing' }, 10);
    assert.ok(euler.initNoiseSigma > 14 && euler.initNoiseSigma < 15);
    assertClose(euler.scaleModelInput(x, 0), [2 / Math.hypot(euler.initNoiseSigma, 1), -4 / Math.hypot(euler.initNoiseSigma, 1)]);
  });

  test("modelInputScale is the factor scaleModelInput applies (the chain rule's factor for a gradient taken at the model's input)", () => {
    const x = Float32Array.of(3, -0.5);
    for (const kind of ['ddpm', 'ddim', 'euler'] as const) {
      const scheduler = createScheduler(kind, sd, 10);
      for (let i = 0; i < 10; i++) {
        const scale = scheduler.modelInputScale(i);
        assertClose(scheduler.scaleModelInput(x, i), [3 * scale, -0.5 * scale], 1e-6);
        if (kind !== 'euler') assert.equal(scale, 1);
      }
    }
    const euler = createScheduler('euler', sd, 10);
    assert.ok(euler.modelInputScale(0) < euler.modelInputScale(9), 'the scale grows as sigma falls');
  });

  test('rejects step counts outside [1, T], schedules that pass T - 1, and steps outside the schedule', () => {
    assert.throws(() => createScheduler('ddpm', sd, 0), /steps must be an integer in \[1, 1000\]/);
    assert.throws(() => createScheduler('euler', sd, 1001), /steps must be/);
    assert.throws(() => createScheduler('euler', { ...sd, timestep_spacing: 'leading' }, 1000), /1000 leading steps offset by 1 pass t = 999/);
    const scheduler = createScheduler('ddim', sd, 10);
    assert.throws(() => scheduler.step(new Float32Array(4), 10, new Float32Array(4), scriptedNoise([])), /step 10 is outside the 10-step schedule/);
    assert.throws(() => scheduler.step(new Float32Array(3), 0, new Float32Array(4), scriptedNoise([])), /model output has 3 values, the sample 4/);
  });

  test('a whole sampling run is deterministic per (seed, image) and leaves its inputs alone', () => {
    /** Ten steps of a stand-in model (eps = 0.1 x) from the image's own noise stream. */
    const run = (kind: SchedulerKind, seed: number, image: number) => {
      const scheduler = createScheduler(kind, { ...sd, timestep_spacing: 'trailing' }, 10);
      const noise = noiseStream(seed, image);
      let x: Float32Array = noise.normal(64).map((n) => n * scheduler.initNoiseSigma);
      for (let i = 0; i < scheduler.timesteps.length; i++) {
        const input = scheduler.scaleModelInput(x, i);
        const before = Float32Array.from(x);
        const next = scheduler.step(
          input.map((v) => 0.1 * v),
          i,
          x,
          noise,
        );
        assert.deepEqual(x, before);
        x = next;
      }
      return Array.from(x);
    };
    for (const kind of KINDS) {
      const first = run(kind, 42, 0);
      assert.ok(first.every(Number.isFinite));
      assert.deepEqual(run(kind, 42, 0), first, kind);
      assert.notDeepEqual(run(kind, 42, 1), first, kind);
    }
  });
});
