/**
 * `infsplign guidance loss --method storm` against the loss the OFFICIAL STORM code computed
 * (fixtures/arena-official/storm/cases.json, made by its make_fixtures.py, float32 as the reference
 * runs): every case's loss, its refinement gate `coordinate` and the time weight w to 1e-4 relative
 * (absolute floor 1e-6), and the loss graph's gradient with respect to the probabilities along
 * P -> P + eps P^2 (grad_dot_maps_sq). The fixtures give the nouns to alter as indices; here each is an
 * object of the maps file whose last token it is, as the engine takes objects' spans. STORM reads the
 * relation from the prompt's text, which --prompt gives.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { methodDefaults } from '../../src/contracts/model-defaults.ts';
import { buildMethodLossModel, evaluateMethodLoss, mapsPrompt, methodLossFeeds } from '../../src/methods/loss-model.ts';
import { mapsFileSchema, type MapsFile } from '../../src/methods/maps-file.ts';
import { storm } from '../../src/methods/storm/index.ts';
import type { StormParams } from '../../src/methods/storm/params.ts';
import { grad } from '../../src/onnx/autodiff/grad.ts';
import { serializeModel } from '../../src/onnx/model-io.ts';
import { runCli } from '../cli/run-cli.ts';
import { ErrorReport } from '../guidance/support/official-flags.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/arena-official');

interface OfficialCase {
  maps: string;
  prompt: string;
  /** [[subject, object], [subject's adjective, object's adjective]] */
  indices: [[number, number], [number | null, number | null]];
  params: Record<string, unknown>;
  step: number;
  note: string;
  expected: { loss: number; coordinate: [number, number]; w: number; grad_dot_maps_sq: number };
}

const ALL = (JSON.parse(readFileSync(join(FIXTURES, 'storm/cases.json'), 'utf8')) as { cases: OfficialCase[] }).cases;
/**
 * The engine computes no attribute transport (VISOR's and the arena's prompts name no attribute
 * words, docs/method.md §6.5): cases whose adjectives the official loss adds (from step 7, ST:627-631)
 * are left out; before step 7 the adjectives change nothing and the case is checked.
 */
const withAttributes = (c: OfficialCase) => c.indices[1].some((a) => a !== null) && c.step >= 7;
/** The arena guides only prompts in which STORM finds a relation word (relation.ts). */
const withoutRelation = (c: OfficialCase) => !/top|above|below|left|right|side|next|near/.test(c.prompt);
const CASES = ALL.filter((c) => !withAttributes(c) && !withoutRelation(c));

/** The official config's switch for SD 2.1 is the pipeline's normalize_eot, the parameter's name here. */
const NAMES: Record<string, string> = { sd_2_1: 'normalize_eot' };
const paramsOf = (c: OfficialCase) => Object.fromEntries(Object.entries(c.params).map(([k, v]) => [NAMES[k] ?? k, v]));

/** --relation: the phrase of the prompt (STORM itself reads the text). */
const PHRASES = ['to the left of', 'to the right of', 'on the top of', 'on top of', 'on side of', 'next to', 'above', 'below', 'near', 'and'];
const phraseOf = (prompt: string) => PHRASES.find((p) => prompt.includes(` ${p} `))!;

/** The case's maps with one object per noun (that token its span), and the end token's position. */
function caseMaps(c: OfficialCase): MapsFile {
  const maps = mapsFileSchema.parse(JSON.parse(readFileSync(join(FIXTURES, c.maps), 'utf8')));
  const eot = (JSON.parse(readFileSync(join(FIXTURES, c.maps), 'utf8')) as { eot: number }).eot;
  return { ...maps, objects: c.indices[0].map((t) => ({ name: `token ${t}`, tokens: [t] })), eot };
}

/**
 * The official gradient of this case itself moves by 1.0e-3 relative when the input probabilities move
 * by 1 ulp of float32 (make_fixtures.py's loss_case with perturb 1 or 3: -0.540104, unperturbed
 * -0.539548; the loss moves by 1.2e-5, its float32_sensitivity): a pixel at the edge of the transport
 * kernel's underflow. The engine's value (-0.540104) is the perturbed one; checked to 2e-3.
 */
const GRADIENT_TOLERANCE: Record<string, number> = { 'maps/clip16_hydrant.json': 2e-3 };

const resolved = (c: OfficialCase, steps = 50) =>
  storm.params.resolve(methodDefaults(storm, 'sd1', null), { ...paramsOf(c), steps }, 'the case', 'sd1') as StormParams;

const dir = mkdtempSync(join(tmpdir(), 'storm-official-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const report = new ErrorReport();
after(() => console.log(`storm official cases: ${report}`));

function expectOfficial(out: { loss: number; coordinate: number[]; w: number }, c: OfficialCase): void {
  report.close(out.loss, c.expected.loss, 'loss');
  c.expected.coordinate.forEach((v, k) => report.close(out.coordinate[k], v, `coordinate[${k}]`));
  report.close(out.w, c.expected.w, 'w');
}

describe('guidance loss --method storm equals the official code (cases.json)', () => {
  test('the fixtures hold the cases this file leaves out, for the reasons it states', () => {
    assert.equal(ALL.filter(withAttributes).length, 2);
    assert.deepEqual(
      ALL.filter(withoutRelation).map((c) => c.prompt),
      ['a dog and a cup'],
    );
  });

  CASES.forEach((c, i) => {
    test(`#${i} ${c.maps} "${c.prompt}" i=${c.step} ${JSON.stringify(c.params)}: ${c.note}`, async () => {
      const file = join(dir, `case-${i}.json`);
      writeFileSync(file, JSON.stringify(caseMaps(c)));
      const run = await runCli([
        'guidance',
        'loss',
        '--method',
        'storm',
        '--maps',
        file,
        '--relation',
        phraseOf(c.prompt),
        '--prompt',
        c.prompt,
        '--params',
        JSON.stringify(paramsOf(c)),
        '--step',
        String(c.step),
        '--steps',
        '50',
      ]);
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout) as { guided: boolean; loss: number; coordinate: number[]; w: number };
      if (c.step === 0) {
        // STORM reads no loss at step 0 (ST:819, 840): the loss there is the graph's, as the reference computes it for nothing
        assert.deepEqual(out, { guided: false, step: 0 });
        const params = resolved(c);
        const evaluation = await evaluateMethodLoss(storm, caseMaps(c), null, params, { index: 0, steps: 50, refinement: [false] }, c.prompt);
        expectOfficial({ loss: evaluation.loss, ...(evaluation.report as { coordinate: number[]; w: number }) }, c);
        return;
      }
      assert.equal(out.guided, true);
      expectOfficial(out, c);
    });
  });

  CASES.forEach((c, i) => {
    test(`#${i} d loss / d P along P^2 (grad_dot_maps_sq)`, async () => {
      const maps = caseMaps(c);
      const params = resolved(c);
      const lossModel = buildMethodLossModel(storm, params, maps);
      const { model, gradients } = grad(
        lossModel.model,
        'loss',
        lossModel.layerInputs.map((l) => l.name),
      );
      const row = storm.guidance!.prepareFromMaps(mapsPrompt(maps, null, c.prompt), params);
      const feeds = methodLossFeeds(storm, lossModel, maps, row, params, { index: c.step, steps: 50, refinement: [false] });
      const session = await ort.InferenceSession.create(serializeModel(model), { logSeverityLevel: 3 });
      try {
        const out = await session.run(feeds);
        let along = 0;
        lossModel.layerInputs.forEach((input, k) => {
          const p = feeds[input.name]!.data as Float32Array;
          const g = out[gradients[k]!]!.data as Float32Array;
          for (let j = 0; j < p.length; j++) along += g[j]! * p[j]! * p[j]!;
        });
        const tolerance = GRADIENT_TOLERANCE[c.maps];
        if (tolerance === undefined) report.close(along, c.expected.grad_dot_maps_sq, 'grad_dot_maps_sq');
        else
          assert.ok(
            Math.abs(along - c.expected.grad_dot_maps_sq) <= tolerance * Math.abs(c.expected.grad_dot_maps_sq),
            `grad_dot_maps_sq: got ${along}, official ${c.expected.grad_dot_maps_sq}`,
          );
      } finally {
        await session.release();
      }
    });
  });

  test('refusals name what is missing', async () => {
    const c = CASES[0]!;
    const file = join(dir, 'refusals.json');
    writeFileSync(file, JSON.stringify(caseMaps(c)));
    const loss = (extra: string[]) =>
      runCli(['guidance', 'loss', '--method', 'storm', '--maps', file, '--relation', 'to the left of', '--step', '10', '--steps', '50', ...extra]);
    const noRelation = await loss(['--prompt', 'a dog and a cup']);
    assert.equal(noRelation.code, 1);
    assert.match(
      noRelation.stderr,
      /STORM reads the relation from the prompt's text \(one of "top", "above", "below", "left", "right", "side", "next", "near", as substrings\) and finds none in "a dog and a cup"/,
    );
    const noPrompt = await loss([]);
    assert.equal(noPrompt.code, 1);
    assert.match(noPrompt.stderr, /STORM reads the relation from the prompt's words: give the prompt \(--prompt\)/);
    const { eot: _eot, ...withoutEot } = caseMaps(c);
    writeFileSync(file, JSON.stringify(withoutEot));
    const noEot = await loss(['--prompt', c.prompt, '--params', '{"normalize_eot": true}']);
    assert.equal(noEot.code, 1);
    assert.match(noEot.stderr, /the maps file needs "eot"/);
    writeFileSync(file, JSON.stringify({ ...caseMaps(c), objects: caseMaps(c).objects.slice(0, 1) }));
    const oneObject = await loss(['--prompt', c.prompt]);
    assert.equal(oneObject.code, 1);
    assert.match(oneObject.stderr, /STORM guides prompts with exactly two objects \(its pipeline.py:818\), this one has 1/);
    writeFileSync(file, JSON.stringify(caseMaps(c)));
    const wrongGrid = await loss(['--prompt', c.prompt, '--params', '{"kernel_size": 5}']);
    assert.equal(wrongGrid.code, 1);
    assert.match(
      wrongGrid.stderr,
      /STORM's targets lie on a fixed 16 x 16 grid \(its pipeline.py:401\): its maps must be 16 x 16, not 16 x 16, smoothed with kernel 5 to 14 x 14/,
    );
  });
});
