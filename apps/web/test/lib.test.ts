/** The web app's pure logic: sweep grouping, the parameter form's schema reading, the CSV export. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { leaderboardCsv, type Leaderboard, type LeaderboardRow } from '../src/lib/leaderboard';
import { fromText, paramFields, toText } from '../src/lib/param-schema';
import { sweepableParams, sweepGroups } from '../src/lib/sweep';

function row(id: string, method: string, params: Record<string, unknown>, value: number | null, extra: Partial<LeaderboardRow> = {}): LeaderboardRow {
  return {
    rank: 1,
    method,
    configHash: `hash-${id}`,
    isBaseline: method === 'baseline',
    detector: 'shapes',
    threshold: 0.5,
    model: { name: 'bundled' },
    run: { id, config: { method, params }, promptSet: { name: 'eval' }, seed: 42, imagesPerPrompt: 2, limit: null, team: { name: 't' }, finishedAt: null },
    metrics: [{ key: 'VISOR_cond', value, low: value === null ? null : value - 1, high: value === null ? null : value + 1 }],
    versusBaseline: null,
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
    assert.deepEqual(groups.map((g) => g.points.map((p) => [p.x, p.y, p.runId])), [
      [[0, 50, 'b'], [30, 90, 'w30'], [60, 95, 'w60']],
      [[0, 50, 'b'], [30, 80, 'relu30']],
    ]);
    assert.deepEqual([groups[0]!.points[1]!.low, groups[0]!.points[1]!.high], [89, 91]);
  });

  test('another detector threshold or a missing value keeps rows apart', () => {
    const other = row('w90', 'infsplign', { ...SAMPLING, guidance_weight: 90, loss_type: 'gelu' }, 99, { threshold: 0.1 });
    const missing = row('w120', 'infsplign', { ...SAMPLING, guidance_weight: 120, loss_type: 'gelu' }, null);
    const groups = sweepGroups([...rows, other, missing], 'guidance_weight', 'VISOR_cond');
    assert.deepEqual(groups[0]!.points.map((p) => p.runId), ['b', 'w30', 'w60']);
  });

  test('sweepable parameters are the numeric ones that vary', () => {
    assert.deepEqual(sweepableParams(rows), ['cfg_scale', 'guidance_weight']);
  });
});

describe('the parameter form', () => {
  const schema = {
    type: 'object',
    properties: {
      guidance_weight: { type: 'number' },
      steps: { type: 'integer', minimum: 1, maximum: 1000 },
      scheduler: { type: 'string', enum: ['ddpm', 'ddim'] },
      guide_steps: { type: 'array', prefixItems: [{ type: 'integer' }, { type: 'integer' }], items: false as const },
      layers: { type: 'array', items: { type: 'string' } },
    },
  };
  const fields = paramFields(schema);

  test('each JSON Schema property becomes the input that fits it', () => {
    assert.deepEqual(fields.map((f) => [f.name, f.kind]), [['guidance_weight', 'number'], ['guide_steps', 'json'], ['layers', 'lines'], ['scheduler', 'choice'], ['steps', 'number']]);
    assert.deepEqual(fields[4], { name: 'steps', kind: 'number', integer: true, min: 1, max: 1000 });
  });

  test('values go to text and back, and bad text names what to enter', () => {
    const [weight, guideSteps, layers, , steps] = fields as [any, any, any, any, any];
    assert.equal(toText(layers, ['a', 'b']), 'a\nb');
    assert.deepEqual(fromText(layers, ' a\n\n b '), { value: ['a', 'b'] });
    assert.deepEqual(fromText(guideSteps, toText(guideSteps, [0, 20])), { value: [0, 20] });
    assert.deepEqual(fromText(guideSteps, '[0,'), { error: 'enter JSON, for example [0, 20]' });
    assert.deepEqual(fromText(weight, '2.5'), { value: 2.5 });
    assert.deepEqual(fromText(weight, ''), { error: 'enter a number' });
    assert.deepEqual(fromText(steps, '2.5'), { error: 'enter a whole number' });
  });
});

describe('the CSV export', () => {
  test('one line per row with each metric, its interval and its delta; cells with commas or quotes are quoted', () => {
    const baseline = row('b', 'baseline', {}, 50);
    const guided = row('g', 'infsplign', {}, 90, {
      rank: 2,
      detector: 'owlvit:/models/a,b',
      versusBaseline: { baseline: { id: 'b' }, deltas: [{ key: 'VISOR_cond', value: 40 }], beyondNoise: true, comparison: { mcnemarP: 0.001, pairs: 10 } },
    });
    const board: Leaderboard = {
      benchmarks: [],
      benchmark: { name: 'visor', defaultThreshold: 0.1, metrics: [{ key: 'VISOR_cond', label: 'VISOR', higherIsBetter: true, description: '"quoted"' }] },
      models: [],
      methods: [],
      rows: [baseline, guided],
      rankedBy: 'VISOR_cond',
    };
    const lines = leaderboardCsv(board).trimEnd().split('\n');
    assert.equal(lines[0], 'rank,run_id,method,model,detector,threshold,team,prompt_set,seed,images_per_prompt,config_hash,is_baseline,baseline_run_id,beyond_noise,mcnemar_p,VISOR_cond,VISOR_cond_low,VISOR_cond_high,VISOR_cond_delta');
    assert.equal(lines[1], '1,b,baseline,bundled,shapes,0.5,t,eval,42,2,hash-b,true,,,,50,49,51,');
    assert.equal(lines[2], '2,g,infsplign,bundled,"owlvit:/models/a,b",0.5,t,eval,42,2,hash-g,false,b,true,0.001,90,89,91,40');
  });
});
