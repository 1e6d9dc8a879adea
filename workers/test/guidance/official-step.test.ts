/**
 * `infsplign guidance step` against guided steps the OFFICIAL InfSplign pipeline computed
 * (fixtures/infsplign-official/step, made by make_step_fixture.py): a tiny SD-2.1-shaped diffusers
 * U-Net, the official flags, latent and embeddings in, and out the loss, each layer's spatial, energy
 * and total terms and centroids (1e-4 relative, absolute floor 1e-6), d loss / d latent and eps_guided
 * (each element within 1e-4 of its array's largest magnitude: eps_guided = eps_u + 7.5 (eps_c - eps_u)
 * + 1000 g cancels to near 0 in places, where it keeps its terms' absolute error). The objects' tokens
 * are found by the engine in the prompt (the fixture's CLIP-BPE tokenizer), with the reference's
 * token slicing: a one-word object of two BPE tokens gives its second token to the other object.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readNpy } from '../../src/util/npy.ts';
import { runCli } from '../cli/run-cli.ts';
import { ErrorReport, paramsOfFlags } from './support/official-flags.ts';

const STEP = join(import.meta.dirname, '../fixtures/infsplign-official/step');

interface OfficialStepCase {
  name: string;
  prompt: string;
  benchmark_record: { obj_1_attributes?: string[]; obj_2_attributes?: string[]; objects?: string[] };
  argv: string[];
  relation: string | null;
  object_tokens: number[][];
  step: number;
  steps: number;
  timestep: number;
  inputs: { latent: string; cond: string; uncond: string };
  expected: { loss: number; layers: Array<{ name: string; spatial: number; energy: number; total: number; centroids: number[][] }> };
}

const FIXTURE = JSON.parse(readFileSync(join(STEP, 'cases.json'), 'utf8')) as { cases: OfficialStepCase[]; unet: { config: Record<string, unknown> } };

/** Subject and reference as the benchmark record names them (VISOR: obj_k_attributes; T2I: objects). */
function objectsOf(c: OfficialStepCase): string[] {
  const r = c.benchmark_record;
  return r.objects ?? [r.obj_1_attributes![0]!, r.obj_2_attributes![0]!];
}

/**
 * The parameters: the official flags; for a T2I record, whole object names, as the reference searches
 * T2I-CompBench objects (pipeline_batch.py:459; VISOR and GenEval keep their last word).
 */
function paramsOf(c: OfficialStepCase): Record<string, unknown> {
  const t2i = c.argv.join(' ').includes('--benchmark t2i');
  return { ...paramsOfFlags(c.argv), ...(t2i ? { object_tokens: 'whole_phrase' } : {}) };
}

/** A module path as the reference names it (an exported graph's scopes use slashes, and may add one on top). */
const modulePath = (name: string) => name.replace(/\//g, '.').replace(/^m\./, '');

interface StepOutput {
  guided: boolean;
  timestep: number;
  object_tokens: number[][];
  loss: number;
  layers: Array<{ name: string; spatial: number; energy: number; total: number; centroids: number[][] }>;
}

const work = mkdtempSync(join(tmpdir(), 'official-step-'));
const cacheBefore = process.env.INFSPLIGN_CACHE;
before(() => (process.env.INFSPLIGN_CACHE = join(work, 'cache')));
after(() => {
  if (cacheBefore === undefined) delete process.env.INFSPLIGN_CACHE;
  else process.env.INFSPLIGN_CACHE = cacheBefore;
  rmSync(work, { recursive: true, force: true });
});
const report = new ErrorReport();
after(() => console.log(`official guided steps: ${report}`));

/** Each element of `actual` within 1e-4 of the largest magnitude of `expected` (floor 1e-6). */
function arraysClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expected.forEach((v, k) => report.close(actual[k], v, `${what}[${k}]`, scale));
}

describe('guidance step equals the official guided step (step/cases.json)', () => {
  for (const c of FIXTURE.cases) {
    test(`${c.name}: ${c.prompt} ${c.argv.join(' ')}`, async () => {
      const out = join(work, c.name);
      const argv = [
        'guidance',
        'step',
        '--unet',
        join(STEP, 'unet.onnx'),
        '--tokenizer',
        join(STEP, 'tokenizer'),
        '--family',
        'sd2',
        '--prompt',
        c.prompt,
        '--objects',
        objectsOf(c).join(','),
        '--relation',
        c.relation ?? 'on top of',
        '--latent',
        join(STEP, c.inputs.latent),
        '--cond',
        join(STEP, c.inputs.cond),
        '--uncond',
        join(STEP, c.inputs.uncond),
        '--step',
        String(c.step),
        '--steps',
        String(c.steps),
        '--params',
        JSON.stringify(paramsOf(c)),
        '--out',
        out,
      ];
      const run = await runCli(argv);
      assert.equal(run.code, 0, `infsplign ${argv.join(' ')} failed: ${run.stderr}`);
      const got = JSON.parse(run.stdout) as StepOutput;
      assert.deepEqual(
        [got.guided, got.timestep, got.object_tokens],
        [true, c.timestep, c.object_tokens],
        "guided, the scheduler's timestep, the tokens the reference averaged per object",
      );
      report.close(got.loss, c.expected.loss, 'loss');
      const layers = new Map(got.layers.map((l) => [modulePath(l.name), l]));
      assert.deepEqual([...layers.keys()].sort(), c.expected.layers.map((l) => l.name).sort(), 'the layers read');
      for (const want of c.expected.layers) {
        const layer = layers.get(want.name)!;
        for (const key of ['spatial', 'energy', 'total'] as const) report.close(layer[key], want[key], `${want.name} ${key}`);
        want.centroids.flat().forEach((v, j) => report.close(layer.centroids.flat()[j], v, `${want.name} centroid ${j >> 1} ${j % 2 ? 'y' : 'x'}`));
      }
      for (const array of ['grad', 'eps_uncond', 'eps_cond', 'eps_guided']) {
        const expected = readNpy(join(STEP, c.name, `${array}.npy`));
        const actual = readNpy(join(out, `${array}.npy`));
        assert.deepEqual(actual.shape, expected.shape, `${array} shape`);
        arraysClose(actual.data, expected.data, `${c.name} ${array}`);
      }
    });
  }
});
