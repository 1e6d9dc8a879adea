/**
 * `infsplign guidance loss --method attend-and-excite` against the loss the OFFICIAL Attend-and-Excite
 * code computed (fixtures/arena-official/attend-and-excite/cases.json, made by its make_fixtures.py):
 * every case's loss, per-token losses and maxima to 1e-4 relative (absolute floor 1e-6), and the
 * loss graph's gradient with respect to the probabilities along P -> P + eps P^2 (grad_dot_maps_sq).
 * The fixtures give each token to alter as an index; here each is an object of the maps file whose
 * last token it is, as the engine takes objects' spans.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { methodDefaults } from '../../src/contracts/model-defaults.ts';
import { attendAndExcite } from '../../src/methods/attend-and-excite/index.ts';
import { mapsFileSchema, type MapsFile } from '../../src/methods/maps-file.ts';
import { runCli } from '../cli/run-cli.ts';
import { ErrorReport } from '../guidance/support/official-flags.ts';
import { methodGradientAlongSquares } from './support/gradient-along-squares.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/arena-official');

interface OfficialCase {
  maps: string;
  prompt: string;
  eot: number;
  indices: number[];
  params: Record<string, unknown>;
  note: string;
  expected: { loss: number; losses: number[]; max_attention: number[]; grad_dot_maps_sq: number };
}

const CASES = (JSON.parse(readFileSync(join(FIXTURES, 'attend-and-excite/cases.json'), 'utf8')) as { cases: OfficialCase[] }).cases;

/** The official config's switch for SD 2.1 is the pipeline's normalize_eot, the parameter's name here (AE:527). */
const NAMES: Record<string, string> = { sd_2_1: 'normalize_eot' };
const paramsOf = (c: OfficialCase) => Object.fromEntries(Object.entries(c.params).map(([k, v]) => [NAMES[k] ?? k, v]));

/** The case's maps with one object per token to alter (that token its span), and the end token's position. */
function casesMaps(c: OfficialCase): MapsFile {
  const maps = mapsFileSchema.parse(JSON.parse(readFileSync(join(FIXTURES, c.maps), 'utf8')));
  return { ...maps, objects: c.indices.map((t) => ({ name: `token ${t}`, tokens: [t] })), eot: c.eot };
}

const dir = mkdtempSync(join(tmpdir(), 'ae-official-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const report = new ErrorReport();
after(() => console.log(`attend-and-excite official cases: ${report}`));

describe('guidance loss --method attend-and-excite equals the official code (cases.json)', () => {
  CASES.forEach((c, i) => {
    test(`#${i} ${c.maps} ${JSON.stringify(c.params)} tokens ${c.indices.join(',')}: ${c.note}`, async () => {
      const file = join(dir, `case-${i}.json`);
      writeFileSync(file, JSON.stringify(casesMaps(c)));
      const run = await runCli([
        'guidance',
        'loss',
        '--method',
        'attend-and-excite',
        '--maps',
        file,
        '--relation',
        'to the left of',
        '--prompt',
        c.prompt,
        '--params',
        JSON.stringify(paramsOf(c)),
      ]);
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout) as { guided: boolean; loss: number; losses: number[]; max_attention: number[] };
      assert.equal(out.guided, true);
      report.close(out.loss, c.expected.loss, 'loss');
      assert.equal(out.losses.length, c.indices.length);
      c.expected.losses.forEach((v, k) => report.close(out.losses[k], v, `losses[${k}]`));
      c.expected.max_attention.forEach((v, k) => report.close(out.max_attention[k], v, `max_attention[${k}]`));
    });
  });

  CASES.forEach((c, i) => {
    test(`#${i} d loss / d P along P^2 (grad_dot_maps_sq)`, async () => {
      const maps = casesMaps(c);
      const params = attendAndExcite.params.resolve(methodDefaults(attendAndExcite, 'sd1', null), paramsOf(c), 'the case', 'sd1');
      report.close(await methodGradientAlongSquares(attendAndExcite, params, maps), c.expected.grad_dot_maps_sq, 'grad_dot_maps_sq');
    });
  });

  test('--step: a step that neither updates nor refines reads no loss; one that does reads the same loss', async () => {
    const c = CASES[0]!;
    const file = join(dir, 'steps.json');
    writeFileSync(file, JSON.stringify(casesMaps(c)));
    const at = (step: number) =>
      runCli([
        'guidance',
        'loss',
        '--method',
        'attend-and-excite',
        '--maps',
        file,
        '--relation',
        'to the left of',
        '--params',
        JSON.stringify(paramsOf(c)),
        '--step',
        String(step),
        '--steps',
        '50',
      ]);
    const late = await at(30);
    const early = await at(24);
    assert.deepEqual(JSON.parse(late.stdout), { guided: false, step: 30 });
    const out = JSON.parse(early.stdout) as { guided: boolean; loss: number };
    assert.equal(out.guided, true);
    report.close(out.loss, c.expected.loss, 'loss at step 24');
  });

  test('refusals name what is missing', async () => {
    const c = CASES.find((k) => k.params.sd_2_1 === true)!;
    const { eot: _eot, ...withoutEot } = casesMaps(c);
    const file = join(dir, 'no-eot.json');
    writeFileSync(file, JSON.stringify(withoutEot));
    const run = await runCli([
      'guidance',
      'loss',
      '--method',
      'attend-and-excite',
      '--maps',
      file,
      '--relation',
      'to the left of',
      '--params',
      '{"normalize_eot": true}',
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /normalize_eot keeps the prompt's words \[1:eot\] in the softmax: the maps file needs "eot"/);
    const wrongRes = await runCli([
      'guidance',
      'loss',
      '--method',
      'attend-and-excite',
      '--maps',
      file,
      '--relation',
      'to the left of',
      '--params',
      '{"attention_res": 32}',
    ]);
    assert.equal(wrongRes.code, 1);
    assert.match(wrongRes.stderr, /no cross-attention layer has 32x32 maps \(attention_res 32\); the model's maps are 16x16$/m);
  });
});
