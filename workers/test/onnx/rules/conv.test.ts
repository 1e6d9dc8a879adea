import { describe, test } from 'node:test';
import type { Attrs, Dim } from '../../../src/onnx/proto.ts';
import { gradientTest, type InputSpec } from '../support/gradcheck.ts';

// Float32: onnxruntime's CPU Conv and ConvTranspose have no double kernels. Conv is bilinear in
// (x, w) and affine in b, so along any direction its output is quadratic in the step; central
// differences are then exact at any step, and a step of 1 keeps float32 rounding small; what is
// left is rounding in sums of ~100 terms, about 1e-4 of a directional derivative near zero.
const FLOAT = { kind: 'float', step: 1, tolerance: 1e-3 } as const;

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  bias?: false;
  attrs: Attrs;
  declared?: Dim[];
}

const CASES: ConvCase[] = [
  { name: '2-D, pads 1', x: [2, 3, 5, 5], w: [4, 3, 3, 3], attrs: { pads: [1, 1, 1, 1] } },
  { name: '2-D, stride 2, even input', x: [1, 2, 6, 6], w: [3, 2, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } },
  { name: '2-D, stride 2, odd input, no pads', x: [2, 2, 7, 5], w: [3, 2, 3, 3], attrs: { strides: [2, 2] } },
  { name: '2-D, stride 3 > kernel (skipped inputs)', x: [1, 2, 7, 8], w: [2, 2, 1, 2], attrs: { strides: [3, 3] } },
  { name: '2-D, asymmetric pads and strides', x: [1, 2, 5, 6], w: [2, 2, 3, 2], attrs: { strides: [2, 1], pads: [0, 1, 2, 0] } },
  { name: '2-D, stride 1, asymmetric pads', x: [1, 2, 5, 6], w: [3, 2, 3, 2], attrs: { pads: [0, 1, 2, 0] } },
  { name: "2-D, pads beyond the kernel's reach", x: [1, 2, 4, 4], w: [2, 2, 1, 1], attrs: { pads: [1, 1, 1, 1] } },
  { name: '2-D, dilation 2', x: [1, 2, 7, 7], w: [2, 2, 3, 3], attrs: { dilations: [2, 2], pads: [2, 2, 2, 2] } },
  { name: '2-D, dilation 2, stride 2, odd', x: [2, 2, 8, 9], w: [3, 2, 3, 2], attrs: { dilations: [2, 2], strides: [2, 2], pads: [1, 0, 0, 1] } },
  { name: '2-D, groups 2', x: [2, 4, 5, 5], w: [6, 2, 3, 3], attrs: { group: 2, pads: [1, 1, 1, 1] } },
  { name: '2-D, depthwise, stride 2', x: [2, 3, 6, 7], w: [3, 1, 3, 3], attrs: { group: 3, strides: [2, 2], pads: [1, 1, 1, 1] } },
  { name: '2-D, depthwise, dilation [2, 1]', x: [2, 3, 6, 6], w: [3, 1, 3, 3], attrs: { group: 3, dilations: [2, 1], pads: [2, 1, 2, 1] } },
  { name: '2-D, 1x1 kernel, no bias', x: [2, 3, 4, 4], w: [5, 3, 1, 1], bias: false, attrs: {} },
  {
    name: '2-D, kernel_shape given, dynamic dims',
    x: [2, 3, 7, 6],
    w: [4, 3, 3, 3],
    attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
    declared: ['n', 3, 'h', 'w'],
  },
  { name: '1-D, stride 2, asymmetric pads', x: [2, 3, 9], w: [4, 3, 3], attrs: { strides: [2], pads: [1, 2] } },
  { name: '1-D, dilation 2, groups 2', x: [1, 4, 10], w: [2, 2, 3], attrs: { dilations: [2], group: 2 } },
];

describe('VJP of Conv (finite differences, float32, tolerance 1e-3)', () => {
  for (const c of CASES) {
    const inputs: InputSpec[] = [
      { name: 'x', dims: c.x },
      { name: 'w', dims: c.w },
    ];
    if (c.bias !== false) inputs.push({ name: 'b', dims: [c.w[0]!] });
    // One input at a time, so that a small term (the bias) cannot hide behind the others.
    for (const wrt of inputs) {
      test(
        `${c.name}: w.r.t. ${wrt.name}`,
        gradientTest({
          op: 'Conv',
          inputs: inputs.map((i) => ({ ...i, wrt: i === wrt })),
          attrs: c.attrs,
          declaredDims: c.declared && { x: c.declared },
          ...FLOAT,
        }),
      );
    }
  }
});
