import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateVisorPrompts } from '../../src/prompts/visor.ts';
import { buildTinyModelFolder } from '../support/tiny-model.ts';
import { runCli } from './run-cli.ts';

/** The tiny model, and a VISOR-Shapes prompt file over apple, box and tree (ids 0.. are spatial; "and" and single-object prompts follow each pair). */
function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'experiment-cli-'));
  buildTinyModelFolder(join(dir, 'model'));
  const prompts = join(dir, 'prompts.json');
  writeFileSync(prompts, JSON.stringify(generateVisorPrompts(['apple', 'box', 'tree'])));
  writeFileSync(join(dir, 'strong.json'), '{"guidance_weight": 3000}');
  return { dir, model: join(dir, 'model'), prompts, out: join(dir, 'out') };
}

const args = (f: ReturnType<typeof fixture>, extra: string[]) => [
  'experiment',
  '--model',
  f.model,
  '--benchmark',
  'visor-shapes',
  '--prompts',
  f.prompts,
  '--out',
  f.out,
  '--images-per-prompt',
  '2',
  ...extra,
];

describe('infsplign experiment', () => {
  test('generates, evaluates and tabulates each configuration; its figures are what evaluate says of the same images; a rerun resumes', async () => {
    const f = fixture();
    const run = await runCli(args(f, ['--limit', '3', '--configs', `baseline,strong=@${join(f.dir, 'strong.json')}`]));
    assert.equal(run.code, 0, run.stderr);
    const table = JSON.parse(readFileSync(join(f.out, 'experiment.json'), 'utf8'));
    assert.deepEqual(
      table.rows.map((r: { name: string; method: string; images: number }) => [r.name, r.method, r.images]),
      [
        ['baseline', 'baseline', 6],
        ['strong', 'infsplign', 6],
      ],
    );
    assert.equal(table.prompts, 3);
    assert.match(readFileSync(join(f.out, 'experiment.md'), 'utf8'), /^\| strong \| [\d.]+ \[[\d.]+, [\d.]+\] \|/m);
    assert.match(run.stdout, /\| configuration \| OA \| VISOR_cond \| VISOR_uncond \| VISOR_1 \| VISOR_2 \| VISOR_3 \| VISOR_4 \| s \/ image \|/);
    assert.match(run.stdout, /VISOR_cond by relation/);

    for (const row of table.rows) {
      const evaluated = await runCli([
        'evaluate',
        '--benchmark',
        'visor-shapes',
        '--prompts',
        f.prompts,
        '--images',
        join(f.out, row.name),
        '--detector',
        'shapes',
        '--out',
        join(f.dir, `evaluated-${row.name}.json`),
      ]);
      assert.equal(evaluated.code, 0, evaluated.stderr);
      assert.deepEqual(JSON.parse(readFileSync(join(f.dir, `evaluated-${row.name}.json`), 'utf8')).aggregates, row.aggregates);
    }
    // Only the first 3 spatial prompts were generated: ids 0, 1, 2.
    assert.deepEqual(
      JSON.parse(readFileSync(join(f.out, 'baseline', 'manifest.json'), 'utf8')).images.map((i: { file: string }) => i.file),
      ['0_0.png', '0_1.png', '1_0.png', '1_1.png', '2_0.png', '2_1.png'],
    );

    const image = join(f.out, 'strong', '2_1.png');
    const written = statSync(image).mtimeMs;
    const again = await runCli(args(f, ['--limit', '3', '--configs', `baseline,strong=@${join(f.dir, 'strong.json')}`]));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(statSync(image).mtimeMs, written, 'a finished image is not generated again');
    assert.deepEqual(
      JSON.parse(readFileSync(join(f.out, 'experiment.json'), 'utf8')).rows.map((r: { aggregates: unknown }) => r.aggregates),
      table.rows.map((r: { aggregates: unknown }) => r.aggregates),
    );
  });

  test('bad configurations fail before any image is made, naming the problem', async () => {
    const f = fixture();
    const typo = await runCli(args(f, ['--configs', 'baseline,x={"guidance_wieght":1}']));
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /configuration x.*guidance_wieght/);
    assert.equal(existsSync(join(f.out, 'baseline', 'manifest.json')), false);
    const usage = await runCli(args(f, ['--configs', 'baseline,baseline']));
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /names 'baseline' twice/);
    const noPrompts = await runCli(['experiment', '--model', f.model, '--benchmark', 'visor', '--out', f.out]);
    assert.equal(noPrompts.code, 2);
    assert.match(noPrompts.stderr, /--prompts is needed for visor/);
  });
});
