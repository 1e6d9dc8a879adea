/**
 * The API scores with the CLI's code: prompts rebuilt from stored records equal the loader's, and
 * the stored aggregate rows hold exactly `scoreImages`' figures and intervals (overall and per relation).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ImageDetections, loadPrompts, promptSetFromRows, scoredPromptIds, scoreImages } from '@infsplign/workers/benchmarks';
import { computeAggregates } from '../../src/runs/aggregates.ts';

const SHAPES_EVAL = join(import.meta.dirname, '../../../../json_files/visor_shapes_eval.json');

/** A small deterministic PRNG, so the detections are the same every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function fakeDetections(prompts: { id: number; objects: string[] }[], imagesPerPrompt: number): ImageDetections[] {
  const next = random(7);
  const images: ImageDetections[] = [];
  for (const prompt of prompts) {
    for (let image = 0; image < imagesPerPrompt; image++) {
      const detections = prompt.objects.flatMap((label) => {
        if (next() < 0.2) return [];
        const x = next() * 200;
        const y = next() * 200;
        return [{ label, score: 0.05 + next() * 0.9, box: [x, y, x + 30, y + 30] as [number, number, number, number] }];
      });
      images.push({ prompt: prompt.id, image, width: 256, height: 256, detections });
    }
  }
  return images;
}

test('prompts rebuilt from stored records equal what the CLI loads from the file', () => {
  const loaded = loadPrompts('visor-shapes', SHAPES_EVAL);
  const rows = loaded.prompts.map((p) => ({ externalId: p.id, metadata: JSON.parse(JSON.stringify(p.raw)) }));
  assert.deepEqual(promptSetFromRows('visor-shapes', rows), loaded);
});

test("a stored record that is not the benchmark's is an error naming the prompt", () => {
  assert.throws(
    () => promptSetFromRows('visor', [{ externalId: 12, metadata: { prompt: 'a cat', objects: ['cat', 'dog'] } }]),
    /prompt 12 of visor: its stored record is not a visor record/,
  );
});

test('the scored prompts are those VISOR scores: spatial ones, not "and" or single-object prompts', () => {
  const set = loadPrompts('visor-shapes', SHAPES_EVAL);
  const scored = scoredPromptIds('visor-shapes', set);
  assert.deepEqual(
    [...scored].sort((a, b) => a - b),
    set.prompts.filter((p) => p.relation !== null).map((p) => p.id),
  );
});

test("aggregate rows hold scoreImages' figures and intervals, overall and per relation", () => {
  const set = loadPrompts('visor-shapes', SHAPES_EVAL);
  const spatial = set.prompts.filter((p) => p.relation !== null).slice(0, 40);
  const detections = fakeDetections(spatial, 4);
  const threshold = 0.3;
  const { rows } = computeAggregates('visor-shapes', set, detections, threshold);
  const expected = scoreImages('visor-shapes', set, detections, { threshold });
  const aggregates = expected.aggregates as Record<string, unknown> & { by_relation: Record<string, Record<string, number | null>> };
  const intervals = expected.intervals as Record<string, unknown> & { by_relation: Record<string, Record<string, [number, number] | null>> };

  const overall = rows.filter((r) => r.relation === '');
  assert.deepEqual(
    overall.map((r) => r.metricKey),
    ['OA', 'OA_A', 'OA_B', 'VISOR_cond', 'VISOR_uncond', 'VISOR_1', 'VISOR_2', 'VISOR_3', 'VISOR_4'],
  );
  for (const row of overall) {
    assert.equal(row.value, aggregates[row.metricKey]);
    assert.deepEqual([row.lower, row.upper], intervals[row.metricKey] ?? [null, null]);
  }
  const relations = Object.keys(aggregates.by_relation);
  assert.deepEqual([...new Set(rows.filter((r) => r.relation !== '').map((r) => r.relation))], relations);
  for (const row of rows.filter((r) => r.relation !== '')) {
    assert.equal(row.value, aggregates.by_relation[row.relation][row.metricKey]);
    assert.deepEqual([row.lower, row.upper], intervals.by_relation[row.relation][row.metricKey] ?? [null, null]);
  }
});
