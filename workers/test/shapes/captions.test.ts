import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { centreX, centreY } from '../../src/evaluation/box.ts';
import { VISOR_RELATIONS } from '../../src/prompts/visor.ts';
import { EMPTY_SHARE, trainingCaption } from '../../src/shapes/captions.ts';
import { sampleLayout } from '../../src/shapes/render.ts';
import { SHAPES_WORLD } from '../../src/shapes/world.ts';
import { Random } from '../../src/util/random.ts';

describe('training captions', () => {
  const random = new Random(3);
  const samples = Array.from({ length: 4000 }, () => {
    const objects = sampleLayout(SHAPES_WORLD, random, { count: random.integer(1, 3) });
    return { objects, caption: trainingCaption(objects, random) };
  });

  test('about EMPTY_SHARE are empty; the others name every object of the scene and nothing else', () => {
    const empty = samples.filter((s) => s.caption === '').length / samples.length;
    assert.ok(Math.abs(empty - EMPTY_SHARE) < 0.02, `empty share ${empty}`);
    for (const { objects, caption } of samples.filter((s) => s.caption !== '')) {
      const named = caption.split(' ').filter((word) => SHAPES_WORLD.classes.some((c) => c.name === word));
      assert.deepEqual(named.sort(), objects.map((o) => o.label).sort(), caption);
    }
  });

  test('a stated relation is true about half the time: the captions teach no relation', () => {
    const truth = {
      'to the left of': (a: number[], b: number[]) => a[0]! < b[0]!,
      'to the right of': (a: number[], b: number[]) => a[0]! > b[0]!,
      above: (a: number[], b: number[]) => a[1]! < b[1]!,
      below: (a: number[], b: number[]) => a[1]! > b[1]!,
    };
    let stated = 0;
    let holds = 0;
    for (const { objects, caption } of samples) {
      const relation = VISOR_RELATIONS.find((r) => caption.includes(` ${r} `));
      if (!relation) continue;
      const [first, second] = caption.split(` ${relation} `).map((phrase) => objects.find((o) => phrase.endsWith(o.label))!);
      const centre = (o: typeof first) => [centreX(o!.box), centreY(o!.box)];
      stated++;
      if (truth[relation](centre(first), centre(second))) holds++;
    }
    assert.ok(stated > 500, `${stated} captions state a relation`);
    assert.ok(Math.abs(holds / stated - 0.5) < 0.05, `relations true in ${((100 * holds) / stated).toFixed(1)}% of captions`);
  });
});
