import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ACTIVATIONS,
  ENERGIES,
  PARAM_NAMES,
  STRATEGIES,
  defaultParams,
  referenceLayerPatterns,
  resolveParams,
  type MethodParams,
} from '../../src/contracts/method-params.ts';
import { REFUSED_OPTIONS } from '../../src/contracts/refused-options.ts';
import { canonicalConfig, canonicalJson, configHash, SAMPLER_VERSION } from '../../src/contracts/run-config.ts';

const SD = defaultParams('sd1');

/** The message of the error `body` throws. */
function errorOf(body: () => unknown): string {
  try {
    body();
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('expected an error');
}

describe('defaults', () => {
  test('SD 1.x / 2.x follow docs/method.md §1 and §4, with the six up_blocks.{1,2} layers', () => {
    const params = resolveParams(SD);
    assert.deepEqual(params, {
      guidance_weight: 1000,
      cfg_scale: 7.5,
      steps: 50,
      scheduler: 'ddpm',
      guide_steps: [0, 50],
      layers: ['up_blocks.{1,2}.attentions.{0,1,2}.transformer_blocks.0.attn2'],
      map_size: 64,
      loss_type: 'gelu',
      alpha: 0.75,
      margin: 0.25,
      leaky_relu_slope: 0.05,
      energy_loss: 'var',
      strategy: 'diff',
      top_loss: 'var',
      top_strategy: 'dec',
      lambda_spatial: 1,
      lambda_presence: 1,
      lambda_balance: 1,
      loss_num: 1,
      L2_norm: false,
      gaussian_smoothing: false,
      masked_mean: false,
      masked_mean_thresh: 0,
      masked_mean_weight: 0,
      object_presence: false,
      no_wt: true,
      object_tokens: 'last_word',
      token_alignment: 'reference',
    });
    assert.deepEqual(resolveParams(defaultParams('sd2')), params);
    assert.equal(resolveParams(defaultParams('sdxl')).token_alignment, 'reference');
    assert.equal(defaultParams('custom').token_alignment, 'correct', 'no published numbers to reproduce for other models');
  });

  test('SDXL: CFG 5.0 and the three transformer blocks of up_blocks.0.attentions.1', () => {
    const params = resolveParams(defaultParams('sdxl'));
    assert.equal(params.cfg_scale, 5);
    assert.deepEqual(params.layers, ['up_blocks.0.attentions.1.transformer_blocks.{1,2,3}.attn2']);
  });

  test('a custom model must bring its CFG scale and layers (from infsplign.json or the caller)', () => {
    assert.equal(
      errorOf(() => resolveParams(defaultParams('custom'))),
      "method parameters: cfg_scale: no default for this model; set it in the model folder's infsplign.json or in the parameters",
    );
    assert.match(
      errorOf(() => resolveParams({ ...defaultParams('custom'), cfg_scale: 3 })),
      /^method parameters: layers: no default/,
    );
    const params = resolveParams({ ...defaultParams('custom'), cfg_scale: 3, steps: 10, layers: ['up_attn.*.transformer_blocks.0.attn2'], map_size: 8 });
    assert.deepEqual([params.cfg_scale, params.guide_steps, params.map_size, params.guidance_weight], [3, [0, 10], 8, 1000]);
  });
});

describe('resolveParams', () => {
  test('overrides replace defaults key by key', () => {
    const params = resolveParams({ ...SD, alpha: 1.5 }, { margin: 0.5, lambda_spatial: 0.5, scheduler: 'euler' });
    assert.deepEqual([params.alpha, params.margin, params.lambda_spatial, params.scheduler, params.cfg_scale], [1.5, 0.5, 0.5, 'euler', 7.5]);
  });

  test('guide_steps is every step unless set, and must end within the steps', () => {
    assert.deepEqual(resolveParams(SD, { steps: 20 }).guide_steps, [0, 20]);
    assert.deepEqual(resolveParams(SD, { steps: 20, guide_steps: [2, 10] }).guide_steps, [2, 10]);
    assert.deepEqual(resolveParams(SD, { guide_steps: [5, 5] }).guide_steps, [5, 5]);
    assert.equal(
      errorOf(() => resolveParams(SD, { steps: 20, guide_steps: [0, 30] }, '--params')),
      '--params: guide_steps: [0, 30) goes past the last step (steps is 20)',
    );
    assert.equal(
      errorOf(() => resolveParams(SD, { guide_steps: [6, 5] }, '--params')),
      '--params: guide_steps: the start of [start, end) must not exceed its end',
    );
    assert.match(
      errorOf(() => resolveParams(SD, { guide_steps: [0] }, '--params')),
      /^--params: guide_steps/,
    );
  });

  test('unknown keys are errors that name the key', () => {
    const message = errorOf(() => resolveParams(SD, { guidance_scale: 7.5 }, '--params'));
    assert.ok(message.startsWith("--params: unknown parameter 'guidance_scale' (known: guidance_weight, cfg_scale,"), message);
  });

  test('every value is checked, and the error gives its path', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ guidance_weight: '1000' }, /^x: guidance_weight: Invalid input: expected number/],
      [{ guidance_weight: Number.POSITIVE_INFINITY }, /^x: guidance_weight: /],
      [{ cfg_scale: -1 }, /^x: cfg_scale: /],
      [{ steps: 0 }, /^x: steps: /],
      [{ steps: 2.5 }, /^x: steps: /],
      [{ steps: 1001 }, /^x: steps: /],
      [{ scheduler: 'dpm' }, /^x: scheduler: Invalid option/],
      [{ guide_steps: [0, 1.5] }, /^x: guide_steps\[1\]: /],
      [{ layers: [] }, /^x: layers: at least one layer pattern is needed$/],
      [{ layers: 'up_blocks.1' }, /^x: layers: /],
      [{ layers: ['up_blocks.1', ' '] }, /^x: layers\[1\]: a layer pattern must not be empty$/],
      [
        { layers: ['/tran(([a-z0-9_]+[.]?)+)+X$/'] },
        /^x: layers\[0\]: layer pattern '\/tran.*': regular expressions are not accepted; write a dotted module path/,
      ],
      [{ layers: ['up_blocks.{1,2'] }, /^x: layers\[0\]: layer pattern 'up_blocks.\{1,2': the '\{' at 11 is not closed$/],
      [{ layers: ['up_blocks.[12]'] }, /^x: layers\[0\]: layer pattern 'up_blocks.\[12\]': '\[' \(at 11\) is not allowed/],
      [{ layers: ['up_blocks.{1,*}'] }, /^x: layers\[0\]: .*alternatives are plain text/],
      [{ layers: ['up_blocks..1'] }, /^x: layers\[0\]: .*has an empty segment/],
      [{ layers: ['a'.repeat(201)] }, /^x: layers\[0\]: a layer pattern is at most 200 characters$/],
      [{ layers: Array.from({ length: 101 }, (_, k) => `up_blocks.${k}`) }, /^x: layers: at most 100 layer patterns$/],
      [{ layers: Array.from({ length: 100 }, () => 'a'.repeat(200)) }, /^x: method parameters are \d+ bytes of JSON, over the limit of 16384$/],
      [{ map_size: 0 }, /^x: map_size: /],
      [
        { loss_type: 'tanh' },
        /^x: loss_type: "tanh" is not one of the reference's 15 activations \(gelu, relu, .*\): with any other, its spatial_loss raises$/,
      ],
      [{ alpha: null }, /^x: alpha: /],
      [
        { energy_loss: 'entropie' },
        /^x: energy_loss: "entropie" is not an energy the reference knows \(var, log, .*; "" is none\): it would silently compute 0 there$/,
      ],
      [{ strategy: 'max' }, /^x: strategy: /],
      [{ top_loss: 'mass' }, /^x: top_loss: /],
      [{ top_strategy: 'max' }, /^x: top_strategy: /],
      [{ lambda_presence: '1' }, /^x: lambda_presence: /],
      [{ object_tokens: 'first_word' }, /^x: object_tokens: /],
      [{ token_alignment: 'bpe' }, /^x: token_alignment: /],
    ];
    for (const [overrides, expected] of cases)
      assert.match(
        errorOf(() => resolveParams(SD, overrides, 'x')),
        expected,
        JSON.stringify(overrides),
      );
    assert.match(
      errorOf(() => resolveParams(SD, 'alpha=1', 'x')),
      /^x: Invalid input: expected object/,
    );
  });

  test('every activation and strategy of docs/method.md is accepted', () => {
    assert.equal(ACTIVATIONS.length, 15);
    for (const loss_type of ACTIVATIONS) assert.equal(resolveParams(SD, { loss_type }).loss_type, loss_type);
    for (const strategy of STRATEGIES) assert.equal(resolveParams(SD, { strategy, top_strategy: strategy }).top_strategy, strategy);
  });

  test('PARAM_NAMES lists the docs/method.md §4 table', () => {
    assert.deepEqual([...PARAM_NAMES].sort(), Object.keys(resolveParams(SD)).sort());
    assert.equal(PARAM_NAMES.length, 28);
  });
});

describe('the official options (docs/method.md §4.1, §4.2)', () => {
  test('every energy and strategy, the reference\'s "" reading as none', () => {
    for (const energy of ENERGIES) assert.equal(resolveParams(SD, { energy_loss: energy, top_loss: energy }).top_loss, energy);
    const params = resolveParams(SD, { energy_loss: '', top_loss: '', strategy: '', top_strategy: '' });
    assert.deepEqual([params.energy_loss, params.top_loss, params.strategy, params.top_strategy], ['none', 'none', 'none', 'none']);
  });

  test('typed values: loss_num 1 to 3, booleans as JSON booleans, finite numbers', () => {
    const params = resolveParams(SD, {
      loss_num: 3,
      L2_norm: true,
      gaussian_smoothing: true,
      masked_mean: true,
      masked_mean_thresh: 0.9,
      masked_mean_weight: 2,
      object_presence: true,
      no_wt: false,
    });
    assert.deepEqual(
      [
        params.loss_num,
        params.L2_norm,
        params.gaussian_smoothing,
        params.masked_mean,
        params.masked_mean_thresh,
        params.masked_mean_weight,
        params.object_presence,
        params.no_wt,
      ],
      [3, true, true, true, 0.9, 2, true, false],
    );
    const refused: Array<[Record<string, unknown>, RegExp]> = [
      [{ loss_num: 0 }, /^x: loss_num: loss_num must be 1, 2 or 3: with any other value the reference silently drops the spatial term/],
      [{ loss_num: 4 }, /^x: loss_num: loss_num must be 1, 2 or 3/],
      [{ loss_num: 1.5 }, /^x: loss_num: loss_num must be an integer \(the reference calls int\(\) on it and raises\)$/],
      [{ no_wt: 'False' }, /^x: no_wt: Invalid input: expected boolean/],
      [{ masked_mean_thresh: '0.9' }, /^x: masked_mean_thresh: /],
    ];
    for (const [overrides, expected] of refused)
      assert.match(
        errorOf(() => resolveParams(SD, overrides, 'x')),
        expected,
        JSON.stringify(overrides),
      );
  });

  test("sg_t_start and sg_t_end write guide_steps: a missing one is the reference's default, a negative or late end every step", () => {
    assert.deepEqual(resolveParams(SD, { sg_t_start: 5 }).guide_steps, [5, 50]);
    assert.deepEqual(resolveParams(SD, { sg_t_end: 10 }).guide_steps, [0, 10]);
    assert.deepEqual(resolveParams(SD, { sg_t_end: -5 }).guide_steps, [0, 50]);
    assert.deepEqual(resolveParams(SD, { sg_t_end: 0 }).guide_steps, [0, 0]);
    assert.deepEqual(resolveParams(SD, { num_inference_steps: 20, sg_t_start: 2, sg_t_end: 50 }).guide_steps, [2, 20]);
    assert.deepEqual(resolveParams({ ...SD, guide_steps: [3, 9] }, { sg_t_end: 40 }).guide_steps, [0, 40], "the alias replaces the model's guide_steps");
    assert.deepEqual(resolveParams({ ...SD, sg_t_start: 4 }, { guide_steps: [1, 2] }).guide_steps, [1, 2], "and guide_steps the model's alias");
    assert.equal(
      errorOf(() => resolveParams(SD, { guide_steps: [0, 5], sg_t_end: 5 }, 'x')),
      'x: guide_steps and sg_t_end are two names for one setting; give one',
    );
    assert.equal(
      errorOf(() => resolveParams(SD, { steps: 5, num_inference_steps: 5 }, 'x')),
      'x: steps and num_inference_steps are two names for one setting; give one',
    );
    assert.match(
      errorOf(() => resolveParams(SD, { sg_t_start: -1 }, 'x')),
      /^x: sg_t_start: sg_t_start must be at least 0$/,
    );
    assert.equal(resolveParams(SD, { num_inference_steps: 20 }).steps, 20);
  });

  test("num_attn_layers writes layers: the first n of the reference's nine, 0 every cross-attention layer; SD 1.x/2.x only", () => {
    const layers = (n: number) => resolveParams(SD, { num_attn_layers: n }, 'x', 'sd2').layers;
    assert.deepEqual(layers(6), resolveParams(SD).layers, 'six is the default configuration');
    assert.equal(
      configHash(canonicalConfig('infsplign', resolveParams(SD, { num_attn_layers: 6 }, 'x', 'sd1'))),
      configHash(canonicalConfig('infsplign', resolveParams(SD))),
    );
    assert.deepEqual(layers(1), ['up_blocks.1.attentions.0.transformer_blocks.0.attn2']);
    assert.deepEqual(layers(2), ['up_blocks.1.attentions.{0,1}.transformer_blocks.0.attn2']);
    assert.deepEqual(layers(4), ['up_blocks.1.attentions.{0,1,2}.transformer_blocks.0.attn2', 'up_blocks.2.attentions.0.transformer_blocks.0.attn2']);
    assert.deepEqual(layers(9), ['up_blocks.{1,2,3}.attentions.{0,1,2}.transformer_blocks.0.attn2']);
    assert.deepEqual(layers(0), ['attn2']);
    assert.deepEqual(referenceLayerPatterns(8), [
      'up_blocks.{1,2}.attentions.{0,1,2}.transformer_blocks.0.attn2',
      'up_blocks.3.attentions.{0,1}.transformer_blocks.0.attn2',
    ]);
    assert.match(
      errorOf(() => resolveParams(defaultParams('sdxl'), { num_attn_layers: 3 }, 'x', 'sdxl')),
      /^x: num_attn_layers is refused for this sdxl model: the reference ignores it for SDXL/,
    );
    assert.match(
      errorOf(() => resolveParams(SD, { num_attn_layers: 3 }, 'x')),
      /^x: num_attn_layers is refused for this custom model/,
    );
    assert.match(
      errorOf(() => resolveParams(SD, { num_attn_layers: -1 }, 'x', 'sd1')),
      /^x: num_attn_layers: .*a Python slice from the end/,
    );
    assert.match(
      errorOf(() => resolveParams(SD, { num_attn_layers: 10 }, 'x', 'sd1')),
      /^x: num_attn_layers: num_attn_layers is at most 9/,
    );
    assert.equal(
      errorOf(() => resolveParams(SD, { num_attn_layers: 2, layers: ['a'] }, 'x', 'sd1')),
      'x: layers and num_attn_layers are two names for one setting; give one',
    );
  });

  test('centroid_type mean and two_objects true are what the method does; their other values crash the reference', () => {
    assert.deepEqual(resolveParams(SD, { centroid_type: 'mean', two_objects: true }), resolveParams(SD));
    assert.match(
      errorOf(() => resolveParams(SD, { centroid_type: 'sg' }, 'x')),
      /^x: centroid_type: centroid_type 'sg' crashes the reference: .*obj_energy/,
    );
    assert.match(
      errorOf(() => resolveParams(SD, { centroid_type: 'median' }, 'x')),
      /^x: centroid_type: centroid_type "median": the reference assigns no centroid/,
    );
    assert.match(
      errorOf(() => resolveParams(SD, { two_objects: false }, 'x')),
      /^x: two_objects: two_objects false crashes the reference/,
    );
  });

  test("the reference's options without effect, or out of scope, are refused with the defect", () => {
    for (const [name, why] of Object.entries(REFUSED_OPTIONS)) {
      assert.equal(
        errorOf(() => resolveParams(SD, { [name]: true }, 'x')),
        `x: ${name}: '${name}' is refused: ${why}`,
      );
    }
    assert.deepEqual(Object.keys(REFUSED_OPTIONS).sort(), [
      'clip_weight',
      'grad_norm_scale',
      'lambda_sep',
      'relationship',
      'self_guidance_mode',
      'sg_grad_wt',
      'sg_loss_rescale',
      'target_guidance',
      'update_latents',
      'use_clip_loss',
      'use_energy',
    ]);
    assert.match(
      errorOf(() => resolveParams(SD, { sg_grad_wt: 5, alpha: 1 }, 'x')),
      /overwrites it with 1000/,
    );
  });
});

describe('canonical configuration and hash', () => {
  const params = resolveParams(SD);

  test('the hash is SHA-256 of the sorted-key JSON (values from Python: json.dumps(sort_keys=True, separators=(",", ":")))', () => {
    assert.equal(configHash(canonicalConfig('infsplign', params)), '3610092e4245bf56b99202587be74714b76f13ef7c0e7f4de2b365dca4432c68');
    assert.equal(configHash(canonicalConfig('baseline', params)), 'dfa3e0802f6221625c8e305432096941362bb0d92cb70e94dce939742edcdebf');
  });

  test('key order does not matter; any value does', () => {
    const reversed = Object.fromEntries(Object.entries(params).reverse()) as MethodParams;
    assert.equal(configHash(canonicalConfig('infsplign', reversed)), configHash(canonicalConfig('infsplign', params)));
    assert.notEqual(configHash(canonicalConfig('infsplign', { ...params, alpha: 0.76 })), configHash(canonicalConfig('infsplign', params)));
    assert.equal(canonicalJson({ b: 1, a: { '10': [1, { y: 2, x: 1 }], '9': null, z: undefined } }), '{"a":{"10":[1,{"x":1,"y":2}],"9":null},"b":1}');
  });

  test('a baseline is guidance weight 0 and keeps only what sampling depends on', () => {
    const baseline = canonicalConfig('baseline', params);
    assert.deepEqual(baseline, {
      method: 'baseline',
      sampler_version: SAMPLER_VERSION,
      params: { guidance_weight: 0, cfg_scale: 7.5, steps: 50, scheduler: 'ddpm' },
    });
    assert.equal(configHash(canonicalConfig('baseline', { ...params, alpha: 3, layers: ['x'] })), configHash(baseline));
    assert.notEqual(configHash(canonicalConfig('baseline', { ...params, steps: 20, guide_steps: [0, 20] })), configHash(baseline));
  });

  test('layer patterns are a set', () => {
    const a = canonicalConfig('infsplign', { ...params, layers: ['b.attn2', 'a.attn2', 'b.attn2'] });
    assert.deepEqual(a.params, { ...params, layers: ['a.attn2', 'b.attn2'] });
    assert.equal(configHash(a), configHash(canonicalConfig('infsplign', { ...params, layers: ['a.attn2', 'b.attn2'] })));
  });

  test('the sampler version is part of every identity, so runs made under older defaults are not reused', () => {
    const older = { ...canonicalConfig('baseline', params), sampler_version: SAMPLER_VERSION - 1 };
    assert.notEqual(configHash(older), configHash(canonicalConfig('baseline', params)));
    assert.equal(canonicalConfig('infsplign', params).sampler_version, SAMPLER_VERSION);
  });

  test('parameters that bypassed resolveParams are still checked', () => {
    assert.throws(() => canonicalConfig('infsplign', { ...params, steps: 10 }), /guide_steps/);
  });
});
