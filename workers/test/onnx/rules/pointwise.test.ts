import { describe, test } from 'node:test';
import { DataType, type Attrs } from '../../../src/onnx/proto.ts';
import { gradientTest, type FloatKind, type InputSpec } from '../support/gradcheck.ts';

const SHAPES = [[], [5], [2, 3, 4]];

/**
 * Ops whose forward kernel onnxruntime's CPU provider has only in float32 (Erf, Softplus, and Gelu
 * whose exact form it expands into Erf) are checked in float, at a relative tolerance of 1e-3:
 * central differences with step 1e-2 in float32 come within 2e-4 of the exact values here.
 */
const FLOAT_TOLERANCE = 1e-3;

interface Unary {
  op: string;
  attrs?: Attrs;
  opset?: number;
  kind?: FloatKind;
  /** Domain restricted to positive inputs. */
  positive?: boolean;
}

const UNARY: Unary[] = [
  { op: 'Sqrt', positive: true },
  { op: 'Exp' },
  { op: 'Log', positive: true },
  { op: 'Neg' },
  { op: 'Abs' },
  { op: 'Erf', kind: 'float' },
  { op: 'Tanh' },
  { op: 'Sigmoid' },
  { op: 'Relu' },
  { op: 'LeakyRelu' },
  { op: 'LeakyRelu', attrs: { alpha: { f: 0.2 } } },
  { op: 'Softplus', kind: 'float' },
  { op: 'Reciprocal', positive: true },
  { op: 'Sin' },
  { op: 'Cos' },
  { op: 'Gelu', opset: 20, kind: 'float' },
  { op: 'Gelu', attrs: { approximate: 'tanh' }, opset: 20 },
  { op: 'Identity' },
  { op: 'Dropout' },
];

describe('VJP of one-input elementwise ops (finite differences)', () => {
  for (const { op, attrs, opset, kind = 'double', positive } of UNARY) {
    for (const dims of SHAPES) {
      const label = `${op}${attrs ? ` ${JSON.stringify(attrs)}` : ''} [${dims}] in ${kind}`;
      test(label, gradientTest({ op, attrs, opset, kind, inputs: [{ name: 'x', dims, positive }], tolerance: kind === 'float' ? FLOAT_TOLERANCE : undefined }));
    }
  }
});

describe('VJP of Dropout in inference mode (finite differences, float64)', () => {
  test('with its mask output', gradientTest({ op: 'Dropout', inputs: [{ name: 'x', dims: [2, 3] }], outputs: 2 }));
  test(
    'with a ratio and training_mode false',
    gradientTest({
      op: 'Dropout',
      inputs: [
        { name: 'x', dims: [2, 3] },
        { name: 'ratio', dims: [], constant: { type: DataType.DOUBLE, values: [0.5] } },
        { name: 'training_mode', dims: [], constant: { type: DataType.BOOL, values: [0] } },
      ],
    }),
  );
});

describe('VJP of Clip (finite differences, float64)', () => {
  // Bounds at -0.5 and 0.5 leave about a third of the standard normal inputs on each side.
  const bound = (name: string, value: number, asInput: boolean): InputSpec =>
    asInput ? { name, dims: [], values: [value] } : { name, dims: [], constant: { type: DataType.DOUBLE, values: [value] } };
  for (const asInput of [false, true]) {
    const how = asInput ? 'inputs differentiated too' : 'constants';
    const cases: Array<{ name: string; bounds: InputSpec[] }> = [
      { name: 'min and max', bounds: [bound('min', -0.5, asInput), bound('max', 0.5, asInput)] },
      { name: 'min only', bounds: [bound('min', -0.5, asInput)] },
      { name: 'max only', bounds: [{ name: '', dims: [] }, bound('max', 0.5, asInput)] },
    ];
    for (const { name, bounds } of cases) {
      test(`Clip: ${name}, bounds as ${how}`, gradientTest({ op: 'Clip', inputs: [{ name: 'x', dims: [3, 4] }, ...bounds] }));
    }
  }
  test('Clip: no bounds', gradientTest({ op: 'Clip', inputs: [{ name: 'x', dims: [3, 4] }] }));
});

describe('VJP of Cast between float types (finite differences)', () => {
  // A round trip makes the checked function the identity up to rounding, so it tests the rules of
  // both Casts. Rounding to the narrow type is no error of the rule: a large step keeps it small
  // next to the difference (fp16 rounds values of size 4 by 2e-3, so 1e-2 relative tolerance).
  const trips: Array<{ kind: FloatKind; via: DataType; name: string; tolerance: number }> = [
    { kind: 'double', via: DataType.FLOAT, name: 'double -> float -> double', tolerance: 1e-6 },
    { kind: 'float', via: DataType.DOUBLE, name: 'float -> double -> float', tolerance: 1e-5 },
    { kind: 'float', via: DataType.FLOAT16, name: 'float -> float16 -> float', tolerance: 1e-2 },
    { kind: 'double', via: DataType.FLOAT16, name: 'double -> float16 -> double', tolerance: 1e-2 },
  ];
  for (const { kind, via, name, tolerance } of trips) {
    const back = kind === 'double' ? DataType.DOUBLE : DataType.FLOAT;
    test(
      `Cast: ${name}`,
      gradientTest({
        op: 'Cast',
        attrs: { to: via },
        kind,
        inputs: [{ name: 'x', dims: [3, 4] }],
        extraNodes: [{ op: 'Cast', inputs: ['y0'], outputs: ['z'], attrs: { to: back } }],
        ofValue: 'z',
        step: 1,
        tolerance,
      }),
    );
  }
});
