import { z } from 'zod';
import { describeZodError } from '../../util/read-data-file.ts';

/**
 * A key whose other values this project does not implement: only diffusers' default is accepted,
 * so a model that needs something else fails loudly instead of sampling differently.
 */
function onlyDefault<T extends string | boolean>(value: T) {
  return z.literal(value, { error: `only ${JSON.stringify(value)} is supported` }).default(value);
}

/**
 * diffusers' `scheduler/scheduler_config.json`, with diffusers' defaults for absent keys. One file
 * serves every scheduler class (diffusers' `from_config` reads what it knows), so keys of other
 * classes and unknown keys are ignored.
 */
export const schedulerConfigSchema = z
  .object({
    num_train_timesteps: z.number().int().positive().default(1000),
    beta_start: z.number().positive().default(0.0001),
    beta_end: z.number().positive().default(0.02),
    beta_schedule: z.enum(['linear', 'scaled_linear']).default('linear'),
    trained_betas: z.array(z.number().gt(0).lt(1)).nullable().default(null),
    prediction_type: z.enum(['epsilon', 'v_prediction']).default('epsilon'),
    /** Absent means the scheduler class's own default (see createScheduler, which also fixes DDPM's). */
    timestep_spacing: z.enum(['leading', 'trailing', 'linspace']).optional(),
    steps_offset: z.number().int().nonnegative().default(0),
    clip_sample: z.boolean().default(true),
    clip_sample_range: z.number().positive().default(1),
    set_alpha_to_one: z.boolean().default(true),
    // Both give the posterior standard deviation sqrt(beta~_t); "_log" only computes it through a log.
    variance_type: z.enum(['fixed_small', 'fixed_small_log']).default('fixed_small'),
    thresholding: onlyDefault(false),
    rescale_betas_zero_snr: onlyDefault(false),
    use_karras_sigmas: onlyDefault(false),
    interpolation_type: onlyDefault('linear'),
    timestep_type: onlyDefault('discrete'),
    final_sigmas_type: onlyDefault('zero'),
  })
  .refine((c) => c.trained_betas === null || c.trained_betas.length === c.num_train_timesteps, {
    message: 'must have num_train_timesteps entries',
    path: ['trained_betas'],
  });

export type SchedulerConfig = z.output<typeof schedulerConfigSchema>;
export type TimestepSpacing = NonNullable<SchedulerConfig['timestep_spacing']>;
export type PredictionType = SchedulerConfig['prediction_type'];

/** Validates the JSON of a `scheduler_config.json`; errors name `source` (the file) and the key. */
export function parseSchedulerConfig(value: unknown, source: string): SchedulerConfig {
  const result = schedulerConfigSchema.safeParse(value);
  if (!result.success) throw new Error(`${source}: ${describeZodError(result.error)}`);
  return result.data;
}
