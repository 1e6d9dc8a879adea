import { describe, test } from 'node:test';
import { gradientTest } from '../support/gradcheck.ts';

const CASES: Array<{ dims: number[]; axes: Array<number | undefined> }> = [
  { dims: [5], axes: [undefined, 0, -1] },
  { dims: [3, 4], axes: [undefined, 0, 1, -2] },
  { dims: [2, 3, 4], axes: [-1, 1, -2, 0, -3] },
];

describe('VJP of Softmax and LogSoftmax (finite differences, float64)', () => {
  for (const op of ['Softmax', 'LogSoftmax']) {
    for (const { dims, axes } of CASES) {
      for (const axis of axes) {
        test(`${op} [${dims}] axis ${axis ?? 'default (-1)'}`, gradientTest({ op, attrs: { axis }, inputs: [{ name: 'x', dims }] }));
      }
    }
    test(`${op} [2,3,4] axis -2, unknown rank`, gradientTest({ op, attrs: { axis: -2 }, inputs: [{ name: 'x', dims: [2, 3, 4] }], declaredDims: { x: null } }));
    test(
      `${op} [2,3,4] axis 1, symbolic dims`,
      gradientTest({ op, attrs: { axis: 1 }, inputs: [{ name: 'x', dims: [2, 3, 4] }], declaredDims: { x: ['batch', null, 'n'] } }),
    );
  }
});
