import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GradientError, grad } from '../../../src/onnx/autodiff/grad.ts';
import { buildModel } from '../../../src/onnx/model-builder.ts';
import { DataType, makeTensor, type Attrs, type Dim } from '../../../src/onnx/proto.ts';
import { gradientTest, type InputSpec } from '../support/gradcheck.ts';

interface ResizeCase {
  name: string;
  x: number[];
  scales?: number[];
  sizes?: number[];
  attrs: Attrs;
  /** roi as an empty constant (as torch exports it) rather than an omitted input. */
  emptyRoi?: boolean;
  declared?: Dim[];
  opset?: number;
}

const NEAREST_TORCH = { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };
const LINEAR = { mode: 'linear', coordinate_transformation_mode: 'half_pixel' };

const CASES: ResizeCase[] = [
  { name: 'nearest x2 as torch exports it (asymmetric, floor)', x: [1, 2, 3, 4], scales: [1, 1, 2, 2], attrs: NEAREST_TORCH },
  {
    name: 'nearest x2, torch, empty roi, dynamic dims',
    x: [2, 1, 3, 3],
    scales: [1, 1, 2, 2],
    attrs: NEAREST_TORCH,
    emptyRoi: true,
    declared: ['n', 1, 'h', 'w'],
  },
  { name: 'nearest to sizes, up and down (half_pixel, round_prefer_floor)', x: [1, 1, 3, 5], sizes: [1, 1, 7, 4], attrs: { mode: 'nearest' } },
  { name: 'linear x2, half_pixel', x: [2, 2, 3, 3], scales: [1, 1, 2, 2], attrs: LINEAR },
  {
    name: 'linear x2, pytorch_half_pixel, dynamic dims',
    x: [1, 2, 3, 4],
    scales: [1, 1, 2, 2],
    attrs: { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' },
    declared: [1, 2, 'h', 'w'],
  },
  { name: 'linear to sizes, align_corners', x: [1, 1, 3, 4], sizes: [1, 1, 5, 7], attrs: { mode: 'linear', coordinate_transformation_mode: 'align_corners' } },
  { name: 'linear downsampling x0.5', x: [1, 2, 6, 8], scales: [1, 1, 0.5, 0.5], attrs: LINEAR },
  { name: 'linear downsampling to odd sizes', x: [1, 1, 7, 5], sizes: [1, 1, 3, 2], attrs: LINEAR },
  { name: 'linear downsampling, antialias (opset 18)', x: [1, 1, 8, 6], scales: [1, 1, 0.5, 0.5], attrs: { ...LINEAR, antialias: 1 }, opset: 18 },
  { name: 'linear, last axis only', x: [2, 3, 4], scales: [1, 1, 3], attrs: LINEAR },
  {
    name: 'cubic x2 as torch exports bicubic (a = -0.75)',
    x: [1, 2, 4, 3],
    scales: [1, 1, 2, 2],
    attrs: { mode: 'cubic', coordinate_transformation_mode: 'half_pixel', cubic_coeff_a: { f: -0.75 } },
  },
  { name: 'cubic downsampling, exclude_outside', x: [1, 1, 6, 5], sizes: [1, 1, 4, 3], attrs: { mode: 'cubic', exclude_outside: 1 } },
  { name: 'axes [2, 3] (opset 18), linear', x: [1, 2, 3, 4], scales: [2, 1.5], attrs: { ...LINEAR, axes: [2, 3] }, opset: 18 },
  { name: 'axes [-1] (opset 18), nearest to a size', x: [2, 3, 4], sizes: [6], attrs: { mode: 'nearest', axes: [-1] }, opset: 18 },
];

function resizeInputs(c: ResizeCase): InputSpec[] {
  const roi: InputSpec = c.emptyRoi ? { name: 'roi', dims: [0], constant: { type: DataType.FLOAT, values: [] } } : { name: '', dims: [] };
  const rest: InputSpec[] = c.sizes
    ? [
        { name: '', dims: [] },
        { name: 'sizes', dims: [c.sizes.length], constant: { type: DataType.INT64, values: c.sizes } },
      ]
    : [{ name: 'scales', dims: [c.scales!.length], constant: { type: DataType.FLOAT, values: c.scales! } }];
  return [{ name: 'x', dims: c.x }, roi, ...rest];
}

// Float32: onnxruntime's CPU Resize has no double kernel. Resize is linear in x, so central
// differences are exact at any step; a step of 1 keeps float32 rounding near 1e-6.
describe('VJP of Resize (finite differences, float32, tolerance 1e-5)', () => {
  for (const c of CASES) {
    test(
      `Resize: ${c.name}`,
      gradientTest({
        op: 'Resize',
        inputs: resizeInputs(c),
        attrs: c.attrs,
        opset: c.opset,
        declaredDims: c.declared && { x: c.declared },
        kind: 'float',
        step: 1,
        tolerance: 1e-5,
      }),
    );
  }
});

test('Resize: a kept aspect ratio is refused rather than differentiated one axis at a time', () => {
  const model = buildModel({
    opset: 18,
    inputs: [{ name: 'x', type: DataType.FLOAT, dims: [1, 1, 3, 4] }],
    outputs: [{ name: 'y', type: DataType.FLOAT }],
    initializers: [makeTensor('sizes', DataType.INT64, [2], [8, 8])],
    nodes: [{ op: 'Resize', inputs: ['x', '', '', 'sizes'], outputs: ['y'], attrs: { mode: 'linear', axes: [2, 3], keep_aspect_ratio_policy: 'not_larger' } }],
  });
  assert.throws(
    () => grad(model, 'y', ['x']),
    (e) => e instanceof GradientError && /keep_aspect_ratio_policy not_larger/.test(e.message),
  );
});
