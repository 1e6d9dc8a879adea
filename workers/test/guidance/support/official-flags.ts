/**
 * The official InfSplign command line's flags (`pipeline_batch.py ARGV`, as the fixtures in
 * fixtures/infsplign-official record them) as docs/method.md §4 parameters.
 */
import assert from 'node:assert/strict';

/**
 * How the official command line reads each flag (pipeline_batch.py get_config, generate_images): no
 * `type=`, so a given flag is a string, then float(), int(), bool() (Python truthiness: only "" is
 * false) or nothing. Flags that only pick the benchmark's prompt path are not parameters.
 */
const FLAG_KINDS: Record<string, 'float' | 'int' | 'bool' | 'string' | 'context'> = {
  alpha: 'float',
  margin: 'float',
  leaky_relu_slope: 'float',
  lambda_spatial: 'float',
  lambda_presence: 'float',
  lambda_balance: 'float',
  masked_mean_thresh: 'float',
  masked_mean_weight: 'float',
  sg_grad_wt: 'float',
  target_guidance: 'float',
  loss_num: 'int',
  sg_t_start: 'int',
  sg_t_end: 'int',
  num_inference_steps: 'int',
  num_attn_layers: 'int',
  L2_norm: 'bool',
  gaussian_smoothing: 'bool',
  masked_mean: 'bool',
  object_presence: 'bool',
  no_wt: 'bool',
  two_objects: 'bool',
  update_latents: 'bool',
  grad_norm_scale: 'bool',
  use_energy: 'bool',
  self_guidance_mode: 'bool',
  use_clip_loss: 'bool',
  loss_type: 'string',
  energy_loss: 'string',
  strategy: 'string',
  top_loss: 'string',
  top_strategy: 'string',
  centroid_type: 'string',
  benchmark: 'context',
  do_multiprocessing: 'context',
};

/** The official flags as JSON parameters (a value Python's int() refuses stays a number, for the engine to refuse). */
export function paramsOfFlags(argv: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (let k = 0; k < argv.length; k += 2) {
    const name = argv[k]!.replace(/^--/, '');
    const text = argv[k + 1]!;
    const kind = FLAG_KINDS[name];
    assert.ok(kind, `no reading known for the official flag --${name}`);
    if (kind === 'context') continue;
    params[name] = kind === 'bool' ? text !== '' : kind === 'string' ? text : Number(text);
  }
  return params;
}

/** The tolerance of issue 15: 1e-4 relative with an absolute floor of 1e-6. */
export const RELATIVE = 1e-4;
export const ABSOLUTE = 1e-6;

/** Tracks the largest relative error seen, for the report a test file prints. */
export class ErrorReport {
  worst = { relative: 0, what: '' };

  /** `actual` within RELATIVE of `expected` (relative to `scale`, the value itself unless given), ABSOLUTE at least. */
  close(actual: unknown, expected: number, what: string, scale = Math.abs(expected)): void {
    assert.equal(typeof actual, 'number', `${what}: expected a number, got ${JSON.stringify(actual)}`);
    const error = Math.abs((actual as number) - expected);
    assert.ok(error <= Math.max(RELATIVE * scale, ABSOLUTE), `${what}: got ${actual as number}, official ${expected} (|error| ${error.toExponential(2)})`);
    const relative = error / Math.max(scale, ABSOLUTE / RELATIVE);
    if (relative > this.worst.relative) this.worst = { relative, what };
  }

  toString(): string {
    return `largest relative error ${this.worst.relative.toExponential(2)} (${this.worst.what})`;
  }
}
