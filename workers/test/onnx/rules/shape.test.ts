import { describe, test } from 'node:test';
import { DataType, type Attrs, type Dim } from '../../../src/onnx/proto.ts';
import { gradientTest, type InputSpec } from '../support/gradcheck.ts';

interface ShapeCase {
  name: string;
  x: number[];
  /** An int64 second input (shape, axes or repeats). */
  ints?: number[];
  attrs?: Attrs;
  declared?: Dim[];
  opset?: number;
}

const int64 = (values: number[]): InputSpec => ({ name: 'ints', dims: [values.length], constant: { type: DataType.INT64, values } });

const CASES: Record<string, ShapeCase[]> = {
  Reshape: [
    { name: '0 and -1', x: [2, 3, 4], ints: [0, -1] },
    { name: 'regrouped', x: [2, 3, 4], ints: [4, -1, 3] },
    { name: 'to rank 4, dynamic dims', x: [2, 3, 4], ints: [0, 0, 2, 2], declared: ['n', 't', 4] },
    { name: 'rank 1 to 2', x: [6], ints: [-1, 2] },
  ],
  Flatten: [
    { name: 'axis 1 (default)', x: [2, 3, 4] },
    { name: 'axis 0', x: [2, 3, 4], attrs: { axis: 0 } },
    { name: 'axis -1, dynamic dims', x: [2, 3, 4], attrs: { axis: -1 }, declared: ['n', null, 4] },
  ],
  Transpose: [
    { name: 'no perm (axes reversed)', x: [2, 3, 4] },
    { name: 'perm [1, 2, 0]', x: [2, 3, 4], attrs: { perm: [1, 2, 0] } },
    { name: 'perm [0, 2, 3, 1], dynamic dims', x: [2, 3, 4, 5], attrs: { perm: [0, 2, 3, 1] }, declared: ['n', 3, 'h', 'w'] },
  ],
  Squeeze: [
    { name: 'axes [1]', x: [2, 1, 3], ints: [1] },
    { name: 'axes [0, -1]', x: [1, 2, 3, 1], ints: [0, -1] },
    { name: 'no axes', x: [1, 2, 1, 3] },
    { name: 'axes [-2], dynamic dims', x: [2, 1, 3], ints: [-2], declared: ['n', 1, 'c'] },
  ],
  Unsqueeze: [
    { name: 'axes [0]', x: [2, 3], ints: [0] },
    { name: 'axes [-1]', x: [2, 3], ints: [-1] },
    { name: 'axes [1, -1], dynamic dims', x: [2, 3], ints: [1, -1], declared: ['n', 'c'] },
  ],
  Expand: [
    { name: '[3, 1] to [2, 3, 4]', x: [3, 1], ints: [2, 3, 4] },
    { name: '[2, 1, 4] by a shorter shape [3, 1]', x: [2, 1, 4], ints: [3, 1] },
    { name: 'scalar to [2, 3]', x: [], ints: [2, 3] },
    { name: '[1, 3] to [4, 1, 3], dynamic dims', x: [1, 3], ints: [4, 1, 3], declared: [1, 'c'] },
  ],
  Tile: [
    { name: 'repeats [2, 3]', x: [2, 3], ints: [2, 3] },
    { name: 'repeats [1, 4, 2]', x: [2, 1, 3], ints: [1, 4, 2] },
    { name: 'rank 1, dynamic dims', x: [4], ints: [3], declared: ['n'] },
  ],
};

// Float64 throughout: every op here, and every op of their gradients, has a double CPU kernel.
describe('VJP of shape ops (finite differences, float64)', () => {
  for (const [op, cases] of Object.entries(CASES)) {
    for (const c of cases) {
      test(
        `${op}: ${c.name}`,
        gradientTest({
          op,
          inputs: [{ name: 'x', dims: c.x }, ...(c.ints ? [int64(c.ints)] : [])],
          attrs: c.attrs,
          declaredDims: c.declared && { x: c.declared },
        }),
      );
    }
  }
});
