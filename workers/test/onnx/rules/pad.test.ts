import { describe, test } from 'node:test';
import { DataType, type Dim } from '../../../src/onnx/proto.ts';
import { gradientTest, type InputSpec } from '../support/gradcheck.ts';

interface PadCase {
  name: string;
  x: number[];
  pads: number[];
  /** The constant value: omitted, or a graph input (differentiated). */
  value?: 'input';
  axes?: number[];
  opset: number;
  declared?: Dim[];
}

const CASES: PadCase[] = [
  { name: 'positive pads, default value (opset 13)', x: [2, 3], pads: [1, 2, 0, 1], opset: 13 },
  { name: 'negative pads crop (opset 17)', x: [3, 4], pads: [0, -1, 1, -1], opset: 17 },
  { name: 'rank 3, value differentiated, dynamic dims (opset 17)', x: [2, 3, 4], pads: [1, 0, 0, 0, 2, 1], value: 'input', opset: 17, declared: ['n', 3, 'l'] },
  { name: 'axes [-1, 0] input, mixed signs, value omitted (opset 18)', x: [2, 3, 4], pads: [1, 0, 2, -1], axes: [-1, 0], opset: 18 },
  { name: 'axes [1] input, value differentiated (opset 18)', x: [2, 5], pads: [-1, 2], axes: [1], value: 'input', opset: 18 },
];

const int64 = (name: string, values: number[]): InputSpec => ({ name, dims: [values.length], constant: { type: DataType.INT64, values } });

// Float64: Pad, Neg and ReduceSum all have double CPU kernels.
describe('VJP of Pad, constant mode (finite differences, float64)', () => {
  for (const c of CASES) {
    const inputs: InputSpec[] = [{ name: 'x', dims: c.x }, int64('pads', c.pads)];
    if (c.value || c.axes) inputs.push({ name: c.value ? 'value' : '', dims: [] });
    if (c.axes) inputs.push(int64('axes', c.axes));
    for (const wrt of inputs.filter((i) => i.name && !i.constant)) {
      test(
        `Pad: ${c.name}: w.r.t. ${wrt.name}`,
        gradientTest({ op: 'Pad', inputs: inputs.map((i) => ({ ...i, wrt: i === wrt })), opset: c.opset, declaredDims: c.declared && { x: c.declared } }),
      );
    }
  }
});

interface CopyingCase {
  name: string;
  mode: 'reflect' | 'edge' | 'wrap';
  x: number[];
  pads: number[];
  axes?: number[];
  opset: number;
}

/** Modes that copy input elements into the padding: each x element collects dy from every copy of it. */
const COPYING: CopyingCase[] = [
  { name: "reflect by 1 on both spatial axes (the smoothing filters' padding)", mode: 'reflect', x: [1, 2, 4, 5], pads: [0, 0, 1, 1, 0, 0, 1, 1], opset: 17 },
  { name: 'reflect by 2, uneven, one axis cropped', mode: 'reflect', x: [4, 5], pads: [2, 1, -1, 2], opset: 13 },
  { name: 'edge, rank 3', mode: 'edge', x: [2, 3, 2], pads: [1, 2, 0, 0, 1, 3], opset: 17 },
  { name: 'reflect with axes [-1] (opset 18)', mode: 'reflect', x: [2, 4], pads: [2, 1], axes: [-1], opset: 18 },
  { name: 'wrap (opset 19)', mode: 'wrap', x: [3, 4], pads: [1, 2, 2, 1], opset: 19 },
];

describe('VJP of Pad, reflect, edge and wrap modes (finite differences, float64)', () => {
  for (const c of COPYING) {
    const inputs: InputSpec[] = [{ name: 'x', dims: c.x, wrt: true }, int64('pads', c.pads)];
    if (c.axes) inputs.push({ name: '', dims: [] }, int64('axes', c.axes));
    test(`Pad ${c.mode}: ${c.name}`, gradientTest({ op: 'Pad', inputs, attrs: { mode: c.mode }, opset: c.opset }));
  }
});
