/**
 * `infsplign guidance loss --method divide-and-bind` against the loss the OFFICIAL Divide & Bind code
 * computed (fixtures/arena-official/divide-and-bind/cases.json, made by its make_fixtures.py): every
 * tv and max case's loss, threshold indicator, per-token maxima and TVs to 1e-4 relative (absolute
 * floor 1e-6), and the loss graph's gradient with respect to the probabilities along P -> P + eps P^2
 * (grad_dot_maps_sq). The official loss modes not run here (tv_bind, and tv_max, which the official
 * code refuses itself) are refused with their reason. Each token to alter is an object of the maps
 * file whose last token it is, as the engine takes objects' spans.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { methodDefaults } from '../../src/contracts/model-defaults.ts';
import { divideAndBind } from '../../src/methods/divide-and-bind/index.ts';
import { mapsFileSchema, type MapsFile } from '../../src/methods/maps-file.ts';
import { runCli } from '../cli/run-cli.ts';
import { ErrorReport } from '../guidance/support/official-flags.ts';
import { methodGradientAlongSquares } from './support/gradient-along-squares.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/arena-official');

interface OfficialCase {
  maps: string;
  prompt?: string;
  indices: number[];
  params: Record<string, unknown>;
  step?: number;
  color_indices?: number[];
  note?: string;
  refused?: string;
  expected?: { loss: number; threshold: number; max_attention: number[]; tv?: number[]; grad_dot_maps_sq: number };
}

const ALL = (JSON.parse(readFileSync(join(FIXTURES, 'divide-and-bind/cases.json'), 'utf8')) as { cases: OfficialCase[] }).cases;
/** The cases of the loss modes run here. */
const CASES = ALL.filter((c) => c.expected && (c.params.loss_mode ?? 'tv') !== 'tv_bind');

function casesMaps(c: OfficialCase): MapsFile {
  const maps = mapsFileSchema.parse(JSON.parse(readFileSync(join(FIXTURES, c.maps), 'utf8')));
  return { ...maps, objects: c.indices.map((t) => ({ name: `token ${t}`, tokens: [t] })) };
}

const dir = mkdtempSync(join(tmpdir(), 'db-official-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const report = new ErrorReport();
after(() => console.log(`divide-and-bind official cases: ${report}`));

function writeCase(c: OfficialCase, name: string): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(casesMaps(c)));
  return file;
}

const lossCli = (file: string, params: Record<string, unknown>) =>
  runCli(['guidance', 'loss', '--method', 'divide-and-bind', '--maps', file, '--relation', 'to the left of', '--params', JSON.stringify(params)]);

describe('guidance loss --method divide-and-bind equals the official code (cases.json)', () => {
  test('the fixtures hold tv and max cases on every map set kind', () => {
    assert.equal(CASES.length, 15);
    assert.ok(
      CASES.some((c) => c.params.loss_mode === 'max') &&
        CASES.some((c) => c.params.smooth_attentions === false) &&
        CASES.some((c) => c.maps.includes('heads8')),
    );
  });

  CASES.forEach((c, i) => {
    test(`#${i} ${c.maps} ${JSON.stringify(c.params)} tokens ${c.indices.join(',')}: ${c.note}`, async () => {
      const run = await lossCli(writeCase(c, `case-${i}`), c.params);
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout) as { guided: boolean; loss: number; threshold: number; max_attention: number[]; tv?: number[] };
      const expected = c.expected!;
      assert.equal(out.guided, true);
      report.close(out.loss, expected.loss, 'loss');
      report.close(out.threshold, expected.threshold, 'threshold');
      assert.equal(out.max_attention.length, c.indices.length);
      expected.max_attention.forEach((v, k) => report.close(out.max_attention[k], v, `max_attention[${k}]`));
      assert.equal(out.tv?.length, expected.tv?.length, 'per-token TV exactly where the official loss computes it');
      expected.tv?.forEach((v, k) => report.close(out.tv![k], v, `tv[${k}]`));
    });
  });

  CASES.forEach((c, i) => {
    test(`#${i} d loss / d P along P^2 (grad_dot_maps_sq)`, async () => {
      const maps = casesMaps(c);
      const params = divideAndBind.params.resolve(methodDefaults(divideAndBind, 'sd1', null), c.params, 'the case', 'sd1');
      report.close(await methodGradientAlongSquares(divideAndBind, params, maps), c.expected!.grad_dot_maps_sq, 'grad_dot_maps_sq');
    });
  });

  test('tv_bind is refused with why, tv_max as the official code refuses it, and tv_loss under max', async () => {
    const refused = ALL.find((c) => c.refused)!;
    assert.equal(refused.params.loss_mode, 'tv_max');
    const file = writeCase(refused, 'refused');
    const tvMax = await lossCli(file, refused.params);
    assert.equal(tvMax.code, 1);
    assert.match(tvMax.stderr, /loss_mode tv_max is refused as the official pipeline refuses it: its default_param accepts max, tv and tv_bind only/);
    const bind = ALL.find((c) => c.params.loss_mode === 'tv_bind' && c.color_indices)!;
    const tvBind = await lossCli(writeCase(bind, 'bind'), bind.params);
    assert.equal(tvBind.code, 1);
    assert.match(tvBind.stderr, /loss_mode tv_bind is not implemented: its bind term needs the attribute \(colour\) words' token positions/);
    assert.equal(tvBind.stdout, '');
    const indicator = await lossCli(file, { loss_mode: 'max', threshold_indicator: 'tv_loss' });
    assert.equal(indicator.code, 1);
    assert.match(indicator.stderr, /threshold_indicator: threshold_indicator tv_loss needs loss_mode tv/);
    const wrongRes = await lossCli(file, { attn_res: 32 });
    assert.equal(wrongRes.code, 1);
    assert.match(wrongRes.stderr, /no cross-attention layer has 32x32 maps \(attention_res 32\); the model's maps are 16x16/);
  });
});
