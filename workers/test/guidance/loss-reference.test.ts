/**
 * `infsplign guidance loss` against values committed from an independent PyTorch transcription
 * of docs/method.md §2 (fixtures/guidance-loss/reference.py; make_cases.py writes cases.json, see the
 * README there). Every case runs the CLI on a maps file and compares the loss and each layer's
 * spatial, energy and total terms to 1e-5 relative (1e-7 absolute near 0).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../cli/run-cli.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/guidance-loss');

interface LayerTerms {
  name: string;
  /** L_spatial(l), unweighted (0 for "and"). */
  spatial: number;
  /** L_energy(l), unweighted (the strategy the layer's routing picks). */
  energy: number;
  /** L_l = lambda_spatial * spatial + lambda_energy(l) * energy. */
  total: number;
}

interface LossOutput {
  /** Mean of the layers' totals. */
  loss: number;
  layers: LayerTerms[];
}

interface Case {
  maps: string;
  relation: string;
  params: Record<string, string | number>;
  expected: LossOutput;
}

const CASES = JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8')) as Case[];

const RELATIVE = 1e-5;
const ABSOLUTE = 1e-7;

function assertClose(actual: unknown, expected: number, what: string, relative = RELATIVE): void {
  assert.equal(typeof actual, 'number', `${what}: expected a number, got ${JSON.stringify(actual)}`);
  const tolerance = Math.max(relative * Math.abs(expected), ABSOLUTE);
  const error = Math.abs((actual as number) - expected);
  assert.ok(error <= tolerance, `${what}: got ${actual as number}, expected ${expected} (|error| ${error} > ${tolerance})`);
}

function assertLossMatches(actual: LossOutput, expected: LossOutput, relative = RELATIVE): void {
  assertClose(actual.loss, expected.loss, 'loss', relative);
  assert.ok(Array.isArray(actual.layers), `layers: expected an array, got ${JSON.stringify(actual.layers)}`);
  assert.deepEqual(
    actual.layers.map((l) => l.name),
    expected.layers.map((l) => l.name),
    'layer names, in the order of the maps file',
  );
  expected.layers.forEach((want, i) => {
    const got = actual.layers[i];
    for (const key of ['spatial', 'energy', 'total'] as const) assertClose(got[key], want[key], `${want.name} ${key}`, relative);
  });
}

async function guidanceLoss(maps: string, relation: string, params: Case['params']): Promise<LossOutput> {
  const argv = ['guidance', 'loss', '--maps', join(FIXTURES, maps), '--relation', relation, '--params', JSON.stringify(params)];
  const run = await runCli(argv);
  assert.equal(run.code, 0, `infsplign ${argv.join(' ')} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as LossOutput;
}

const describeCase = (c: Case, i: number) => `#${i} ${c.maps} '${c.relation}' ${JSON.stringify(c.params)}`;

describe('guidance loss equals the PyTorch transcription of docs/method.md §2', () => {
  CASES.forEach((c, i) => {
    test(describeCase(c, i), async () => {
      assertLossMatches(await guidanceLoss(c.maps, c.relation, c.params), c.expected);
    });
  });
});

describe('the committed cases cover docs/method.md §2', () => {
  const params = (key: string) => new Set(CASES.map((c) => c.params[key]));

  test('every relation phrasing, and "and"', () => {
    const phrasings = [
      'to the left of', 'on the left of', 'left of',
      'to the right of', 'on the right of', 'right of',
      'above', 'on the top of', 'on top of',
      'below', 'on the bottom of', 'on bottom of',
      'near', 'next to', 'on side of',
      'and',
    ];
    const seen = new Set(CASES.map((c) => c.relation));
    assert.deepEqual(phrasings.filter((p) => !seen.has(p)), []);
  });

  test('every activation (make_cases.py checks each gets negative and positive arguments)', () => {
    const activations = ['gelu', 'relu', 'leaky_relu', 'squared_relu', 'sigmoid', 'softplus', 'silu', 'selu', 'celu', 'elu', 'hardtanh', 'linear', 'softsign', 'logrelu'];
    const seen = params('loss_type');
    assert.deepEqual(activations.filter((a) => !seen.has(a)), []);
  });

  test('every strategy, as strategy and as top_strategy', () => {
    const strategies = ['diff', 'dec', 'both', 'inc', 'none'];
    for (const key of ['strategy', 'top_strategy']) {
      const seen = params(key);
      assert.deepEqual(strategies.filter((s) => !seen.has(s)), [], key);
    }
  });

  test('at least three map sets of different sizes, including a non-square one', () => {
    const sizes = new Set<string>();
    for (const file of new Set(CASES.map((c) => c.maps))) {
      const maps = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as { layers: Array<{ height: number; width: number }> };
      for (const l of maps.layers) sizes.add(`${l.height}x${l.width}`);
    }
    assert.ok(sizes.size >= 3, [...sizes].join(', '));
    assert.ok([...sizes].some((s) => s.split('x')[0] !== s.split('x')[1]), [...sizes].join(', '));
  });
});

/*
 * A case small enough to work by hand, to check the reference itself (reference.py wrote the
 * first two entries of cases.json from maps_tiny.json).
 *
 * 2 x 2 map: x = linspace(0, 1, 2) = [0, 1] over columns, y = [0, 1] over rows (y down), pixels
 * row-major: p0 = (x 0, y 0), p1 = (x 1, y 0), p2 = (x 0, y 1), p3 = (x 1, y 1).
 * Token columns: 0 = start token, 1 = "dog" (subject), 2 and 3 = "cup" (reference, two tokens).
 *
 * Subject A1 = column 1 = [0.3, 0.1, 0.3, 0.1]
 *   m1 = 0.8;  cx1 = (0.1 + 0.1) / 0.8 = 1/4;  cy1 = (0.3 + 0.1) / 0.8 = 1/2
 *   v1 = (0.6 (1/4)^2 + 0.2 (3/4)^2) / 0.8 + 0.8 (1/2)^2 / 0.8 = 0.15 / 0.8 + 1/4 = 3/16 + 4/16 = 7/16
 * Reference A2 = mean of columns 2 and 3 = [0.15, 0.3, 0.15, 0.3]
 *   m2 = 0.9;  cx2 = 0.6 / 0.9 = 2/3;  cy2 = 0.45 / 0.9 = 1/2
 *   v2 = (0.3 (2/3)^2 + 0.6 (1/3)^2) / 0.9 + 1/4 = 0.2 / 0.9 + 1/4 = 2/9 + 1/4 = 17/36
 * Both layers carry these maps. Layer 0 (up_blocks.1..., contains "blocks.1") uses top_strategy
 * dec: E1 + E2 = 63/144 + 68/144 = 131/144. Layer 1 (up_blocks.2...) uses strategy diff:
 * |E1 - E2| = |63/144 - 68/144| = 5/144.
 *
 * Case 0: "to the left of", loss_type linear, alpha 3/4, margin 1/4, lambdas 1.
 *   Delta = x2 - x1 = 2/3 - 1/4 = 5/12;  L_spatial = 3/4 (1/4 - 5/12) = 3/4 (-1/6) = -1/8
 *   L_0 = -1/8 + 131/144 = 113/144;  L_1 = -1/8 + 5/144 = -13/144;  loss = (113 - 13) / 288 = 25/72
 * Case 1: "to the right of", squared_relu, lambda_spatial 2, lambda_presence 1/2, lambda_balance 3.
 *   Delta = x1 - x2 = -5/12;  argument 3/4 (1/4 + 5/12) = 1/2;  L_spatial = (1/2)^2 = 1/4
 *   L_0 = 2 (1/4) + (1/2)(131/144) = 275/288;  L_1 = 2 (1/4) + 3 (5/144) = 87/144 = 174/288
 *   loss = (275 + 174) / 576 = 449/576
 */
describe('the reference on a hand-worked 2x2 case', () => {
  const TINY_PROBS = [
    [0.4, 0.3, 0.1, 0.2],
    [0.3, 0.1, 0.25, 0.35],
    [0.4, 0.3, 0.2, 0.1],
    [0.3, 0.1, 0.35, 0.25],
  ];
  const TOP = 'up_blocks.1/attentions.0/transformer_blocks.0/attn2';
  const LOW = 'up_blocks.2/attentions.0/transformer_blocks.0/attn2';
  const BY_HAND: LossOutput[] = [
    {
      loss: 25 / 72,
      layers: [
        { name: TOP, spatial: -1 / 8, energy: 131 / 144, total: 113 / 144 },
        { name: LOW, spatial: -1 / 8, energy: 5 / 144, total: -13 / 144 },
      ],
    },
    {
      loss: 449 / 576,
      layers: [
        { name: TOP, spatial: 1 / 4, energy: 131 / 144, total: 275 / 288 },
        { name: LOW, spatial: 1 / 4, energy: 5 / 144, total: 87 / 144 },
      ],
    },
  ];

  test('maps_tiny.json holds the maps worked above', () => {
    const tiny = JSON.parse(readFileSync(join(FIXTURES, 'maps_tiny.json'), 'utf8')) as unknown;
    assert.deepEqual(tiny, {
      objects: [{ name: 'dog', tokens: [1] }, { name: 'cup', tokens: [2, 3] }],
      layers: [TOP, LOW].map((name) => ({ name, height: 2, width: 2, tokens: 4, probs: TINY_PROBS.flat() })),
    });
    assert.deepEqual(CASES.slice(0, 2).map((c) => [c.maps, c.relation, c.params]), [
      ['maps_tiny.json', 'to the left of', { loss_type: 'linear' }],
      ['maps_tiny.json', 'to the right of', { loss_type: 'squared_relu', lambda_spatial: 2, lambda_presence: 0.5, lambda_balance: 3 }],
    ]);
  });

  test('reference.py computed the hand-worked values', () => {
    // cases.json stores 12 significant digits.
    BY_HAND.forEach((want, i) => assertLossMatches(CASES[i].expected, want, 1e-11));
  });
});
