/** The web app's pure logic: sweep grouping, the parameter form's schema reading and state, the session cookie, the hidden-columns cookie, the CSV export, number formats, axes, colours. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BOX_PALETTE, contrastRatio } from '../src/lib/colours';
import { hiddenColumnsCookie, hiddenColumnsCookieName, hiddenColumnsFrom } from '../src/lib/hidden-columns';
import { leaderboardCsv, newestBenchmark, type BenchmarkSummary, type Leaderboard, type LeaderboardRow } from '../src/lib/leaderboard';
import { formatDifference, formatInterval, formatP, formatValue, niceAxis, type MetricComparison, type MetricDefinition } from '../src/lib/metrics';
import { describeField, fromText, isMain, MAX_SWEEP_VALUES, paramFields, sweepable, sweepValues, toText } from '../src/lib/param-schema';
import { SESSION_MAX_AGE_S, sessionCookie } from '../src/lib/session';
import { editedParams, estimate, formatDuration, startFromRun, submitInput } from '../src/lib/submit-form';
import { sweepableParams, sweepGroups } from '../src/lib/sweep';

function row(id: string, method: string, params: Record<string, unknown>, value: number | null, extra: Partial<LeaderboardRow> = {}): LeaderboardRow {
  return {
    rank: 1,
    ranked: true,
    promptsScored: 10,
    imagesScored: 20,
    method,
    configHash: `hash-${id}`,
    isBaseline: method === 'baseline',
    detector: 'shapes',
    threshold: 0.5,
    model: { name: 'bundled' },
    run: { id, config: { method, params }, promptSet: { name: 'eval' }, seed: 42, imagesPerPrompt: 2, limit: null, team: { name: 't' }, finishedAt: null },
    metrics: [{ key: 'VISOR_cond', value, low: value === null ? null : value - 1, high: value === null ? null : value + 1 }],
    versusBaseline: null,
    cost: null,
    ...extra,
  };
}

const SAMPLING = { cfg_scale: 3, steps: 20, scheduler: 'ddpm' };

describe('sweeps', () => {
  const rows = [
    row('b', 'baseline', { ...SAMPLING, guidance_weight: 0 }, 50),
    row('w30', 'infsplign', { ...SAMPLING, guidance_weight: 30, loss_type: 'gelu' }, 90),
    row('w60', 'infsplign', { ...SAMPLING, guidance_weight: 60, loss_type: 'gelu' }, 95),
    row('relu30', 'infsplign', { ...SAMPLING, guidance_weight: 30, loss_type: 'relu' }, 80),
    row('cfg5', 'infsplign', { ...SAMPLING, cfg_scale: 5, guidance_weight: 30, loss_type: 'gelu' }, 70),
  ];

  test('rows that differ only in the parameter form one line, the baseline at guidance_weight 0 joining those with its sampling settings', () => {
    const groups = sweepGroups(rows, 'guidance_weight', 'VISOR_cond');
    // cfg5 has no partner: the baseline samples with cfg_scale 3
    assert.deepEqual(
      groups.map((g) => g.points.map((p) => [p.x, p.y, p.runId])),
      [
        [
          [0, 50, 'b'],
          [30, 90, 'w30'],
          [60, 95, 'w60'],
        ],
        [
          [0, 50, 'b'],
          [30, 80, 'relu30'],
        ],
      ],
    );
    assert.deepEqual([groups[0]!.points[1]!.low, groups[0]!.points[1]!.high], [89, 91]);
  });

  test('another detector threshold or a missing value keeps rows apart', () => {
    const other = row('w90', 'infsplign', { ...SAMPLING, guidance_weight: 90, loss_type: 'gelu' }, 99, { threshold: 0.1 });
    const missing = row('w120', 'infsplign', { ...SAMPLING, guidance_weight: 120, loss_type: 'gelu' }, null);
    const groups = sweepGroups([...rows, other, missing], 'guidance_weight', 'VISOR_cond');
    assert.deepEqual(
      groups[0]!.points.map((p) => p.runId),
      ['b', 'w30', 'w60'],
    );
  });

  test('sweepable parameters are the numeric ones that vary', () => {
    assert.deepEqual(sweepableParams(rows), ['cfg_scale', 'guidance_weight']);
  });
});

describe('the parameter form', () => {
  // As zod's toJSONSchema writes the method parameters (workers/src/contracts/method-params.ts), annotations included.
  const schema = {
    type: 'object',
    properties: {
      guidance_weight: { type: 'number', description: 'step size', 'x-order': 1 },
      steps: { type: 'integer', minimum: 1, maximum: 1000, 'x-order': 2 },
      cfg_scale: { type: 'number', minimum: 0 },
      margin: { type: 'number', exclusiveMinimum: 0 },
      scheduler: { type: 'string', enum: ['ddpm', 'ddim'] },
      guide_steps: {
        type: 'array',
        prefixItems: [
          { type: 'integer', minimum: 0, maximum: 1000 },
          { type: 'integer', minimum: 0, maximum: 1000 },
        ],
        items: false as const,
      },
      layers: { type: 'array', minItems: 1, maxItems: 2, items: { type: 'string', maxLength: 5 } },
      fused: { type: 'boolean' },
      weights: { type: 'object' },
      num_inference_steps: { type: 'integer', minimum: 1, 'x-alias': true },
    },
  };
  const fields = paramFields(schema);
  const field = (name: string) => fields.find((f) => f.name === name)!;

  test('each JSON Schema property becomes the input that fits it; those with x-order first in that order, the advanced ones by name; no alias', () => {
    assert.deepEqual(
      fields.map((f) => [f.name, f.kind, isMain(f)]),
      [
        ['guidance_weight', 'number', true],
        ['steps', 'number', true],
        ['cfg_scale', 'number', false],
        ['fused', 'boolean', false],
        ['guide_steps', 'numbers', false],
        ['layers', 'lines', false],
        ['margin', 'number', false],
        ['scheduler', 'choice', false],
        ['weights', 'json', false],
      ],
    );
    assert.deepEqual(field('steps'), { name: 'steps', order: 2, kind: 'number', integer: true, min: 1, max: 1000 });
    assert.equal(field('guidance_weight').description, 'step size');
  });

  test('what a field accepts, in words', () => {
    assert.equal(describeField(field('steps')), '1 to 1000, whole');
    assert.equal(describeField(field('cfg_scale')), 'at least 0');
    assert.equal(describeField(field('margin')), 'above 0');
    assert.equal(describeField(field('guidance_weight')), '');
    assert.equal(describeField(field('scheduler')), 'one of ddpm, ddim');
    assert.equal(describeField(field('layers')), 'one per line, at least 1, at most 2, each at most 5 characters');
    assert.equal(describeField(field('guide_steps')), '2 numbers: 1. 0 to 1000, whole; 2. 0 to 1000, whole');
  });

  test('values go to text and back; the checks the browser makes name what is wrong', () => {
    assert.equal(toText(field('layers'), ['a', 'b']), 'a\nb');
    assert.deepEqual(fromText(field('layers'), ' a\n\n b '), { value: ['a', 'b'] });
    assert.deepEqual(fromText(field('layers'), ''), { error: 'enter at least 1, one per line' });
    assert.deepEqual(fromText(field('layers'), 'a\nb\nc'), { error: 'enter at most 2 lines' });
    assert.deepEqual(fromText(field('layers'), 'a\nlonger'), { error: 'line 2 is over 5 characters' });
    assert.deepEqual(fromText(field('guide_steps'), toText(field('guide_steps'), [0, 20])), { value: [0, 20] });
    assert.deepEqual(fromText(field('guide_steps'), '[0, 20]'), { value: [0, 20] });
    assert.deepEqual(fromText(field('guide_steps'), '0'), { error: 'enter 2 numbers, for example 0, 0' });
    assert.deepEqual(fromText(field('guide_steps'), '0, 2000'), { error: 'number 2: must be at most 1000' });
    assert.deepEqual(fromText(field('guidance_weight'), '2.5'), { value: 2.5 });
    assert.deepEqual(fromText(field('guidance_weight'), ''), { error: 'enter a number' });
    assert.deepEqual(fromText(field('steps'), '2.5'), { error: 'enter a whole number' });
    assert.deepEqual(fromText(field('steps'), '5000'), { error: 'must be at most 1000' });
    assert.deepEqual(fromText(field('steps'), '0'), { error: 'must be at least 1' });
    assert.deepEqual(fromText(field('margin'), '0'), { error: 'must be above 0' });
    assert.deepEqual(fromText(field('scheduler'), 'euler'), { error: 'choose one of ddpm, ddim' });
    assert.deepEqual(fromText(field('fused'), 'true'), { value: true });
    assert.deepEqual(fromText(field('weights'), '{"a": 1}'), { value: { a: 1 } });
    assert.deepEqual(fromText(field('weights'), '{'), { error: 'enter JSON' });
  });

  test('a sweep: two values or more, each checked as the field checks one', () => {
    assert.deepEqual(sweepValues(field('steps'), '10, 20,30'), { values: [10, 20, 30] });
    assert.deepEqual(sweepValues(field('scheduler'), 'ddpm, ddim'), { values: ['ddpm', 'ddim'] });
    assert.deepEqual(sweepValues(field('steps'), '10'), { error: 'enter two values or more, separated by commas' });
    assert.deepEqual(sweepValues(field('steps'), '10, 10'), { error: 'each value once' });
    assert.deepEqual(sweepValues(field('steps'), '10, 2000'), { error: '2000: must be at most 1000' });
    assert.deepEqual(sweepValues(field('steps'), Array.from({ length: MAX_SWEEP_VALUES + 1 }, (_, i) => i + 1).join(',')), {
      error: `at most ${MAX_SWEEP_VALUES} values`,
    });
    assert.deepEqual(
      fields.filter(sweepable).map((f) => f.name),
      ['guidance_weight', 'steps', 'cfg_scale', 'fused', 'margin', 'scheduler'],
    );
  });

  test('start from a run: its settings, and the parameters the API says differ from the defaults, those the schema knows', () => {
    const run = {
      id: '00000000-0000-4000-8000-000000000000',
      kind: 'GENERATE_AND_EVALUATE' as const,
      benchmark: 'visor-shapes',
      promptSet: { name: 'eval' },
      model: { name: 'bundled' },
      method: 'infsplign',
      configChanges: [
        { key: 'guidance_weight', value: 60 },
        { key: 'guide_steps', value: [0, 10] },
        { key: 'not_in_the_schema', value: 1 },
      ],
      detector: 'shapes',
      threshold: 0.1,
      seed: 7,
      imagesPerPrompt: 2,
      limit: null,
      imageSet: null,
    };
    const start = startFromRun(run, fields);
    assert.deepEqual(start.edits, { guidance_weight: '60', guide_steps: '0, 10' });
    assert.deepEqual(start.basics, { detector: 'shapes', threshold: '0.1', seed: '7', imagesPerPrompt: '2', limit: '', imageSet: '', force: false });
    assert.deepEqual(editedParams(fields, start.edits), { params: { guidance_weight: 60, guide_steps: [0, 10] }, errors: {} });
    assert.deepEqual(editedParams(fields, { steps: '0' }), { params: {}, errors: { steps: 'must be at least 1' } });
    assert.deepEqual(submitInput(start, { guidance_weight: 90 }), {
      kind: 'GENERATE_AND_EVALUATE',
      benchmark: 'visor-shapes',
      promptSet: 'eval',
      detector: 'shapes',
      threshold: 0.1,
      seed: 7,
      imagesPerPrompt: 2,
      limit: undefined,
      force: undefined,
      model: 'bundled',
      method: 'infsplign',
      params: { guidance_weight: 90 },
    });
  });

  test("the estimate: prompts (the limit, at most the set) x images per prompt (the benchmark's when blank) x runs, at the recorded seconds per image", () => {
    const base = { promptCount: 240, limit: '30', imagesPerPrompt: '4', defaultImagesPerPrompt: 1, runs: 1, secondsPerImage: 0.5 };
    assert.deepEqual(estimate(base), { images: 120, seconds: 60 });
    assert.deepEqual(estimate({ ...base, limit: '', imagesPerPrompt: '', runs: 3 }), { images: 720, seconds: 360 });
    assert.deepEqual(estimate({ ...base, limit: '1000' }), { images: 960, seconds: 480 });
    assert.deepEqual(estimate({ ...base, secondsPerImage: null }), { images: 120, seconds: null });
    assert.equal(estimate({ ...base, imagesPerPrompt: '1.5' }), null);
    assert.deepEqual([formatDuration(0.2), formatDuration(60), formatDuration(600), formatDuration(36000)], ['1 s', '60 s', '10 min', '10.0 h']);
  });
});

const VISOR_COND: MetricDefinition = {
  key: 'VISOR_cond',
  label: 'VISOR',
  higherIsBetter: true,
  description: '"quoted"',
  unit: '%',
  primary: true,
  minImagesPerPrompt: null,
};

describe('the CSV export', () => {
  test("one line per row with the primary metric's paired tests, the cost per image, each metric, its interval and its delta; cells with commas or quotes are quoted", () => {
    const baseline = row('b', 'baseline', {}, 50, {
      cost: { secondsPerImage: 0.07, unetEvaluationsPerImage: 40, backwardPassesPerImage: 0, device: 'cpu', images: 20 },
    });
    const primary: MetricComparison = { key: 'VISOR_cond', a: 50, b: 90, difference: 40, low: 30, high: 50, test: 'BOOTSTRAP', p: 0.002, beyondNoise: true };
    const guided = row('g', 'infsplign', {}, 90, {
      rank: 2,
      detector: 'owlvit:/models/a,b',
      versusBaseline: { baseline: { id: 'b' }, deltas: [{ key: 'VISOR_cond', value: 40 }], primary, beyondNoise: true },
      versusLeader: { leader: { id: 'b' }, primary: { ...primary, p: 0.4, beyondNoise: false }, tiedWithinNoise: true },
    });
    const small = row('s', 'infsplign', {}, 100, { rank: null, ranked: false, imagesScored: 4 });
    const board: Leaderboard = {
      benchmarks: [],
      benchmark: { name: 'visor', defaultThreshold: 0.1, primaryMetric: 'VISOR_cond', latestFinishedAt: null, metrics: [VISOR_COND] },
      models: [],
      methods: [],
      rows: [baseline, guided, small],
      rankedBy: 'VISOR_cond',
      minRankedImages: 10,
    };
    const lines = leaderboardCsv(board).trimEnd().split('\n');
    assert.equal(
      lines[0],
      'rank,ranked,run_id,method,model,detector,threshold,team,prompt_set,seed,images_per_prompt,prompts_scored,images_scored,config_hash,is_baseline,baseline_run_id,primary_metric,primary_delta,primary_delta_low,primary_delta_high,primary_test,primary_p,beyond_noise,leader_run_id,leader_p,tied_with_leader,seconds_per_image,unet_evaluations_per_image,backward_passes_per_image,device,VISOR_cond,VISOR_cond_low,VISOR_cond_high,VISOR_cond_delta',
    );
    assert.equal(lines[1], '1,true,b,baseline,bundled,shapes,0.5,t,eval,42,2,10,20,hash-b,true,,VISOR_cond,,,,,,,,,,0.07,40,0,cpu,50,49,51,');
    assert.equal(
      lines[2],
      '2,true,g,infsplign,bundled,"owlvit:/models/a,b",0.5,t,eval,42,2,10,20,hash-g,false,b,VISOR_cond,40,30,50,BOOTSTRAP,0.002,true,b,0.4,true,,,,,90,89,91,40',
    );
    assert.equal(lines[3], ',false,s,infsplign,bundled,shapes,0.5,t,eval,42,2,10,4,hash-s,false,,VISOR_cond,,,,,,,,,,,,,,100,99,101,');
  });
});

describe('one number format per unit', () => {
  test('percent with one decimal, fractions with three; differences signed, in percentage points for percent; n/a where undefined', () => {
    assert.deepEqual(
      [formatValue('%', 54.24), formatValue('%', 100), formatValue('fraction', 0.5), formatValue('fraction', 0.12345)],
      ['54.2%', '100.0%', '0.500', '0.123'],
    );
    assert.deepEqual([formatValue('%', null), formatDifference('%', null), formatValue('fraction', undefined)], ['n/a', 'n/a', 'n/a']);
    assert.deepEqual(
      [formatDifference('%', 44.16), formatDifference('%', -3.04), formatDifference('fraction', -0.0213), formatDifference('%', 0.01)],
      ['+44.2 pp', '−3.0 pp', '−0.021', '±0.0 pp'],
    );
    assert.deepEqual(
      [formatInterval('%', 44.2, 65), formatInterval('fraction', 0.1, 0.25), formatInterval('%', null, 3)],
      ['[44.2, 65.0]', '[0.100, 0.250]', ''],
    );
    assert.deepEqual([formatP(0.0004), formatP(0.04), formatP(null)], ['p < 0.001', 'p = 0.040', 'p n/a']);
  });
});

describe('round chart axes', () => {
  test('ticks at 1, 2 or 5 times a power of ten covering the values, written with the decimals the step needs', () => {
    assert.deepEqual(niceAxis(0, 1), { domain: [0, 1], ticks: ['0.0', '0.2', '0.4', '0.6', '0.8', '1.0'].map((label) => ({ value: Number(label), label })) });
    assert.deepEqual(
      niceAxis(0, 19, 6).ticks.map((t) => t.label),
      ['0', '5', '10', '15', '20'],
    );
    assert.deepEqual(
      niceAxis(0.23, 0.61).ticks.map((t) => t.label),
      ['0.2', '0.3', '0.4', '0.5', '0.6', '0.7'],
    );
    assert.deepEqual(niceAxis(3, 3).domain, [0, 3], 'a single value: from 0 to it');
  });
});

describe('the landing benchmark', () => {
  test('the one whose latest finished run is newest; the first when none has finished', () => {
    const b = (name: string, latestFinishedAt: string | null): BenchmarkSummary => ({
      name,
      defaultThreshold: 0.1,
      primaryMetric: 'x',
      latestFinishedAt,
      metrics: [],
    });
    assert.equal(newestBenchmark([b('geneval', null), b('t2i', '2026-01-02T00:00:00Z'), b('visor-shapes', '2026-01-03T00:00:00Z')])?.name, 'visor-shapes');
    assert.equal(newestBenchmark([b('geneval', null), b('t2i', null)])?.name, 'geneval');
  });
});

describe('box colours', () => {
  test('white label text on every box colour has AA contrast (4.5:1 or more)', () => {
    for (const colour of BOX_PALETTE) assert.ok(contrastRatio(colour, '#ffffff') >= 4.5, `${colour}: ${contrastRatio(colour, '#ffffff').toFixed(2)}`);
    // The formula: black on white is 21:1, a colour on itself 1:1.
    assert.equal(contrastRatio('#000000', '#ffffff'), 21);
    assert.equal(contrastRatio('#1f4fbf', '#1f4fbf'), 1);
  });
});

describe('the session cookie', () => {
  test('httpOnly and SameSite=Strict always, Secure over https, living 30 days at most and no longer than the token', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const plain = sessionCookie('isa_a_b', { https: false, expiresAt: null, now });
    assert.deepEqual(plain, {
      name: 'infsplign_token',
      value: 'isa_a_b',
      httpOnly: true,
      sameSite: 'strict',
      secure: false,
      path: '/',
      maxAge: SESSION_MAX_AGE_S,
    });
    assert.equal(sessionCookie('t', { https: true, expiresAt: null, now }).secure, true);
    assert.equal(sessionCookie('t', { https: false, expiresAt: '2026-01-02T00:00:00Z', now }).maxAge, 86_400);
    assert.equal(sessionCookie('t', { https: false, expiresAt: '2025-12-31T00:00:00Z', now }).maxAge, 0);
  });
});

describe('hidden leaderboard columns', () => {
  const offered = [{ key: 'seed' }, { key: 'n' }, { key: 'VISOR_cond' }];
  test("the cookie written by the picker reads back as the same columns, in the page's order", () => {
    const cookie = hiddenColumnsCookie('leaderboard', ['VISOR_cond', 'seed']);
    const [pair] = cookie.split(';');
    const [name, value] = pair!.split('=');
    assert.equal(name, hiddenColumnsCookieName('leaderboard'));
    assert.deepEqual(hiddenColumnsFrom(value, offered), ['seed', 'VISOR_cond']);
  });
  test('only columns the page offers can be hidden; a missing or malformed cookie hides nothing', () => {
    assert.deepEqual(hiddenColumnsFrom(encodeURIComponent('seed,run,"}</style>'), offered), ['seed']);
    assert.deepEqual(hiddenColumnsFrom(undefined, offered), []);
    assert.deepEqual(hiddenColumnsFrom('%E0%A4%A', offered), []);
  });
});
