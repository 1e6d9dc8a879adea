import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readDetectionsFile } from '../../../src/evaluation/detections-file.ts';

const KNOWN = new Set([0, 1, 5]);
const line = (prompt: number, image: number, detections: unknown[] = [{ label: 'dog', score: 0.73, box: [1, 2, 30, 40] }]) =>
  JSON.stringify({ prompt, image, width: 512, height: 512, detections });

function file(lines: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'detections-')), 'detections.jsonl');
  writeFileSync(path, lines.join('\n'));
  return path;
}

function rejects(lines: string[], message: (path: string) => string | RegExp) {
  const path = file(lines);
  const expected = message(path);
  assert.throws(
    () => readDetectionsFile(path, KNOWN, 'prompts.json'),
    (err: Error) => (typeof expected === 'string' ? err.message === expected : expected.test(err.message)),
    `for ${lines.join(' | ')}`,
  );
}

describe('readDetectionsFile', () => {
  test('reads one image per line; blank lines are skipped but counted', () => {
    const images = readDetectionsFile(file([line(0, 0), '', line(5, 3, []), '']), KNOWN, 'prompts.json');
    assert.deepEqual(images, [
      { prompt: 0, image: 0, width: 512, height: 512, detections: [{ label: 'dog', score: 0.73, box: [1, 2, 30, 40] }] },
      { prompt: 5, image: 3, width: 512, height: 512, detections: [] },
    ]);
  });

  test('a malformed line (NaN is not JSON) names file and line', () => {
    rejects(
      [line(0, 0), '{"prompt": 0, "image": 1, "width": 5, "height": 5, "detections": [{"label": "dog", "score": NaN, "box": [0, 0, 1, 1]}]}'],
      (p) => new RegExp(`^${p}:2: malformed JSON \\(`),
    );
    rejects(['{"prompt": 0,'], (p) => new RegExp(`^${p}:1: malformed JSON`));
  });

  test('an unknown prompt id names file, line and prompt file', () => {
    rejects([line(0, 0), line(1, 0), line(2, 0)], (p) => `${p}:3: prompt 2 is not in prompts.json`);
  });

  test('a box with x1 < x0 or y1 < y0', () => {
    rejects(
      [line(0, 0, [{ label: 'dog', score: 0.5, box: [30, 0, 10, 5] }])],
      (p) => `${p}:1: detections[0].box: x1 (10) < x0 (30); boxes are [x0, y0, x1, y1]`,
    );
    rejects([line(0, 0, [{ label: 'dog', score: 0.5, box: [0, 9, 10, 5] }])], (p) => `${p}:1: detections[0].box: y1 (5) < y0 (9); boxes are [x0, y0, x1, y1]`);
  });

  test('a score that is null, a string, out of [0, 1] or infinite', () => {
    rejects(
      [line(0, 0, [{ label: 'dog', score: null, box: [0, 0, 1, 1] }])],
      (p) => `${p}:1: detections[0].score: Invalid input: expected number, received null`,
    );
    rejects(
      [line(0, 0, [{ label: 'dog', score: '0.5', box: [0, 0, 1, 1] }])],
      (p) => `${p}:1: detections[0].score: Invalid input: expected number, received string`,
    );
    rejects([line(0, 0, [{ label: 'dog', score: 1.5, box: [0, 0, 1, 1] }])], (p) => new RegExp(`^${p}:1: detections\\[0\\]\\.score: Too big`));
    rejects(
      ['{"prompt": 0, "image": 0, "width": 5, "height": 5, "detections": [{"label": "dog", "score": 1e999, "box": [0, 0, 1, 1]}]}'],
      (p) => `${p}:1: detections[0].score: Invalid input: expected number, received Infinity`,
    );
    rejects(
      ['{"prompt": 0, "image": 0, "width": 5, "height": 5, "detections": [{"label": "dog", "score": 0.5, "box": [0, 0, 1e999, 1]}]}'],
      (p) => `${p}:1: detections[0].box[2]: Invalid input: expected number, received Infinity`,
    );
  });

  test('missing fields and repeated images', () => {
    rejects(
      ['{"prompt": 0, "image": 0, "detections": []}'],
      (p) => new RegExp(`^${p}:1: width: Invalid input: expected number, received undefined \\(and 1 more problem\\)$`),
    );
    rejects([line(0, 0), line(0, 1), line(0, 0)], (p) => `${p}:3: prompt 0 image 0 was already given on line 1`);
  });
});
