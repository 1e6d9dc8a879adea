/**
 * Every two-object prompt of every prompt file the project ships finds both of its objects among the
 * prompt's tokens with the real CLIP vocabulary, under each token alignment (docs/method.md §2.2): no
 * prompt of a benchmark is silently left unguided. T2I-CompBench's girl/boy/man/woman are searched as
 * the prompt's own words.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { OBJECT_TOKEN_CHOICES, TOKEN_ALIGNMENTS } from '../../src/contracts/method-params.ts';
import { objectTokenSpans } from '../../src/guidance/token-spans.ts';
import { loadPrompts } from '../../src/prompts/load.ts';
import { JSON_FILES_DIR, OFFICIAL_FILES, VISOR_SUBSET_SIZES, visorSubsetFile } from '../../src/prompts/official-files.ts';
import { loadTokenizer } from '../../src/text/tokenizer.ts';

const clip = loadTokenizer(join(import.meta.dirname, '../../../models/clip-tokenizer'));
const MODES = OBJECT_TOKEN_CHOICES.flatMap((objectTokens) => TOKEN_ALIGNMENTS.map((alignment) => [objectTokens, alignment] as const));

const SHIPPED: Array<[benchmark: string, path: string]> = [
  ['visor', join(JSON_FILES_DIR, 'visor_prompts.json')],
  ...VISOR_SUBSET_SIZES.map((size): [string, string] => ['visor', visorSubsetFile(size)]),
  ['t2i', OFFICIAL_FILES.t2iSpatialVal],
  ['t2i', OFFICIAL_FILES.t2iSpatial],
  ['geneval', OFFICIAL_FILES.genevalMetadata],
];

for (const [benchmark, path] of SHIPPED) {
  test(`${benchmark} ${path.slice(JSON_FILES_DIR.length + 1)}: every two-object prompt has two object spans`, () => {
    const prompts = loadPrompts(benchmark, path).prompts.filter((p) => p.objects.length >= 2);
    assert.ok(prompts.length > 0);
    const failures: string[] = [];
    for (const prompt of prompts) {
      const encoding = clip.encode(prompt.text);
      for (const [objectTokens, alignment] of MODES) {
        try {
          const spans = objectTokenSpans(clip, encoding, prompt.objects.slice(0, 2), objectTokens, alignment);
          if (spans.length !== 2 || spans.some((s) => s.length === 0))
            failures.push(`${prompt.id} ${objectTokens}/${alignment}: spans ${JSON.stringify(spans)}`);
        } catch (err) {
          failures.push(`${prompt.id} "${prompt.text}" ${objectTokens}/${alignment}: ${(err as Error).message}`);
        }
      }
    }
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} failures`);
  });
}

test('T2I-CompBench people are searched as the words of the prompt', () => {
  const prompts = loadPrompts('t2i', OFFICIAL_FILES.t2iSpatialVal).prompts.filter((p) => p.objects.some((o) => ['girl', 'boy', 'man', 'woman'].includes(o)));
  assert.equal(prompts.length, 79);
  const [girl] = prompts.filter((p) => p.text === 'a girl on the top of a frog');
  const spans = objectTokenSpans(clip, clip.encode(girl!.text), girl!.objects, 'last_word', 'reference');
  assert.deepEqual(spans, [[2], [8]]);
});
