/**
 * One model with dynamic batch and spatial dims, differentiated once; the same gradient model runs
 * at two sizes and each is checked against finite differences. The block is what torch exports
 * for Conv -> GroupNorm -> SiLU -> nearest upsampling -> Conv (GroupNorm as Reshape ->
 * InstanceNormalization -> Reshape to the run-time shape -> affine), under a mean-square loss.
 */
import { test } from 'node:test';
import { DataType, makeTensor } from '../../src/onnx/proto.ts';
import type { NodeSpec } from '../../src/onnx/model-builder.ts';
import { gradientTest } from './support/gradcheck.ts';
import { seededRandom } from './support/random.ts';

const rng = seededRandom(7);
const C = 8;
const GROUPS = 2;
const constant = (name: string, type: DataType, dims: number[], values: number[]): NodeSpec => ({
  op: 'Constant',
  inputs: [],
  outputs: [name],
  attrs: { value: makeTensor(name, type, dims, values) },
});
const floats = (name: string, dims: number[], values = rng.normals(dims.reduce((a, b) => a * b, 1))) => constant(name, DataType.FLOAT, dims, values);

const block: NodeSpec[] = [
  constant('groups_shape', DataType.INT64, [3], [0, GROUPS, -1]),
  { op: 'Reshape', inputs: ['y0', 'groups_shape'], outputs: ['grouped'] },
  floats('ones', [GROUPS], [1, 1]),
  floats('zeros', [GROUPS], [0, 0]),
  { op: 'InstanceNormalization', inputs: ['grouped', 'ones', 'zeros'], outputs: ['normed'] },
  { op: 'Shape', inputs: ['y0'], outputs: ['y0_shape'] },
  { op: 'Reshape', inputs: ['normed', 'y0_shape'], outputs: ['ungrouped'] },
  floats('gamma', [C, 1, 1]),
  floats('beta', [C, 1, 1]),
  { op: 'Mul', inputs: ['ungrouped', 'gamma'], outputs: ['scaled'] },
  { op: 'Add', inputs: ['scaled', 'beta'], outputs: ['affine'] },
  { op: 'Sigmoid', inputs: ['affine'], outputs: ['gate'] },
  { op: 'Mul', inputs: ['affine', 'gate'], outputs: ['silu'] },
  floats('scales', [4], [1, 1, 2, 2]),
  {
    op: 'Resize',
    inputs: ['silu', '', 'scales'],
    outputs: ['up'],
    attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
  },
  floats('w2', [4, C, 3, 3]),
  { op: 'Conv', inputs: ['up', 'w2'], outputs: ['out'], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } },
  { op: 'Mul', inputs: ['out', 'out'], outputs: ['square'] },
  { op: 'ReduceMean', inputs: ['square'], outputs: ['loss'], attrs: { keepdims: 0 } },
];

// Float32: Conv, InstanceNormalization and Resize have float kernels only on onnxruntime's CPU.
// The loss is smooth; a step of 1e-2 leaves truncation and rounding errors around 1e-4.
test(
  'dynamic batch and spatial dims: one gradient model, checked at [1, 4, 5, 6] and [3, 4, 4, 7]',
  gradientTest({
    op: 'Conv',
    inputs: [
      { name: 'x', dims: [1, 4, 5, 6] },
      { name: 'w1', dims: [C, 4, 3, 3] },
      { name: 'b1', dims: [C] },
    ],
    attrs: { pads: [1, 1, 1, 1] },
    declaredDims: { x: ['batch', 4, 'h', 'w'] },
    alsoAt: [{ x: [3, 4, 4, 7] }],
    extraNodes: block,
    ofValue: 'loss',
    kind: 'float',
    step: 1e-2,
    tolerance: 2e-3,
  }),
);
