import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { imageDetectionsSchema } from '../../../src/evaluation/detections-file.ts';
import { scoreT2I } from '../../../src/evaluation/scorers/t2i-compbench.ts';
import { officialFrame } from '../../../src/evaluation/scorers/t2i-boxes.ts';
import { DEFAULT_THRESHOLDS } from '../../../src/evaluation/thresholds.ts';
import { t2iRecordSchema, toT2IPrompt } from '../../../src/prompts/t2i-compbench.ts';

/** Scores computed by the official spatial_eval.t2i_spatial_score (fixtures/t2i-official/make_fixture.py). */
const fixtureSchema = z.object({
  prompts: z.array(t2iRecordSchema.extend({ id: z.number().int() })),
  images: z.array(
    imageDetectionsSchema.extend({
      frame: z.tuple([z.number().int(), z.number().int()]),
      official: z.object({ locality: z.string().nullable(), score: z.number() }),
    }),
  ),
  official_mean: z.number(),
});
const fixture = fixtureSchema.parse(JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/t2i-official/official-scores.json'), 'utf8')));
const prompts = fixture.prompts.map(({ id, ...record }) => toT2IPrompt(record, id));

describe('T2I-CompBench spatial equals the official evaluation on synthetic detections', () => {
  test('the fixture covers what the rules turn on', () => {
    const sizes = new Set(fixture.images.map((i) => `${i.width}x${i.height}`));
    assert.deepEqual([...sizes].sort(), ['1024x1024', '512x512', '512x600', '600x512']);
    assert.ok(fixture.images.some((i) => i.detections.length > 100));
    const localities = new Set(fixture.images.map((i) => i.official.locality));
    assert.deepEqual(
      localities,
      new Set([null, 'near', 'next to', 'on side of', 'on the bottom of', 'on the left of', 'on the right of', 'on the top of', 'on top of']),
    );
  });

  test("every image's frame is the one torchvision's Resize(479, max_size=480) gave the official Dataset", () => {
    for (const image of fixture.images) assert.deepEqual(officialFrame(image.width, image.height), image.frame);
  });

  test('every image score and the mean agree to 1e-6', () => {
    const result = scoreT2I(prompts, fixture.images, DEFAULT_THRESHOLDS.t2i);
    const wrong = result.images
      .map((r, n) => ({ n, ours: r.score, official: fixture.images[n]!.official.score }))
      .filter(({ ours, official }) => !(Math.abs(ours - official) <= 1e-6));
    assert.deepEqual(wrong, []);
    assert.ok(Math.abs(result.aggregates.spatial! - fixture.official_mean) <= 1e-6, `${result.aggregates.spatial} != ${fixture.official_mean}`);
  });

  test("each prompt's relation is the official locality's", () => {
    const meaning: Record<string, string | null> = {
      'on side of': 'near',
      'next to': 'near',
      near: 'near',
      'on the left of': 'left of',
      'on the right of': 'right of',
      'on the bottom of': 'below',
      'on the top of': 'above',
      'on top of': null,
    };
    for (const image of fixture.images) {
      const locality = image.official.locality;
      assert.equal(prompts.find((p) => p.id === image.prompt)!.relation, locality === null ? null : meaning[locality]);
    }
  });
});
