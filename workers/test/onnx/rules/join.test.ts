import { describe, test } from 'node:test';
import { DataType } from '../../../src/onnx/proto.ts';
import { gradientTest, type InputSpec } from '../support/gradcheck.ts';

// Float64: Concat, Split and the ConstantOfShape zeros of unused outputs all have double kernels.
describe('VJP of Concat (finite differences, float64)', () => {
  const three = (dims: number[][]): InputSpec[] => dims.map((d, k) => ({ name: `x${k}`, dims: d }));
  test(
    '3 inputs, axis 0',
    gradientTest({
      op: 'Concat',
      inputs: three([
        [1, 3],
        [4, 3],
        [2, 3],
      ]),
      attrs: { axis: 0 },
    }),
  );
  test(
    '3 inputs, axis -1',
    gradientTest({
      op: 'Concat',
      inputs: three([
        [2, 3, 1],
        [2, 3, 4],
        [2, 3, 2],
      ]),
      attrs: { axis: -1 },
    }),
  );
  test(
    '3 inputs, axis -2, the middle one not differentiated',
    gradientTest({
      op: 'Concat',
      inputs: three([
        [2, 1, 3],
        [2, 2, 3],
        [2, 4, 3],
      ]).map((i) => ({ ...i, wrt: i.name !== 'x1' })),
      attrs: { axis: -2 },
    }),
  );
  test(
    '3 inputs, axis -1, one a constant, dynamic dims',
    gradientTest({
      op: 'Concat',
      inputs: [
        { name: 'x0', dims: [2, 2] },
        { name: 'k', dims: [2, 1], constant: { type: DataType.DOUBLE, values: [5, 6] } },
        { name: 'x2', dims: [2, 3] },
      ],
      attrs: { axis: -1 },
      declaredDims: { x0: ['n', 'a'], x2: ['n', 'b'] },
    }),
  );
});

describe('VJP of Split (finite differences, float64)', () => {
  const sizes = (values: number[]): InputSpec => ({ name: 'split', dims: [values.length], constant: { type: DataType.INT64, values } });
  // Every output feeds a nonlinear loss, so each piece's adjoint is distinct.
  const useAll = {
    extraNodes: [
      { op: 'Mul', inputs: ['y0', 'y2'], outputs: ['p'] },
      { op: 'Add', inputs: ['p', 'y1'], outputs: ['loss'] },
    ],
    ofValue: 'loss',
  };
  test(
    'split sizes input, axis 1, all outputs used',
    gradientTest({ op: 'Split', inputs: [{ name: 'x', dims: [2, 6, 3] }, sizes([2, 2, 2])], attrs: { axis: 1 }, outputs: 3, ...useAll }),
  );
  test(
    'split sizes input [1, 3, 2], axis -1, one output unused',
    gradientTest({ op: 'Split', inputs: [{ name: 'x', dims: [2, 6] }, sizes([1, 3, 2])], attrs: { axis: -1 }, outputs: 3, of: 1 }),
  );
  test(
    'equal split (opset 13), axis -2, all outputs used',
    gradientTest({ op: 'Split', inputs: [{ name: 'x', dims: [3, 6, 2] }], attrs: { axis: -2 }, outputs: 3, opset: 13, ...useAll }),
  );
  test(
    'equal split with num_outputs (opset 18), outputs 0 and 2 used, dynamic dims',
    gradientTest({
      op: 'Split',
      inputs: [{ name: 'x', dims: [2, 9] }],
      attrs: { axis: 1, num_outputs: 3 },
      outputs: 3,
      opset: 18,
      declaredDims: { x: ['n', 9] },
      extraNodes: [{ op: 'Mul', inputs: ['y0', 'y2'], outputs: ['loss'] }],
      ofValue: 'loss',
    }),
  );
});
