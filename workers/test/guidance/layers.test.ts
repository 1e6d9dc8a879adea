/** Layer patterns: what they select, what they refuse, and that matching is linear whatever the pattern. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileLayerPattern, dottedPath, layerPatternProblem, selectLayers, type StepCounter } from '../../src/guidance/layers.ts';

const SD_LAYERS = ['down_blocks.0', 'down_blocks.1', 'down_blocks.2', 'mid_block', 'up_blocks.1', 'up_blocks.2', 'up_blocks.3'].flatMap((block) =>
  (block === 'mid_block' ? [0] : [0, 1, 2]).map((k) => ({ block: `/${block}/attentions.${k}/transformer_blocks.0/attn2` })),
);
const selected = (...patterns: string[]) => selectLayers(SD_LAYERS, patterns).map((l) => dottedPath(l.block));

describe('layer patterns', () => {
  test('select by dotted path, * within one segment, {a,b} alternatives (dots allowed), whole path or a trailing part from a segment', () => {
    assert.deepEqual(selected('up_blocks.{1,2}.attentions.{0,1,2}.transformer_blocks.0.attn2'), [
      'up_blocks.1.attentions.0.transformer_blocks.0.attn2',
      'up_blocks.1.attentions.1.transformer_blocks.0.attn2',
      'up_blocks.1.attentions.2.transformer_blocks.0.attn2',
      'up_blocks.2.attentions.0.transformer_blocks.0.attn2',
      'up_blocks.2.attentions.1.transformer_blocks.0.attn2',
      'up_blocks.2.attentions.2.transformer_blocks.0.attn2',
    ]);
    assert.deepEqual(selected('mid_block.attentions.0.transformer_blocks.0.attn2'), ['mid_block.attentions.0.transformer_blocks.0.attn2']);
    assert.deepEqual(selected('{mid_block,up_blocks.3}.attentions.0.transformer_blocks.0.attn2'), [
      'mid_block.attentions.0.transformer_blocks.0.attn2',
      'up_blocks.3.attentions.0.transformer_blocks.0.attn2',
    ]);
    assert.deepEqual(selected('down_*.*.attentions.2.*.0.attn2'), [
      'down_blocks.0.attentions.2.transformer_blocks.0.attn2',
      'down_blocks.1.attentions.2.transformer_blocks.0.attn2',
      'down_blocks.2.attentions.2.transformer_blocks.0.attn2',
    ]);
    // a trailing part: from a segment's start, to the end
    assert.equal(selected('attentions.1.transformer_blocks.0.attn2').length, 6);
    assert.equal(selected('*ttentions.1.transformer_blocks.0.attn2').length, 6);
    assert.deepEqual(selected('ttentions.1.transformer_blocks.0.attn2'), [], 'not from the middle of a segment');
    assert.deepEqual(selected('up_blocks.1.attentions.0'), [], 'to the end of the path');
    // * never crosses a dot; it may be empty
    assert.deepEqual(selected('up_blocks.*.transformer_blocks.0.attn2'), []);
    assert.equal(selected('up_blocks.1*.attentions.0.transformer_blocks.0.attn2').length, 1);
    assert.equal(selected('*').length, SD_LAYERS.length, 'the last segment');
    assert.equal(selected('attn*').length, SD_LAYERS.length);
    assert.deepEqual(selected('up_blocks.1.attentions.0.transformer_blocks.0.attn2', 'mid_block.*.*.*.*.attn2'), [
      'mid_block.attentions.0.transformer_blocks.0.attn2',
      'up_blocks.1.attentions.0.transformer_blocks.0.attn2',
    ]);
  });

  test('refuse regular expressions and whatever else is not the syntax, saying where', () => {
    assert.match(layerPatternProblem('/attn2/')!, /regular expressions are not accepted/);
    assert.equal(
      layerPatternProblem('up_blocks.(1|2).attn2'),
      "layer pattern 'up_blocks.(1|2).attn2': '(' (at 11) is not allowed: use letters, digits, _, -, dots, * and {a,b}",
    );
    assert.equal(layerPatternProblem('a.{b,c'), "layer pattern 'a.{b,c': the '{' at 3 is not closed");
    assert.equal(layerPatternProblem('a.{b,}'), "layer pattern 'a.{b,}': the alternatives at 3 include an empty one");
    assert.match(layerPatternProblem('a.{b,{c}}')!, /alternatives are plain text .*not '\{'/);
    assert.match(layerPatternProblem('a}')!, /'}' \(at 2\) is not allowed/);
    assert.match(layerPatternProblem('.a')!, /empty segment/);
    assert.match(layerPatternProblem('a'.repeat(201))!, /is 201 characters long, over 200/);
    assert.equal(layerPatternProblem('up_blocks.{0,1}.attentions.*.transformer_blocks.{0,1,2}.attn2'), null);
  });

  test('matching takes at most (path length + 1) x 2 x states steps, and grows linearly with the path, on patterns that make a backtracking engine explode', () => {
    const adversarial: Array<[string, (n: number) => string]> = [
      // [^.]*a[^.]*a...X as a regex: polynomial of degree 20 in backtracking
      ['*a'.repeat(20) + 'X', (n) => 'a'.repeat(n)],
      // (a|aa|aaa|aaaa){12}X: exponentially many ways to split the a's
      ['{a,aa,aaa,aaaa}'.repeat(12) + 'X', (n) => 'a'.repeat(n)],
      // a match may start at every segment, and every * spans one
      ['*.'.repeat(30) + 'X', (n) => 'ab.'.repeat(n / 3) + 'ab'],
      // the issue's /tran(([a-z0-9_]+[.]?)+)+X$/, as near as this syntax comes
      ['tran*.*.*.*.*.*.*.*.*.*X', (n) => 'transformer_blocks.' + '0.'.repeat(n / 2) + 'attn2'],
    ];
    for (const [source, path] of adversarial) {
      const pattern = compileLayerPattern(source);
      const steps = [200, 400, 800].map((n) => {
        const counter: StepCounter = { steps: 0 };
        const text = path(n);
        assert.equal(pattern.test(text, counter), false, source);
        assert.ok(counter.steps <= (text.length + 1) * 2 * pattern.states, `${source} on ${text.length} characters: ${counter.steps} steps, over the bound`);
        return counter.steps;
      });
      // affine in the path's length: doubling it again adds about what doubling it did (a polynomial of degree 2 would add twice as much)
      const [a, b, c] = steps as [number, number, number];
      assert.ok(c - b <= 2.1 * (b - a), `${source}: ${steps.join(', ')} steps for paths of 200, 400, 800 characters`);
    }
  });
});
