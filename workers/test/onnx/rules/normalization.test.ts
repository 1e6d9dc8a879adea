import { describe, test } from 'node:test';
import type { Attrs, Dim } from '../../../src/onnx/proto.ts';
import { gradientTest, type GradCheck, type InputSpec } from '../support/gradcheck.ts';

interface NormCase {
  name: string;
  inputs: InputSpec[];
  attrs?: Attrs;
  declared?: Dim[];
}

/** One check per differentiable input, so that a small term cannot hide behind the others. */
function checkEach(op: string, cases: NormCase[], common: Partial<GradCheck>): void {
  for (const c of cases) {
    for (const wrt of c.inputs) {
      test(
        `${c.name}: w.r.t. ${wrt.name}`,
        gradientTest({
          op,
          inputs: c.inputs.map((i) => ({ ...i, wrt: i === wrt })),
          attrs: c.attrs,
          declaredDims: c.declared && { x: c.declared },
          ...common,
        }),
      );
    }
  }
}

const xsb = (x: number[], param: number[], bias = true): InputSpec[] => [
  { name: 'x', dims: x },
  { name: 'scale', dims: param },
  ...(bias ? [{ name: 'bias', dims: param }] : []),
];

// Float32: onnxruntime's CPU InstanceNormalization has no double kernel. The op is smooth: with a
// step of 1e-2 the O(h^2) truncation and the float32 rounding of the difference are both ~1e-4.
describe('VJP of InstanceNormalization (finite differences, float32, tolerance 2e-3)', () => {
  checkEach(
    'InstanceNormalization',
    [
      { name: '2-D spatial', inputs: xsb([2, 3, 4, 5], [3]) },
      { name: '1-D spatial, epsilon 1e-3', inputs: xsb([1, 2, 7], [2]), attrs: { epsilon: { f: 1e-3 } } },
      { name: '3-D spatial, dynamic dims', inputs: xsb([2, 2, 3, 2, 3], [2]), declared: ['n', 2, 'd', 'h', 'w'] },
    ],
    { kind: 'float', step: 1e-2, tolerance: 2e-3 },
  );
});

describe('VJP of LayerNormalization, opset 17 (finite differences, float64)', () => {
  checkEach(
    'LayerNormalization',
    [
      { name: 'axis -1 (default), rank 3', inputs: xsb([2, 3, 4], [4]) },
      { name: 'axis -1, rank 2, no bias', inputs: xsb([3, 5], [5], false), attrs: { axis: -1 } },
      { name: 'axis 1, rank 3', inputs: xsb([2, 3, 4], [3, 4]), attrs: { axis: 1 } },
      { name: 'axis -2, rank 4, epsilon 1e-2', inputs: xsb([2, 2, 3, 4], [3, 4]), attrs: { axis: -2, epsilon: { f: 1e-2 } } },
      { name: 'axis 0, rank 2', inputs: xsb([3, 4], [3, 4]), attrs: { axis: 0 } },
      { name: 'axis -2, scale broadcast [1, 4]', inputs: xsb([2, 3, 4], [1, 4]), attrs: { axis: -2 } },
      { name: 'axis -1, dynamic dims', inputs: xsb([2, 3, 4], [4]), declared: ['n', 't', 4] },
      { name: 'axis 1, dynamic dims', inputs: xsb([2, 3, 4], [3, 4]), attrs: { axis: 1 }, declared: ['n', 't', 'c'] },
    ],
    { opset: 17 },
  );
});

// onnxruntime-node 1.30 runs GroupNormalization at opsets 18 and 21 (as the ONNX function), in double too.
describe('VJP of GroupNormalization (finite differences, float64)', () => {
  // Opset 18: scale and bias per group.
  checkEach(
    'GroupNormalization',
    [
      { name: 'opset 18, 2 groups of 2, 1-D spatial', inputs: xsb([2, 4, 3], [2]), attrs: { num_groups: 2 } },
      { name: 'opset 18, 3 groups of 2, 2-D spatial', inputs: xsb([2, 6, 2, 3], [3]), attrs: { num_groups: 3, epsilon: { f: 1e-3 } } },
      { name: 'opset 18, 1 group, dynamic dims', inputs: xsb([2, 3, 4], [1]), attrs: { num_groups: 1 }, declared: ['n', 3, 'l'] },
    ],
    { opset: 18 },
  );
  // Opset 21: scale and bias per channel. Its statistics are computed in stash_type, float32 by
  // default, which would swamp a float64 finite difference; stash_type 11 keeps them in float64.
  checkEach(
    'GroupNormalization',
    [
      { name: 'opset 21, 2 groups of 2, 1-D spatial', inputs: xsb([2, 4, 3], [4]), attrs: { num_groups: 2, stash_type: 11 } },
      { name: 'opset 21, 3 groups of 2, 2-D spatial', inputs: xsb([2, 6, 2, 3], [6]), attrs: { num_groups: 3, epsilon: { f: 1e-3 }, stash_type: 11 } },
      { name: 'opset 21, groups = channels, dynamic dims', inputs: xsb([2, 3, 4], [3]), attrs: { num_groups: 3, stash_type: 11 }, declared: ['n', 3, 'l'] },
    ],
    { opset: 21 },
  );
});
