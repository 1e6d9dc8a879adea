import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../../src/cli/main.ts';
import { OFFICIAL_FILES } from '../../../src/prompts/official-files.ts';
import { generateVisorPrompts } from '../../../src/prompts/visor.ts';

const repoRoot = join(import.meta.dirname, '../../../..');

/** Runs the CLI in-process, capturing what it prints. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [stdout, stderr]: string[][] = [[], []];
  const { log, error } = console;
  console.log = (...parts: unknown[]) => stdout.push(parts.join(' '));
  console.error = (...parts: unknown[]) => stderr.push(parts.join(' '));
  try {
    return { code: await main(args), stdout: stdout.join('\n'), stderr: stderr.join('\n') };
  } finally {
    Object.assign(console, { log, error });
  }
}

function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'score-cli-'));
}

const detectionLine = (prompt: number, image: number, detections: unknown[]) => JSON.stringify({ prompt, image, width: 512, height: 512, detections });
const dog = (x: number, score = 0.9) => ({ label: 'dog', score, box: [x - 5, 45, x + 5, 55] });
const cup = (x: number, score = 0.9) => ({ label: 'cup', score, box: [x - 5, 45, x + 5, 55] });

/** A VISOR prompt file (dog/cup; id 0 = "a dog to the left of a cup") and a detections file. */
function visorFixture(lines: string[]) {
  const dir = workDir();
  const prompts = join(dir, 'prompts.json');
  writeFileSync(prompts, JSON.stringify(generateVisorPrompts(['dog', 'cup'])));
  const detections = join(dir, 'detections.jsonl');
  writeFileSync(detections, lines.join('\n'));
  return { dir, prompts, detections, out: join(dir, 'result.json'), official: join(dir, 'official') };
}

describe('infsplign score', () => {
  test('visor: RESULT.json with aggregates in percent, intervals and per-image reasons; official VISOR records', async () => {
    const f = visorFixture([
      detectionLine(0, 0, [dog(10), cup(50)]),
      detectionLine(0, 1, [dog(90), cup(50)]),
      detectionLine(0, 2, [dog(10)]),
      detectionLine(0, 3, [dog(10), cup(50, 0.1)]),
    ]);
    const { code, stdout } = await cli([
      'score',
      '--benchmark',
      'visor',
      '--prompts',
      f.prompts,
      '--detections',
      f.detections,
      '--out',
      f.out,
      '--official-out',
      f.official,
      '--model',
      'sd14',
      '--detector',
      'owlvit',
    ]);
    assert.equal(code, 0);
    assert.match(stdout, /OA 50 \[/);
    const result = JSON.parse(readFileSync(f.out, 'utf8'));
    assert.equal(result.benchmark, 'visor');
    assert.equal(result.threshold, 0.1);
    assert.equal(result.aggregates.OA, 50);
    assert.equal(result.aggregates.VISOR_cond, 50);
    assert.equal(result.aggregates.VISOR_1, 100);
    assert.equal(result.aggregates.by_relation['left of'].OA, 50);
    assert.equal(result.intervals.OA.length, 2);
    assert.deepEqual(
      result.images.map((i: { reason: string | null }) => i.reason),
      [null, 'dog is right of cup, expected left of', 'cup not detected', 'cup not detected'],
    );
    const official = JSON.parse(readFileSync(join(f.official, 'results_sd14_prompts_owlvit_0.1.json'), 'utf8'));
    assert.deepEqual(official['0_0'], {
      classes: ['dog', 'cup'],
      centroid: [
        [10, 50],
        [50, 50],
      ],
      recall: 2,
      sra: 1,
      text: 'a dog to the left of a cup',
    });
    assert.deepEqual(official['0_2'], { classes: ['dog'], centroid: [[10, 50]], recall: 1, sra: 0, text: 'a dog to the left of a cup' });
  });

  test('visor-shapes is scored as visor; --threshold overrides the default', async () => {
    const f = visorFixture([detectionLine(0, 0, [dog(10, 0.6), cup(50, 0.6)])]);
    assert.equal(
      (await cli(['score', '--benchmark', 'visor-shapes', '--prompts', f.prompts, '--detections', f.detections, '--out', f.out, '--threshold', '0.6'])).code,
      0,
    );
    const result = JSON.parse(readFileSync(f.out, 'utf8'));
    assert.deepEqual([result.benchmark, result.threshold, result.aggregates.OA], ['visor-shapes', 0.6, 0]);
  });

  test('t2i: spatial from 0 to 1; official vqa_result.json and mapping.json', async () => {
    const dir = workDir();
    const detections = join(dir, 'detections.jsonl');
    // prompt 0 of spatial_val.txt: "a giraffe next to a lamp"
    writeFileSync(
      detections,
      [
        detectionLine(0, 0, [
          { label: 'giraffe', score: 0.8, box: [0, 0, 100, 100] },
          { label: 'lamp', score: 0.8, box: [100, 0, 200, 100] },
        ]),
        detectionLine(0, 1, [{ label: 'giraffe', score: 0.8, box: [0, 0, 100, 100] }]),
      ].join('\n'),
    );
    const out = join(dir, 'result.json');
    const { code } = await cli([
      'score',
      '--benchmark',
      't2i',
      '--prompts',
      OFFICIAL_FILES.t2iSpatialVal,
      '--detections',
      detections,
      '--out',
      out,
      '--official-out',
      dir,
    ]);
    assert.equal(code, 0);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    assert.deepEqual([result.threshold, result.scorer_version], [0.1, 't2i-compbench-spatial/2']);
    assert.ok(Math.abs(result.aggregates.spatial - 0.9 / 2) < 1e-12);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'vqa_result.json'), 'utf8')), [
      { question_id: 0, answer: result.images[0].score },
      { question_id: 1, answer: 0 },
    ]);
    assert.equal(JSON.parse(readFileSync(join(dir, 'mapping.json'), 'utf8'))[1].image, 'a giraffe next to a lamp_000001.png');
  });

  test('geneval: one figure per scored tag plus overall; colour tags unsupported; official results.jsonl', async () => {
    const dir = workDir();
    const detections = join(dir, 'detections.jsonl');
    // line 353: "a photo of a dog right of a teddy bear"; line 0: "a photo of a bench"; line 259 is a colour prompt
    const metadataLines = readFileSync(OFFICIAL_FILES.genevalMetadata, 'utf8').split('\n');
    assert.equal(JSON.parse(metadataLines[259]).tag, 'colors');
    writeFileSync(
      detections,
      [
        detectionLine(353, 0, [
          { label: 'teddy bear', score: 0.9, box: [0, 0, 50, 50] },
          { label: 'dog', score: 0.9, box: [200, 0, 250, 50] },
        ]),
        detectionLine(0, 0, [{ label: 'bench', score: 0.3, box: [0, 0, 50, 50] }]),
        detectionLine(259, 0, []),
      ].join('\n'),
    );
    const out = join(dir, 'result.json');
    assert.equal(
      (
        await cli([
          'score',
          '--benchmark',
          'geneval',
          '--prompts',
          OFFICIAL_FILES.genevalMetadata,
          '--detections',
          detections,
          '--out',
          out,
          '--official-out',
          dir,
        ])
      ).code,
      0,
    );
    const result = JSON.parse(readFileSync(out, 'utf8'));
    assert.deepEqual(result.aggregates, { single_object: 0, position: 1, overall: 0.5 });
    assert.deepEqual([result.threshold, result.counting_threshold], [0.3, 0.9]);
    assert.equal(result.unsupported.colors.images, 1);
    assert.match(result.notes.join(' '), /overall is the mean over the tags scored here \(single_object, position\)/);
    const official = readFileSync(join(dir, 'results.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      official.map((r) => [r.filename, r.tag, r.correct]),
      [
        ['00000/samples/0000.png', 'single_object', false],
        ['00353/samples/0000.png', 'position', true],
      ],
    );
    assert.deepEqual(JSON.parse(official[1].details).dog, [[200, 0, 250, 50, 0.9]]);
  });
});

describe('infsplign score: bad input is an error naming file and line, exit 1, and no output', () => {
  const badLines: [string, string, (path: string) => RegExp][] = [
    [
      'a malformed line',
      '{"prompt": 0, "image": 0, "width": 512, "height": 512, "detections": [{"label": "dog", "score": NaN, "box": [0, 0, 1, 1]}]}',
      (p) => new RegExp(`^infsplign score: ${p}:2: malformed JSON`),
    ],
    ['an unknown prompt id', detectionLine(999, 0, []), (p) => new RegExp(`^infsplign score: ${p}:2: prompt 999 is not in .*prompts\\.json$`)],
    [
      'a box with x1 < x0',
      detectionLine(0, 1, [{ label: 'dog', score: 0.5, box: [30, 0, 10, 5] }]),
      (p) => new RegExp(`^infsplign score: ${p}:2: detections\\[0\\]\\.box: x1 \\(10\\) < x0 \\(30\\)`),
    ],
    [
      'a null score',
      detectionLine(0, 1, [{ label: 'dog', score: null, box: [0, 0, 1, 1] }]),
      (p) => new RegExp(`^infsplign score: ${p}:2: detections\\[0\\]\\.score: Invalid input: expected number, received null$`),
    ],
  ];
  for (const [what, line, expected] of badLines) {
    test(what, async () => {
      const f = visorFixture([detectionLine(0, 0, [dog(10), cup(50)]), line]);
      const { code, stderr } = await cli([
        'score',
        '--benchmark',
        'visor',
        '--prompts',
        f.prompts,
        '--detections',
        f.detections,
        '--out',
        f.out,
        '--official-out',
        f.official,
      ]);
      assert.equal(code, 1);
      assert.match(stderr, expected(f.detections));
      assert.equal(existsSync(f.out), false);
      assert.equal(existsSync(f.official), false);
    });
  }

  test('an unknown benchmark', async () => {
    const f = visorFixture([]);
    const { code, stderr } = await cli(['score', '--benchmark', 'drawbench', '--prompts', f.prompts, '--detections', f.detections, '--out', f.out]);
    assert.equal(code, 1);
    assert.equal(stderr, "infsplign score: unknown benchmark 'drawbench' (expected one of visor, visor-shapes, t2i, geneval)");
    assert.equal(existsSync(f.out), false);
  });

  test('usage errors exit 2', async () => {
    const f = visorFixture([]);
    assert.equal((await cli(['score', '--benchmark', 'visor', '--prompts', f.prompts, '--detections', f.detections])).code, 2);
    const { code, stderr } = await cli([
      'score',
      '--benchmark',
      'visor',
      '--prompts',
      f.prompts,
      '--detections',
      f.detections,
      '--out',
      f.out,
      '--threshold',
      'high',
    ]);
    assert.equal(code, 2);
    assert.match(stderr, /--threshold must be a number in \[0, 1\), got 'high'/);
  });
});

describe('infsplign prompts', () => {
  test('visor-shapes writes the committed tune and eval files', async () => {
    const dir = workDir();
    assert.equal((await cli(['prompts', 'visor-shapes', '--out', dir])).code, 0);
    for (const name of ['visor_shapes_tune.json', 'visor_shapes_eval.json']) {
      assert.equal(readFileSync(join(dir, name), 'utf8'), readFileSync(join(repoRoot, 'json_files', name), 'utf8'), name);
    }
  });

  test('an unknown prompt set is a usage error', async () => {
    const { code, stderr } = await cli(['prompts', 'coco']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown prompt set 'coco' \(expected visor or visor-shapes\)/);
  });
});
