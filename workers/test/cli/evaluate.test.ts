import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writePng } from '../../src/image/png.ts';
import { generateVisorPrompts } from '../../src/prompts/visor.ts';
import { renderLayout, type LabelledBox } from '../../src/shapes/render.ts';
import { SHAPES_WORLD } from '../../src/shapes/world.ts';
import { runCli } from './run-cli.ts';
import { APPLE_LEFT, APPLE_ONLY, APPLE_RIGHT } from '../support/shapes-scenes.ts';

/**
 * A VISOR-Shapes prompt file over apple and box (prompt 0: "an apple to the left of a box") and a
 * folder of renders named {ID}_{K}.png, plus a file that is not an image.
 */
function fixture(images: Record<string, LabelledBox[]>, names = ['apple', 'box']) {
  const dir = mkdtempSync(join(tmpdir(), 'evaluate-cli-'));
  const prompts = join(dir, 'prompts.json');
  writeFileSync(prompts, JSON.stringify(generateVisorPrompts(names)));
  const imagesDir = join(dir, 'images');
  mkdirSync(imagesDir);
  for (const [name, layout] of Object.entries(images)) writePng(join(imagesDir, name), renderLayout(SHAPES_WORLD, layout).image);
  writeFileSync(join(imagesDir, 'notes.txt'), 'generated with seed 1');
  return { dir, prompts, imagesDir, out: join(dir, 'result.json'), detectionsOut: join(dir, 'detections.jsonl') };
}

const evaluateArgs = (f: ReturnType<typeof fixture>, extra: string[] = []) => [
  'evaluate',
  '--benchmark',
  'visor-shapes',
  '--prompts',
  f.prompts,
  '--images',
  f.imagesDir,
  '--detector',
  'shapes',
  '--out',
  f.out,
  ...extra,
];

describe('infsplign evaluate', () => {
  test('detects Shapes renders and scores them as score would, writing the detections in score format', async () => {
    const f = fixture({ '0_0.png': APPLE_LEFT, '0_1.png': APPLE_RIGHT, '0_2.png': APPLE_ONLY, '1_0.png': APPLE_LEFT });
    const { code, stdout } = await runCli(evaluateArgs(f, ['--detections-out', f.detectionsOut]));
    assert.equal(code, 0);
    assert.match(stdout, /^visor-shapes: 4 images of 2 prompts scored \(threshold 0\.1\)/);
    const result = JSON.parse(readFileSync(f.out, 'utf8'));
    assert.deepEqual([result.benchmark, result.threshold, result.detector], ['visor-shapes', 0.1, 'shapes']);
    // prompt 1 is "a box to the left of an apple": its one image has the box on the right
    assert.deepEqual(
      result.images.map((i: { prompt: number; image: number; reason: string | null }) => [i.prompt, i.image, i.reason]),
      [
        [0, 0, null],
        [0, 1, 'apple is right of box, expected left of'],
        [0, 2, 'box not detected'],
        [1, 0, 'box is right of apple, expected left of'],
      ],
    );
    assert.equal(result.aggregates.OA, 75);
    assert.ok(Math.abs(result.aggregates.VISOR_cond - 100 / 3) < 1e-9);

    const lines = readFileSync(f.detectionsOut, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      lines.map((l) => [l.prompt, l.image, l.width, l.height, l.detections.map((d: { label: string }) => d.label).sort()]),
      [
        [0, 0, 32, 32, ['apple', 'box']],
        [0, 1, 32, 32, ['apple', 'box']],
        [0, 2, 32, 32, ['apple']],
        [1, 0, 32, 32, ['apple', 'box']],
      ],
    );
    const rescored = join(f.dir, 'rescored.json');
    assert.equal((await runCli(['score', '--benchmark', 'visor-shapes', '--prompts', f.prompts, '--detections', f.detectionsOut, '--out', rescored])).code, 0);
    assert.deepEqual(JSON.parse(readFileSync(rescored, 'utf8')).aggregates, result.aggregates);
  });

  test('--threshold is applied by the detector and the scorer alike', async () => {
    const f = fixture({ '0_0.png': APPLE_LEFT });
    assert.equal((await runCli(evaluateArgs(f, ['--threshold', '0.5', '--detections-out', f.detectionsOut]))).code, 0);
    assert.equal(JSON.parse(readFileSync(f.out, 'utf8')).threshold, 0.5);
    const [line] = readFileSync(f.detectionsOut, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(line.detections.every((d: { score: number }) => d.score > 0.5));
  });
});

describe('infsplign evaluate: bad input is an error naming the file, exit 1, and no output', () => {
  async function fails(f: ReturnType<typeof fixture>, args: string[], expected: RegExp) {
    const { code, stderr } = await runCli(args);
    assert.equal(code, 1, stderr);
    assert.match(stderr, expected);
    assert.equal(existsSync(f.out), false);
    assert.equal(existsSync(f.detectionsOut), false);
  }

  test('a missing images folder', async () => {
    const f = fixture({});
    await fails(
      f,
      ['evaluate', '--benchmark', 'visor', '--prompts', f.prompts, '--images', join(f.dir, 'renders'), '--detector', 'shapes', '--out', f.out],
      /^infsplign evaluate: .*renders: no such images folder$/,
    );
  });

  test('a folder with no images named {ID}_{K}.png', async () => {
    const f = fixture({});
    await fails(f, evaluateArgs(f), /images: no images named \{ID\}_\{K\}\.png$/);
  });

  test('a PNG named otherwise', async () => {
    const f = fixture({ '0_0.png': APPLE_LEFT, 'apple-0.png': APPLE_LEFT });
    await fails(f, evaluateArgs(f, ['--detections-out', f.detectionsOut]), /apple-0\.png: images must be named \{ID\}_\{K\}\.png/);
  });

  test('an unknown prompt id', async () => {
    const f = fixture({ '999_0.png': APPLE_LEFT });
    await fails(f, evaluateArgs(f), /999_0\.png: prompt 999 is not in .*prompts\.json$/);
  });

  test('an unreadable image', async () => {
    const f = fixture({ '0_0.png': APPLE_LEFT });
    writeFileSync(join(f.imagesDir, '0_1.png'), 'not a png');
    await fails(f, evaluateArgs(f), /0_1\.png: not a readable PNG/);
  });

  test('objects the closed-set detector does not know', async () => {
    const f = fixture({ '0_0.png': APPLE_LEFT }, ['apple', 'bee']);
    await fails(f, evaluateArgs(f), /prompts\.json: prompt 0 asks for 'bee', which is not among the labels of detector shapes$/);
  });

  test('an unknown benchmark or detector', async () => {
    const f = fixture({ '0_0.png': APPLE_LEFT });
    await fails(
      f,
      ['evaluate', '--benchmark', 'drawbench', '--prompts', f.prompts, '--images', f.imagesDir, '--detector', 'shapes', '--out', f.out],
      /^infsplign evaluate: unknown benchmark 'drawbench' \(expected one of visor, visor-shapes, t2i, geneval\)$/,
    );
    await fails(
      f,
      ['evaluate', '--benchmark', 'visor', '--prompts', f.prompts, '--images', f.imagesDir, '--detector', 'unidet', '--out', f.out],
      /unknown detector 'unidet' \(expected shapes, owlvit:PATH, coco:PATH\)$/,
    );
  });

  test('usage errors exit 2', async () => {
    const f = fixture({ '0_0.png': APPLE_LEFT });
    assert.equal((await runCli(['evaluate', '--benchmark', 'visor', '--prompts', f.prompts, '--images', f.imagesDir, '--out', f.out])).code, 2);
    assert.equal((await runCli(evaluateArgs(f, ['--threshold', '2']))).code, 2);
  });
});
