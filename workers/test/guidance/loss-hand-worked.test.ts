/**
 * `infsplign guidance loss` on a case small enough to work by hand: a check of the loss's formulas
 * that depends on no other implementation (official-loss.test.ts compares with the reference's).
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
 * Case 2: case 0 with no_wt off: the loss is 5 times the mean (the reference's edit weight), 125/72.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../cli/run-cli.ts';

const PROBS = [
  [0.4, 0.3, 0.1, 0.2],
  [0.3, 0.1, 0.25, 0.35],
  [0.4, 0.3, 0.2, 0.1],
  [0.3, 0.1, 0.35, 0.25],
];
const TOP = 'up_blocks.1/attentions.0/transformer_blocks.0/attn2';
const LOW = 'up_blocks.2/attentions.0/transformer_blocks.0/attn2';
const CENTROIDS = [
  [1 / 4, 1 / 2],
  [2 / 3, 1 / 2],
];

const CASES: Array<{ relation: string; params: object; loss: number; layers: Array<{ spatial: number; energy: number; total: number }> }> = [
  {
    relation: 'to the left of',
    params: { loss_type: 'linear' },
    loss: 25 / 72,
    layers: [
      { spatial: -1 / 8, energy: 131 / 144, total: 113 / 144 },
      { spatial: -1 / 8, energy: 5 / 144, total: -13 / 144 },
    ],
  },
  {
    relation: 'to the right of',
    params: { loss_type: 'squared_relu', lambda_spatial: 2, lambda_presence: 0.5, lambda_balance: 3 },
    loss: 449 / 576,
    layers: [
      { spatial: 1 / 4, energy: 131 / 144, total: 275 / 288 },
      { spatial: 1 / 4, energy: 5 / 144, total: 87 / 144 },
    ],
  },
  {
    relation: 'to the left of',
    params: { loss_type: 'linear', no_wt: false },
    loss: 125 / 72,
    layers: [
      { spatial: -1 / 8, energy: 131 / 144, total: 113 / 144 },
      { spatial: -1 / 8, energy: 5 / 144, total: -13 / 144 },
    ],
  },
];

const dir = mkdtempSync(join(tmpdir(), 'loss-by-hand-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const maps = join(dir, 'maps.json');
writeFileSync(
  maps,
  JSON.stringify({
    objects: [
      { name: 'dog', tokens: [1] },
      { name: 'cup', tokens: [2, 3] },
    ],
    layers: [TOP, LOW].map((name) => ({ name, height: 2, width: 2, tokens: 4, probs: PROBS.flat() })),
  }),
);

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${what}: ${actual}, by hand ${expected}`);

CASES.forEach((c, i) => {
  test(`case ${i}: ${c.relation} ${JSON.stringify(c.params)}`, async () => {
    const run = await runCli(['guidance', 'loss', '--maps', maps, '--relation', c.relation, '--params', JSON.stringify(c.params)]);
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as {
      loss: number;
      layers: Array<{ name: string; spatial: number; energy: number; total: number; centroids: number[][] }>;
    };
    close(out.loss, c.loss, 'loss');
    assert.deepEqual(
      out.layers.map((l) => l.name),
      [TOP, LOW],
    );
    out.layers.forEach((layer, k) => {
      for (const key of ['spatial', 'energy', 'total'] as const) close(layer[key], c.layers[k]![key], `layer ${k} ${key}`);
      CENTROIDS.flat().forEach((v, j) => close(layer.centroids.flat()[j]!, v, `layer ${k} centroid ${j}`));
    });
  });
});
