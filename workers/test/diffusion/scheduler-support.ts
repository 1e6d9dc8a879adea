/** Shared by the scheduler tests: tolerant comparison and a scripted noise source. */
import assert from 'node:assert/strict';
import type { NoiseSource } from '../../src/diffusion/noise.ts';

/** |actual - expected| <= rel |expected| + 1e-7 element-wise (the floor covers float32 round-off near 0). */
export function assertClose(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, rel = 1e-6, what = ''): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : Array.from(expected);
  assert.equal(a.length, e.length, `${what}: length`);
  a.forEach((v, i) => {
    assert.ok(Math.abs(v - e[i]) <= rel * Math.abs(e[i]) + 1e-7, `${what}[${i}]: ${v} vs ${e[i]}`);
  });
}

/** Hands out the given values on every draw and counts the draws. */
export function scriptedNoise(values: readonly number[]): NoiseSource & { draws: number } {
  return {
    draws: 0,
    normal(count: number): Float32Array {
      this.draws++;
      assert.equal(count, values.length);
      return Float32Array.from(values);
    },
  };
}
