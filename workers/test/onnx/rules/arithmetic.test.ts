import { describe, test } from 'node:test';
import { DataType, dataTypeName, type Dim } from '../../../src/onnx/proto.ts';
import { gradientTest, type InputSpec } from '../support/gradcheck.ts';

interface Pair {
  name: string;
  a: number[];
  b: number[];
  declared?: Record<string, Dim[] | null>;
}

const BROADCASTS: Pair[] = [
  { name: 'same shapes', a: [2, 3], b: [2, 3] },
  { name: 'broadcast [2,3,4] with [3,1]', a: [2, 3, 4], b: [3, 1] },
  { name: 'broadcast [4] with [2,3,4] (first operand)', a: [4], b: [2, 3, 4] },
  { name: 'broadcast [3,1] with [1,4] (both operands)', a: [3, 1], b: [1, 4] },
  { name: 'broadcast scalar with [4,1,5], symbolic dims', a: [], b: [4, 1, 5], declared: { b: ['n', null, 'm'] } },
  // Unknown dims leave the broadcast axes to be found at run time.
  { name: 'broadcast [3,1] with [1,4], unknown dims', a: [3, 1], b: [1, 4], declared: { a: [null, null], b: [null, null] } },
  { name: 'broadcast [2,1,3] with [5,1], unknown dims', a: [2, 1, 3], b: [5, 1], declared: { a: [null, null, null], b: [null, null] } },
  { name: 'broadcast [3,1] with [2,1,4], unknown ranks', a: [3, 1], b: [2, 1, 4], declared: { a: null, b: null } },
];

describe('VJP of broadcasting arithmetic (finite differences, float64)', () => {
  for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
    for (const { name, a, b, declared } of BROADCASTS) {
      test(
        `${op}: ${name}`,
        gradientTest({
          op,
          inputs: [
            { name: 'a', dims: a },
            { name: 'b', dims: b, positive: op === 'Div' },
          ],
          declaredDims: declared,
        }),
      );
    }
  }
});

describe('VJP of Pow (finite differences, float64)', () => {
  const exponentInputs: Array<{ name: string; base: number[]; exponent: number[]; declared?: Record<string, null> }> = [
    { name: 'same shapes', base: [2, 3], exponent: [2, 3] },
    { name: 'exponent broadcast [3,1] over [2,3,4]', base: [2, 3, 4], exponent: [3, 1] },
    { name: 'scalar exponent', base: [5], exponent: [] },
    { name: 'scalar base', base: [], exponent: [2, 3] },
    { name: '[3,1] with [2,1,4], unknown ranks', base: [3, 1], exponent: [2, 1, 4], declared: { x: null, p: null } },
  ];
  for (const { name, base, exponent, declared } of exponentInputs) {
    test(
      `Pow: tensor exponent, ${name}, w.r.t. base and exponent`,
      gradientTest({
        op: 'Pow',
        inputs: [
          { name: 'x', dims: base, positive: true },
          { name: 'p', dims: exponent },
        ],
        declaredDims: declared,
      }),
    );
  }
  test(
    'Pow: w.r.t. the exponent only',
    gradientTest({
      op: 'Pow',
      inputs: [
        { name: 'x', dims: [2, 3], positive: true, wrt: false },
        { name: 'p', dims: [3] },
      ],
    }),
  );

  const constantExponents: Array<{ type: DataType; value: number; positive: boolean }> = [
    // 2 takes the rule's shortcut (2x); any sign of the base is fine for 2 and 3.
    { type: DataType.DOUBLE, value: 2, positive: false },
    { type: DataType.DOUBLE, value: 3, positive: false },
    { type: DataType.DOUBLE, value: 0.5, positive: true },
    { type: DataType.INT64, value: 3, positive: false },
  ];
  for (const { type, value, positive } of constantExponents) {
    for (const dims of [[2, 3], []]) {
      const exponent: InputSpec = { name: 'p', dims: [], constant: { type, values: [value] } };
      test(
        `Pow: constant ${dataTypeName(type)} exponent ${value}, base [${dims}]`,
        gradientTest({ op: 'Pow', inputs: [{ name: 'x', dims, positive }, exponent] }),
      );
    }
  }
});

describe('VJP of Sum, Max, Min (finite differences, float64)', () => {
  const operandSets: Array<{ name: string; dims: number[][]; declared?: Record<string, null> }> = [
    { name: 'one input', dims: [[2, 3]] },
    {
      name: 'two inputs, [3,1] with [1,4]',
      dims: [
        [3, 1],
        [1, 4],
      ],
    },
    { name: 'three inputs, [2,3,4], [3,1], scalar', dims: [[2, 3, 4], [3, 1], []] },
    {
      name: 'two inputs, [3,1] with [2,1,4], unknown ranks',
      dims: [
        [3, 1],
        [2, 1, 4],
      ],
      declared: { x0: null, x1: null },
    },
  ];
  for (const op of ['Sum', 'Max', 'Min']) {
    for (const { name, dims, declared } of operandSets) {
      // Random normals are distinct, so Max and Min select a unique operand everywhere.
      const inputs: InputSpec[] = dims.map((d, k) => ({ name: `x${k}`, dims: d }));
      test(`${op}: ${name}`, gradientTest({ op, inputs, declaredDims: declared }));
    }
  }
});
