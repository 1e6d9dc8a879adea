import { describe, test } from 'node:test';
import { DataType, type Dim } from '../../../src/onnx/proto.ts';
import { gradientTest, type InputSpec } from '../support/gradcheck.ts';

const ints = (name: string, values: number[], dims = [values.length], type = DataType.INT64): InputSpec => ({ name, dims, constant: { type, values } });

// Float64 throughout: Slice, Gather, Where and the Range/ScatterElements/ScatterND/Transpose
// their gradients emit all have double CPU kernels.
describe('VJP of Slice (finite differences, float64)', () => {
  const BIG = 1000;
  const CASES: Array<{ name: string; x: number[]; starts: number[]; ends: number[]; axes?: number[]; steps?: number[]; declared?: Dim[] }> = [
    { name: 'steps 2 on both axes', x: [5, 6], starts: [0, 1], ends: [5, 6], axes: [0, 1], steps: [2, 2] },
    { name: 'step -1 reverses an axis', x: [3, 4], starts: [-1], ends: [-BIG], axes: [1], steps: [-1] },
    { name: 'step -2 from a negative start', x: [7, 2], starts: [-2], ends: [0], axes: [0], steps: [-2] },
    { name: 'negative starts and ends, no axes', x: [4, 5], starts: [-3, 1], ends: [-1, -1] },
    { name: 'ends beyond the size', x: [3, 4], starts: [1], ends: [BIG], axes: [1] },
    { name: 'axes subset with a negative axis, dynamic dims', x: [2, 3, 5], starts: [1], ends: [4], axes: [-1], declared: ['n', 3, 'l'] },
    { name: 'static sliced axis, dynamic batch, explicit step 1', x: [2, 5], starts: [-4], ends: [-1], axes: [1], steps: [1], declared: ['n', 5] },
    { name: 'empty result', x: [2, 3], starts: [2], ends: [1], axes: [-1] },
  ];
  for (const c of CASES) {
    const inputs = [{ name: 'x', dims: c.x }, ints('starts', c.starts), ints('ends', c.ends)];
    if (c.axes) inputs.push(ints('axes', c.axes));
    if (c.steps) inputs.push(ints('steps', c.steps));
    test(`Slice: ${c.name}`, gradientTest({ op: 'Slice', inputs, declaredDims: c.declared && { x: c.declared } }));
  }
});

describe('VJP of Gather w.r.t. data (finite differences, float64)', () => {
  const CASES: Array<{ name: string; data: number[]; indices: number[]; indexDims: number[]; axis?: number; int32?: boolean; declared?: Dim[] }> = [
    { name: 'axis 0, repeated indices', data: [5, 3], indices: [2, 0, 2, 4], indexDims: [4] },
    { name: 'axis 0, scalar index', data: [4, 2, 3], indices: [3], indexDims: [] },
    { name: 'axis 0, 2-D negative and repeated indices, dynamic dims', data: [5, 3], indices: [-1, 0, 4, -5], indexDims: [2, 2], declared: ['v', 'd'] },
    { name: 'axis 1, 2-D negative indices', data: [2, 4, 3], indices: [1, -1, 0, 1], indexDims: [2, 2], axis: 1 },
    { name: 'axis -1, repeated negative indices', data: [2, 3, 4], indices: [3, -4, 0, -1], indexDims: [4], axis: -1 },
    { name: 'axis 1, scalar negative index', data: [2, 4, 3], indices: [-2], indexDims: [], axis: 1 },
    { name: 'axis 1, int32 indices, dynamic dims', data: [3, 4], indices: [0, -1, 0], indexDims: [3], axis: 1, int32: true, declared: ['n', 4] },
  ];
  for (const c of CASES) {
    test(
      `Gather: ${c.name}`,
      gradientTest({
        op: 'Gather',
        inputs: [{ name: 'data', dims: c.data }, ints('indices', c.indices, c.indexDims, c.int32 ? DataType.INT32 : DataType.INT64)],
        attrs: c.axis === undefined ? undefined : { axis: c.axis },
        declaredDims: c.declared && { data: c.declared },
      }),
    );
  }
});

describe('VJP of Where w.r.t. both branches (finite differences, float64)', () => {
  const CASES: Array<{ name: string; cond: number[]; condDims: number[]; a: number[]; b: number[]; declared?: Dim[] }> = [
    { name: 'same shapes', cond: [1, 0, 0, 1, 1, 0], condDims: [2, 3], a: [2, 3], b: [2, 3] },
    { name: 'broadcast condition [3] over [2, 3], scalar-like branch [1]', cond: [0, 1, 1], condDims: [3], a: [2, 3], b: [1] },
    { name: 'condition [2, 1, 4], branches [3, 1] and scalar', cond: [1, 0, 1, 1, 0, 0, 1, 0], condDims: [2, 1, 4], a: [3, 1], b: [] },
    { name: 'condition decides the output shape, dynamic dims', cond: [1, 0, 0, 1, 0, 1], condDims: [2, 3], a: [3], b: [2, 1], declared: ['c'] },
  ];
  for (const c of CASES) {
    test(
      `Where: ${c.name}`,
      gradientTest({
        op: 'Where',
        inputs: [
          { name: 'cond', dims: c.condDims, constant: { type: DataType.BOOL, values: c.cond } },
          { name: 'a', dims: c.a },
          { name: 'b', dims: c.b },
        ],
        declaredDims: c.declared && { a: c.declared },
      }),
    );
  }
});
