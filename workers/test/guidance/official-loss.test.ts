/**
 * `infsplign guidance loss` against the loss the OFFICIAL InfSplign code computed
 * (fixtures/infsplign-official/loss_cases.json, made by make_loss_cases.py from the official command
 * line): every case's official flags become docs/method.md §4 parameters, and then
 * - an accepted value gives the official loss and, per layer, the spatial, energy and total terms and
 *   both centroids, to 1e-4 relative with an absolute floor of 1e-6;
 * - a step outside the guided ones is reported unguided;
 * - a refused value (one the reference crashes on, or runs without effect) is refused with an error
 *   naming the reference's defect.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ACTIVATIONS } from '../../src/contracts/method-params.ts';
import { runCli } from '../cli/run-cli.ts';
import { ErrorReport, paramsOfFlags } from './support/official-flags.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/infsplign-official');

interface OfficialLayer {
  name: string;
  spatial: number;
  energy: number;
  total: number;
  centroids: number[][];
}

interface OfficialCase {
  maps: string;
  prompt: string;
  argv: string[];
  step: number;
  steps?: number;
  relation?: string | null;
  /** what the official pipeline received, after its command line's conversions */
  params?: Record<string, unknown> | null;
  note?: string;
  refused?: string;
  official_error?: string;
  expected?: { guided: boolean; loss?: number; layers?: OfficialLayer[] };
}

const CASES = (JSON.parse(readFileSync(join(FIXTURES, 'loss_cases.json'), 'utf8')) as { cases: OfficialCase[] }).cases;

const PHRASINGS = [
  'to the left of',
  'on the left of',
  'left of',
  'to the right of',
  'on the right of',
  'right of',
  'above',
  'on the top of',
  'below',
  'on the bottom of',
  'near',
  'next to',
  'on side of',
];

/**
 * The phrase the CLI is given: the relation the official code found, or (where it raised before saying)
 * the prompt's; the phrases that carry no spatial term when it found none.
 */
function relationPhrase(c: OfficialCase): string {
  if (c.relation) return c.relation;
  const candidates = c.relation === null ? ['on top of', 'on bottom of', 'and'] : [...PHRASINGS, 'on top of', 'and'].sort((a, b) => b.length - a.length);
  const phrase = candidates.find((p) => c.prompt.includes(` ${p} `));
  assert.ok(phrase, `no relation phrase in '${c.prompt}'`);
  return phrase;
}

/** Which error names the defect of each refused official option. */
const DEFECTS: Array<[flag: string, message: RegExp]> = [
  ['loss_type', /is not one of the reference's 15 activations .*its spatial_loss raises/],
  [
    'loss_num',
    /loss_num must be (1, 2 or 3: with any other value the reference silently drops the spatial term|an integer \(the reference calls int\(\) on it and raises\))/,
  ],
  ['centroid_type', /centroid_type ('sg' crashes the reference|"median": the reference assigns no centroid)/],
  ['two_objects', /two_objects false crashes the reference/],
  ['self_guidance_mode', /'self_guidance_mode' is refused: left out: the Self-Guidance method's schedule/],
  ['use_clip_loss', /'use_clip_loss' is refused: left out: a CLIP score/],
  ['update_latents', /'update_latents' is refused: in the reference it only changes weights/],
  ['sg_grad_wt', /'sg_grad_wt' is refused: the reference overwrites it with 1000/],
  ['grad_norm_scale', /'grad_norm_scale' is refused: the reference passes it to the pipeline and never reads it/],
  ['use_energy', /'use_energy' is refused: dead code in the reference/],
  ['object_presence', /object_presence needs a relation the reference lists: on a prompt without one the reference raises/],
];

/**
 * The one refused case about no option of the loss: the reference's GenEval prompt path under its default
 * multiprocessing raises before any loss; the engine reads GenEval prompts itself (the same maps pass
 * under `--do_multiprocessing ""` above).
 */
const NOT_AN_OPTION = (c: OfficialCase) => c.refused?.startsWith('GenEval under the default multiprocessing path') ?? false;

/**
 * The official refusal, or the engine's own of a value the reference runs only because it never reads
 * it: an unknown loss_type on a prompt without a relation (docs/method.md §4.2: refused whatever the prompt).
 */
function refusal(c: OfficialCase, params: Record<string, unknown>): string | undefined {
  if (c.refused) return c.refused;
  const activation = params.loss_type;
  if (typeof activation === 'string' && !(ACTIVATIONS as readonly string[]).includes(activation)) return `an unknown loss_type (${c.note})`;
  return undefined;
}

interface LossOutput {
  guided: boolean;
  loss?: number;
  guide_steps?: [number, number];
  layers?: OfficialLayer[];
}

async function guidanceLoss(c: OfficialCase, params: Record<string, unknown>) {
  const stepsGiven = 'num_inference_steps' in params || c.steps === undefined;
  const argv = [
    'guidance',
    'loss',
    '--method',
    'infsplign',
    '--maps',
    join(FIXTURES, c.maps),
    '--relation',
    relationPhrase(c),
    '--prompt',
    c.prompt,
    '--params',
    JSON.stringify(params),
    '--step',
    String(c.step),
    ...(stepsGiven ? [] : ['--steps', String(c.steps)]),
  ];
  return { argv, run: await runCli(argv) };
}

const report = new ErrorReport();
after(() => console.log(`official loss cases: ${report}`));

const label = (c: OfficialCase, i: number) =>
  `#${i} ${c.maps} ${c.argv.join(' ') || '(defaults)'}${c.steps !== undefined && c.step ? ` at step ${c.step}` : ''}`;

describe('guidance loss equals the official InfSplign code (loss_cases.json)', () => {
  CASES.forEach((c, i) => {
    test(label(c, i), async () => {
      const params = paramsOfFlags(c.argv);
      if (NOT_AN_OPTION(c)) return;
      const { argv, run } = await guidanceLoss(c, params);
      const refused = refusal(c, params);
      if (refused) {
        assert.equal(run.code, 1, `infsplign ${argv.join(' ')} must be refused (${refused}); it printed ${run.stdout}`);
        const defects = DEFECTS.filter(([flag]) => flag in params).map(([, message]) => message);
        assert.ok(
          defects.some((m) => m.test(run.stderr)),
          `the error must name the reference's defect (${refused}); got: ${run.stderr}`,
        );
        return;
      }
      assert.equal(run.code, 0, `infsplign ${argv.join(' ')} failed: ${run.stderr}`);
      const out = JSON.parse(run.stdout) as LossOutput;
      assert.equal(out.guided, c.expected!.guided, 'guided');
      if (!out.guided) return;
      report.close(out.loss, c.expected!.loss!, 'loss');
      assert.deepEqual(
        out.layers!.map((l) => l.name),
        c.expected!.layers!.map((l) => l.name),
        "layers, in the maps file's order",
      );
      c.expected!.layers!.forEach((want, k) => {
        const got = out.layers![k]!;
        for (const key of ['spatial', 'energy', 'total'] as const) report.close(got[key], want[key], `${want.name} ${key}`);
        want.centroids.flat().forEach((v, j) => report.close(got.centroids.flat()[j], v, `${want.name} centroid ${j >> 1} ${j % 2 ? 'y' : 'x'}`));
      });
    });
  });

  test('energy_loss prob, where float32 loses digits near P = 1, is as exact as the others (5e-6 relative, no floor)', async () => {
    const c = CASES.find((k) => k.argv.join(' ') === '--energy_loss prob')!;
    const { run } = await guidanceLoss(c, paramsOfFlags(c.argv));
    const out = JSON.parse(run.stdout) as LossOutput;
    c.expected!.layers!.forEach((want, k) => {
      const relative = Math.abs(out.layers![k]!.energy - want.energy) / Math.abs(want.energy);
      assert.ok(relative < 5e-6, `${want.name} energy: ${out.layers![k]!.energy} vs official ${want.energy} (relative ${relative.toExponential(2)})`);
    });
  });

  test('the flags as read here are what the official pipeline received', () => {
    for (const c of CASES) {
      if (!c.params) continue;
      const params = paramsOfFlags(c.argv);
      for (const [key, official] of Object.entries(c.params)) {
        if (key === 'edit_weight') continue; // the reference's own weight, which no flag sets
        // the reference passes L2_norm unconverted: any non-empty string is true
        const value = typeof official === 'string' && key === 'L2_norm' ? official !== '' : official;
        if (key in params) assert.deepEqual(params[key], value, `${c.argv.join(' ')}: ${key}`);
        else
          assert.ok(
            key === 'sg_grad_wt' || key === 'no_wt' || key === 'gaussian_smoothing' || key === 'masked_mean',
            `${c.argv.join(' ')}: ${key} ${JSON.stringify(official)} not read from the flags`,
          );
      }
    }
  });

  test('the cases cover every option value of docs/method.md §4.1, and every relation phrasing', () => {
    const seen = (flag: string) => new Set(CASES.map((c) => paramsOfFlags(c.argv)[flag]));
    const byDefault = (flag: string, fallback: unknown) => new Set([...seen(flag)].map((v) => v ?? fallback));
    assert.deepEqual(
      ACTIVATIONS.filter((a) => !byDefault('loss_type', 'gelu').has(a)),
      [],
    );
    for (const flag of ['energy_loss', 'top_loss'])
      assert.deepEqual(
        ['var', 'log', 'entropy', 'prob', 'mean', 'gibs', 'gibsent', 'lin', 'square', 'exp', 'none', ''].filter((e) => !seen(flag).has(e)),
        [],
        flag,
      );
    for (const flag of ['strategy', 'top_strategy'])
      assert.deepEqual(
        ['diff', 'dec', 'both', 'inc', 'std', 'second', 'entgibs', 'mutual', 'none', ''].filter((e) => !seen(flag).has(e)),
        [],
        flag,
      );
    assert.deepEqual(
      [1, 2, 3].filter((n) => !byDefault('loss_num', 1).has(n)),
      [],
    );
    for (const flag of ['L2_norm', 'gaussian_smoothing', 'masked_mean', 'object_presence', 'no_wt'])
      assert.ok(seen(flag).has(true) || seen(flag).has(false), flag);
    const relations = new Set(CASES.map((c) => c.relation));
    assert.deepEqual(
      PHRASINGS.filter((p) => !relations.has(p)),
      [],
    );
  });
});
