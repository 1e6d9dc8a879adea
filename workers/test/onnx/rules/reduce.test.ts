import { describe, test } from 'node:test';
import { DataType, type Attrs, type Dim } from '../../../src/onnx/proto.ts';
import { gradientTest, type InputSpec } from '../support/gradcheck.ts';

/** Axes as an attribute before opset 18 (13 for ReduceSum), as an input from then on. */
const OPSETS: Record<string, number[]> = { ReduceSum: [13, 18], ReduceMean: [17, 18], ReduceMax: [17, 18] };
const axesAsInput = (op: string, opset: number) => opset >= 18 || (op === 'ReduceSum' && opset >= 13);
const AXES = [[1], [-1], [0, 2], [-1, -3], undefined];
/** Declared shapes of x that leave its dims, or its rank, to run time. */
const UNKNOWN: Array<[string, Dim[] | null]> = [
  ['unknown dims', [null, null, null]],
  ['unknown rank', null],
];

/** The op's inputs and attributes for `axes` (undefined: none given, so all axes). */
function reduction(op: string, opset: number, axes: number[] | undefined, attrs: Attrs): { inputs: InputSpec[]; attrs: Attrs } {
  const x: InputSpec = { name: 'x', dims: [2, 3, 4] };
  if (!axesAsInput(op, opset)) return { inputs: [x], attrs: { ...attrs, axes } };
  const inputs = axes ? [x, { name: 'axes', dims: [axes.length], constant: { type: DataType.INT64, values: axes } }] : [x];
  return { inputs, attrs };
}

// Random normals are distinct, so ReduceMax has one maximal element per output.
describe('VJP of ReduceSum, ReduceMean, ReduceMax (finite differences, float64)', () => {
  for (const [op, opsets] of Object.entries(OPSETS)) {
    for (const opset of opsets) {
      const form = axesAsInput(op, opset) ? 'axes input' : 'axes attribute';
      for (const axes of AXES) {
        for (const keepdims of [0, 1]) {
          test(
            `${op} opset ${opset} (${form}) axes ${axes ? `[${axes}]` : 'none (all)'} keepdims ${keepdims}`,
            gradientTest({ op, opset, ...reduction(op, opset, axes, { keepdims }) }),
          );
        }
      }
      for (const [how, declared] of UNKNOWN) {
        test(
          `${op} opset ${opset} axes [1,-1] keepdims 0, ${how}`,
          gradientTest({ op, opset, ...reduction(op, opset, [1, -1], { keepdims: 0 }), declaredDims: { x: declared } }),
        );
      }
      if (!axesAsInput(op, opset)) continue;
      const empty: InputSpec = { name: 'axes', dims: [0], constant: { type: DataType.INT64, values: [] } };
      for (const noop of [0, 1]) {
        test(
          `${op} opset ${opset} empty axes input, noop_with_empty_axes ${noop}`,
          gradientTest({ op, opset, attrs: { noop_with_empty_axes: noop, keepdims: 0 }, inputs: [{ name: 'x', dims: [2, 3, 4] }, empty] }),
        );
      }
      test(
        `${op} opset ${opset} no axes input, noop_with_empty_axes 1`,
        gradientTest({ op, opset, attrs: { noop_with_empty_axes: 1 }, inputs: [{ name: 'x', dims: [2, 3, 4] }] }),
      );
    }
  }
});
