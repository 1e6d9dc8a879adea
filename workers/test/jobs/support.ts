/**
 * Fixtures for the job tests: rendered Shapes scenes for VISOR-Shapes prompts over apple and box,
 * uploaded to a temporary artifact store with `infsplign upload`, the evaluate job that scores them,
 * and what `infsplign evaluate` says about the same images.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { EvaluateChunkJobInput, ImagesEvaluated } from '../../src/contracts/jobs.ts';
import { writePng } from '../../src/image/png.ts';
import { generateVisorPrompts, toVisorPrompt } from '../../src/prompts/visor.ts';
import { renderLayout, type LabelledBox } from '../../src/shapes/render.ts';
import { SHAPES_WORLD } from '../../src/shapes/world.ts';
import { runCli } from '../cli/run-cli.ts';
import { APPLE_LEFT, APPLE_ONLY, APPLE_RIGHT } from '../support/shapes-scenes.ts';

/**
 * Prompt 0 "an apple to the left of a box", 1 "a box to the left of an apple", 8 "an apple and a box"
 * (VISOR leaves "and" prompts unscored): correct, misplaced, missing-object and unscored images.
 */
export const SCENES: Record<string, LabelledBox[]> = {
  '0_0.png': APPLE_LEFT,
  '0_1.png': APPLE_RIGHT,
  '0_2.png': APPLE_ONLY,
  '1_0.png': APPLE_LEFT,
  '1_1.png': APPLE_RIGHT,
  '8_0.png': APPLE_LEFT,
};

export interface ShapesFixture {
  dir: string;
  promptsFile: string;
  imagesDir: string;
  artifactDir: string;
  prefix: string;
}

/** Renders the scenes and uploads them with the CLI into a fresh artifact directory. */
export async function shapesFixture(scenes: Record<string, LabelledBox[]> = SCENES): Promise<ShapesFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'jobs-test-'));
  const promptsFile = join(dir, 'prompts.json');
  writeFileSync(promptsFile, JSON.stringify(generateVisorPrompts(['apple', 'box'])));
  const imagesDir = join(dir, 'images');
  mkdirSync(imagesDir);
  for (const [name, layout] of Object.entries(scenes)) writePng(join(imagesDir, name), renderLayout(SHAPES_WORLD, layout).image);
  const artifactDir = join(dir, 'artifacts');
  const previous = process.env.ARTIFACT_DIR;
  process.env.ARTIFACT_DIR = artifactDir;
  try {
    const upload = await runCli(['upload', imagesDir, '--prefix', 'sets/shapes']);
    assert.equal(upload.code, 0, upload.stderr);
    assert.equal(upload.stdout, `sets/shapes\n${Object.keys(scenes).length} images uploaded to local:${artifactDir}`);
  } finally {
    if (previous === undefined) delete process.env.ARTIFACT_DIR;
    else process.env.ARTIFACT_DIR = previous;
  }
  return { dir, promptsFile, imagesDir, artifactDir, prefix: 'sets/shapes' };
}

/** The evaluate job for the fixture's images; prompt database ids are `p{ID}`. */
export function evaluateJobFor(f: ShapesFixture, runId: string, extra: Partial<EvaluateChunkJobInput> = {}): EvaluateChunkJobInput {
  const records = JSON.parse(readFileSync(f.promptsFile, 'utf8')) as ReturnType<typeof generateVisorPrompts>;
  const names = Object.keys(SCENES);
  const ids = [...new Set(names.map((n) => Number(n.split('_')[0])))];
  return {
    runId,
    chunk: 0,
    benchmark: 'visor-shapes',
    detector: 'shapes',
    threshold: 0.1,
    prompts: ids.map((id) => {
      const prompt = toVisorPrompt(records[id]!);
      return { promptId: `p${id}`, externalId: id, text: prompt.text, objects: prompt.objects, relation: prompt.relation, record: records[id] };
    }),
    images: names.map((name) => {
      const [id, k] = name.replace('.png', '').split('_').map(Number);
      return { promptId: `p${id}`, imageIndex: k!, artifactKey: `${f.prefix}/${name}` };
    }),
    ...extra,
  };
}

interface CliImage {
  prompt: number;
  image: number;
  relation: string;
  a_detected: boolean;
  b_detected: boolean;
  sra: boolean;
  correct: boolean;
  reason: string | null;
}

/** `infsplign evaluate` on the fixture's folder: its per-image results and detections. */
export async function evaluateWithCli(f: ShapesFixture, threshold = 0.1) {
  const out = join(f.dir, `result-${threshold}.json`);
  const detectionsOut = join(f.dir, `detections-${threshold}.jsonl`);
  const run = await runCli([
    'evaluate',
    '--benchmark',
    'visor-shapes',
    '--prompts',
    f.promptsFile,
    '--images',
    f.imagesDir,
    '--detector',
    'shapes',
    '--threshold',
    String(threshold),
    '--out',
    out,
    '--detections-out',
    detectionsOut,
  ]);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(readFileSync(out, 'utf8')) as { images: CliImage[] };
  const detections = readFileSync(detectionsOut, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { prompt: number; image: number; width: number; height: number; detections: unknown[] });
  return { images: result.images, detections };
}

/** Asserts that an ImagesEvaluated message says, image by image, what the CLI says. */
export function assertSameAsCli(message: ImagesEvaluated, cli: Awaited<ReturnType<typeof evaluateWithCli>>): void {
  assert.equal(message.images.length, cli.detections.length);
  for (const image of message.images) {
    const id = Number(image.promptId.slice(1));
    const where = `image ${image.imageIndex} of prompt ${id}`;
    const found = cli.detections.find((d) => d.prompt === id && d.image === image.imageIndex)!;
    assert.deepEqual(
      { width: image.width, height: image.height, detections: image.detections },
      { width: found.width, height: found.height, detections: found.detections },
      where,
    );
    const scored = cli.images.find((r) => r.prompt === id && r.image === image.imageIndex);
    if (!scored) {
      assert.equal(image.score.scored, false, `${where}: the CLI leaves it unscored`);
      continue;
    }
    const { relation, a_detected, b_detected, sra, correct, reason } = scored;
    assert.deepEqual(image.score, { scored: true, correct, value: correct ? 1 : 0, reason, details: { relation, a_detected, b_detected, sra } }, where);
  }
}

/** Waits until the results queue holds the job `id`, and returns its data. */
export async function waitForResult<T>(results: Queue, id: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await results.getJob(id);
    if (job) return job.data as T;
    if (Date.now() > deadline) throw new Error(`no result ${id} on the results queue within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An evaluate job long enough to interrupt: `count` images (all the same file) of prompt 0. */
export function slowEvaluateJobFor(f: ShapesFixture, runId: string, count: number): EvaluateChunkJobInput {
  const job = evaluateJobFor(f, runId);
  return { ...job, images: Array.from({ length: count }, (_, k) => ({ promptId: 'p0', imageIndex: k, artifactKey: `${f.prefix}/0_0.png` })) };
}
