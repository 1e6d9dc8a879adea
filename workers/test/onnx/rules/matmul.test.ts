import { describe, test } from 'node:test';
import type { Dim } from '../../../src/onnx/proto.ts';
import { gradientTest, type InputSpec } from '../support/gradcheck.ts';

describe('VJP of MatMul (finite differences, float64)', () => {
  const cases: Array<{ name: string; a: number[]; b: number[]; declared?: Record<string, Dim[] | null> }> = [
    { name: '2-D', a: [3, 4], b: [4, 5] },
    { name: 'batched 3-D', a: [2, 3, 4], b: [2, 4, 5] },
    { name: 'broadcast batch, 4-D with 3-D', a: [2, 1, 3, 4], b: [5, 4, 6] },
    { name: '2-D with batched 3-D', a: [3, 4], b: [2, 4, 5] },
    { name: '1-D with 2-D', a: [4], b: [4, 5] },
    { name: '2-D with 1-D', a: [3, 4], b: [4] },
    { name: '1-D with 1-D (scalar result)', a: [4], b: [4] },
    { name: '1-D with batched 3-D', a: [4], b: [2, 4, 5] },
    { name: 'batched 3-D with 1-D', a: [2, 3, 4], b: [4] },
    { name: 'broadcast batch, symbolic dims', a: [2, 1, 3, 4], b: [5, 4, 6], declared: { a: ['n', 1, 'h', 'k'], b: [5, 'k', 6] } },
    { name: 'broadcast batch, unknown dims', a: [2, 1, 3, 4], b: [5, 4, 6], declared: { a: [null, null, null, null], b: [null, null, null] } },
    // Unknown ranks: whether an operand is 1-D is found at run time.
    { name: 'broadcast batch, unknown ranks', a: [2, 1, 3, 4], b: [5, 4, 6], declared: { a: null, b: null } },
    { name: '1-D (unknown rank) with batched 3-D', a: [4], b: [2, 4, 5], declared: { a: null } },
    { name: '2-D with 1-D (unknown rank)', a: [3, 4], b: [4], declared: { b: null } },
    { name: '1-D with 1-D, unknown ranks', a: [4], b: [4], declared: { a: null, b: null } },
    { name: 'batched 3-D (unknown rank) with 1-D', a: [2, 3, 4], b: [4], declared: { a: null } },
  ];
  for (const { name, a, b, declared } of cases) {
    test(
      `MatMul: ${name}`,
      gradientTest({
        op: 'MatMul',
        inputs: [
          { name: 'a', dims: a },
          { name: 'b', dims: b },
        ],
        declaredDims: declared,
      }),
    );
  }
});

describe('VJP of Gemm (finite differences, float64)', () => {
  const [M, K, N] = [3, 4, 5];
  const biases: Array<{ name: string; dims?: number[] }> = [
    { name: 'C [M,N]', dims: [M, N] },
    { name: 'C [N]', dims: [N] },
    { name: 'C [1,N]', dims: [1, N] },
    { name: 'C [M,1]', dims: [M, 1] },
    { name: 'C scalar', dims: [] },
    { name: 'no C' },
  ];
  for (const transA of [0, 1]) {
    for (const transB of [0, 1]) {
      for (const { name, dims } of biases) {
        const inputs: InputSpec[] = [
          { name: 'a', dims: transA ? [K, M] : [M, K] },
          { name: 'b', dims: transB ? [N, K] : [K, N] },
        ];
        if (dims) inputs.push({ name: 'c', dims });
        test(
          `Gemm transA=${transA} transB=${transB}, alpha 0.7, beta 1.3, ${name}`,
          gradientTest({ op: 'Gemm', attrs: { transA, transB, alpha: { f: 0.7 }, beta: { f: 1.3 } }, inputs }),
        );
      }
    }
  }
  test(
    'Gemm with unknown ranks',
    gradientTest({
      op: 'Gemm',
      attrs: { transA: 1 },
      inputs: [
        { name: 'a', dims: [K, M] },
        { name: 'b', dims: [K, N] },
        { name: 'c', dims: [N] },
      ],
      declaredDims: { a: null, b: null, c: null },
    }),
  );
  test(
    'Gemm with default alpha and beta',
    gradientTest({
      op: 'Gemm',
      inputs: [
        { name: 'a', dims: [M, K] },
        { name: 'b', dims: [K, N] },
        { name: 'c', dims: [N] },
      ],
    }),
  );
});
