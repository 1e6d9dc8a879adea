import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readGenEvalPrompts } from '../../src/prompts/geneval.ts';
import { OFFICIAL_FILES } from '../../src/prompts/official-files.ts';

const metadata = OFFICIAL_FILES.genevalMetadata;

function tempFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'geneval-prompts-')), 'metadata.jsonl');
  writeFileSync(path, content);
  return path;
}

describe('GenEval prompts', () => {
  test('ids are 0-based line indices; the position prompts are lines 353 to 452', () => {
    const all = readGenEvalPrompts(metadata);
    assert.equal(all.length, 553);
    const position = readGenEvalPrompts(metadata, { tag: 'position' });
    assert.equal(position.length, 100);
    assert.deepEqual([position[0].id, position.at(-1)!.id], [353, 452]);
    assert.deepEqual(all[353], position[0]);
  });

  test("the file holds GenEval's six tasks as tags, 553 prompts", () => {
    const counts = new Map<string, number>();
    for (const prompt of readGenEvalPrompts(metadata)) counts.set(prompt.raw.tag, (counts.get(prompt.raw.tag) ?? 0) + 1);
    assert.deepEqual([...counts.keys()], ['single_object', 'two_object', 'counting', 'colors', 'position', 'color_attr']);
    assert.deepEqual([...counts.values()], [80, 99, 80, 94, 100, 100]);
  });

  test('a position prompt lists its subject first and carries the relation', () => {
    const [first] = readGenEvalPrompts(metadata, { tag: 'position' });
    assert.equal(first.text, 'a photo of a dog right of a teddy bear');
    assert.deepEqual(first.objects, ['dog', 'teddy bear']);
    assert.equal(first.relation, 'right of');
  });

  test('other tags list their classes and state no relation; exclude clauses are kept', () => {
    const counting = readGenEvalPrompts(metadata, { tag: 'counting' })[0];
    assert.deepEqual([counting.objects, counting.relation], [['clock'], null]);
    assert.deepEqual(counting.raw.exclude, [{ class: 'clock', count: 3 }]);
  });

  test('a position clause must point at an earlier include clause', () => {
    const path = tempFile('{"tag": "position", "prompt": "p", "include": [{"class": "dog", "count": 1, "position": ["above", 0]}]}\n');
    assert.throws(
      () => readGenEvalPrompts(path),
      (err: Error) => err.message === `${path}:1: include[0].position[1]: the first include clause has no earlier clause to be placed against`,
    );
    const second = tempFile(
      '{"tag": "position", "prompt": "p", "include": [{"class": "cat", "count": 1}, {"class": "dog", "count": 1, "position": ["above", 1]}]}\n',
    );
    assert.throws(() => readGenEvalPrompts(second), /include\[1\]\.position\[1\]: must name an earlier include clause \(0 to 0\)/);
  });

  test('malformed lines are errors naming file and line', () => {
    const good = '{"tag": "single_object", "prompt": "a photo of a cat", "include": [{"class": "cat", "count": 1}]}';
    assert.throws(() => readGenEvalPrompts(tempFile(`${good}\n{"tag": "single_object"`)), /metadata\.jsonl:2: malformed JSON/);
    assert.throws(() => readGenEvalPrompts(tempFile(`${good}\n${good.replace('"count": 1', '"count": 0')}`)), /metadata\.jsonl:2: include\[0\]\.count: /);
  });
});
