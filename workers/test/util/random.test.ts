import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '../../src/util/random.ts';

describe('Random', () => {
  test('gives the same sequence for the same seed, and unrelated ones for neighbouring seeds', () => {
    const draw = (seed: number) => {
      const random = new Random(seed);
      return Array.from({ length: 8 }, () => random.nextUint32());
    };
    assert.deepEqual(draw(1), draw(1));
    assert.notDeepEqual(draw(1), draw(2));
    assert.equal(new Set([...draw(1), ...draw(2)]).size, 16);
    assert.throws(() => new Random(1.5), /integer/);
  });

  test('uniform values cover [0, 1) evenly, integers their closed range', () => {
    const random = new Random(7);
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const u = random.next();
      assert.ok(u >= 0 && u < 1);
      bins[Math.floor(u * 10)]++;
    }
    for (const count of bins) assert.ok(Math.abs(count - 10_000) < 500, `bin count ${count}`);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(random.integer(-2, 2));
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      [-2, -1, 0, 1, 2],
    );
    assert.throws(() => random.integer(3, 2), /min <= max/);
  });

  test('normal samples have mean 0 and standard deviation 1', () => {
    const random = new Random(11);
    const samples = Array.from({ length: 100_000 }, () => random.normal());
    const mean = samples.reduce((s, v) => s + v, 0) / samples.length;
    const sd = Math.sqrt(samples.reduce((s, v) => s + (v - mean) ** 2, 0) / samples.length);
    assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
    assert.ok(Math.abs(sd - 1) < 0.02, `sd ${sd}`);
  });

  test('jump() advances by 2^64 draws (known answers from fixtures/random/jump_kat.py)', () => {
    const afterJumps = (jumps: number) => {
      const random = new Random(42);
      for (let i = 0; i < jumps; i++) random.jump();
      return Array.from({ length: 4 }, () => random.nextUint32());
    };
    assert.deepEqual(afterJumps(1), [2817667151, 2963957236, 4086464128, 1048139920]);
    assert.deepEqual(afterJumps(2), [4191148168, 3949011819, 3805718033, 2857036868]);
  });

  test('shuffled returns a permutation and leaves its input alone', () => {
    const random = new Random(3);
    const items = [1, 2, 3, 4, 5, 6];
    const shuffled = random.shuffled(items);
    assert.deepEqual([...shuffled].sort(), items);
    assert.deepEqual(items, [1, 2, 3, 4, 5, 6]);
  });
});
