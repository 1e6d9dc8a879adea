/**
 * Checks a VJP rule against central finite differences: for random cotangents w and directions v,
 * <grad, v> from the differentiated graph must equal (w . f(x + h v) - w . f(x - h v)) / 2h.
 * One scalar comparison per direction keeps the check cheap for any input size.
 */
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { grad } from '../../../src/onnx/autodiff/grad.ts';
import { buildModel, type NodeSpec } from '../../../src/onnx/model-builder.ts';
import { serializeModel } from '../../../src/onnx/model-io.ts';
import { DataType, makeTensor, type Attrs, type Dim, type ModelProto, type TensorProto } from '../../../src/onnx/proto.ts';
import { seededRandom } from './random.ts';

export type FloatKind = 'double' | 'float';

export interface InputSpec {
  /** '' leaves an optional input out (Clip without min, say). */
  name: string;
  dims: number[];
  /** Fixed values; random normals otherwise. */
  values?: number[];
  /** Differentiate with respect to this input (default: every float input not marked constant). */
  wrt?: boolean;
  /** An integer or boolean input (indices, shapes, axes, conditions): held as an initializer. */
  constant?: { type: DataType; values: number[] };
  /** Positive random values (for Log, Sqrt, Pow bases, divisors). */
  positive?: boolean;
}

export interface GradCheck {
  op: string;
  inputs: InputSpec[];
  attrs?: Attrs;
  /** Number of outputs the node has; the first (or `of`) is differentiated. */
  outputs?: number;
  of?: number;
  /** Graph input dims as declared (symbols for dynamic axes, null for no shape at all); default: the concrete dims. */
  declaredDims?: Record<string, Dim[] | null>;
  kind?: FloatKind;
  opset?: number;
  seed?: number;
  directions?: number;
  /** Relative tolerance; default 1e-6 in double, 1e-2 in float. */
  tolerance?: number;
  step?: number;
  /** More nodes after the op under test (e.g. to make its output depend on all inputs). */
  extraNodes?: NodeSpec[];
  /** Name of the value to differentiate when extraNodes are given. */
  ofValue?: string;
  /** Further input dims (by input name) at which the same differentiated model is checked again. */
  alsoAt?: Array<Record<string, number[]>>;
}

const ORT_TYPE: Record<FloatKind, 'float64' | 'float32'> = { double: 'float64', float: 'float32' };
const ONNX_TYPE: Record<FloatKind, DataType> = { double: DataType.DOUBLE, float: DataType.FLOAT };

function typed(kind: FloatKind, values: number[]): Float64Array | Float32Array {
  return kind === 'double' ? Float64Array.from(values) : Float32Array.from(values);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export interface GradCheckResult {
  analytic: number[];
  numeric: number[];
  maxRelativeError: number;
  model: ModelProto;
}

/** Runs the check; throws an assertion error naming the op and the errors if it fails. */
export async function checkGradient(spec: GradCheck): Promise<GradCheckResult> {
  const kind = spec.kind ?? 'double';
  const rng = seededRandom(spec.seed ?? 1);
  const floatInputs = spec.inputs.filter((i) => i.name && !i.constant);
  const wrt = floatInputs.filter((i) => i.wrt !== false).map((i) => i.name);
  const initializers: TensorProto[] = spec.inputs.filter((i) => i.constant).map((i) => makeTensor(i.name, i.constant!.type, i.dims, i.constant!.values));
  const outputNames = Array.from({ length: spec.outputs ?? 1 }, (_, k) => `y${k}`);
  const ofName = spec.ofValue ?? outputNames[spec.of ?? 0]!;
  const model = buildModel({
    opset: spec.opset,
    inputs: floatInputs.map((i) => ({
      name: i.name,
      type: ONNX_TYPE[kind],
      dims: spec.declaredDims?.[i.name] === null ? undefined : (spec.declaredDims?.[i.name] ?? i.dims),
    })),
    outputs: [{ name: ofName, type: ONNX_TYPE[kind] }],
    initializers,
    nodes: [{ op: spec.op, inputs: spec.inputs.map((i) => i.name), outputs: outputNames, attrs: spec.attrs }, ...(spec.extraNodes ?? [])],
  });
  const { model: gradModel, gradients, seed } = grad(model, ofName, wrt);
  const forward = await ort.InferenceSession.create(serializeModel(model), { logSeverityLevel: 3 });
  const backward = await ort.InferenceSession.create(serializeModel(gradModel), { logSeverityLevel: 3 });

  const h = spec.step ?? (kind === 'double' ? 1e-6 : 1e-2);
  const tolerance = spec.tolerance ?? (kind === 'double' ? 1e-6 : 1e-2);
  const analytic: number[] = [];
  const numeric: number[] = [];
  let maxRelativeError = 0;
  // The same differentiated model at the given dims and then at each of `alsoAt`.
  for (const sizes of [{}, ...(spec.alsoAt ?? [])] as Array<Record<string, number[]>>) {
    const dimsOf = (i: InputSpec) => sizes[i.name] ?? i.dims;
    const x: Record<string, number[]> = {};
    for (const i of floatInputs) {
      const n = dimsOf(i).reduce((a, b) => a * b, 1);
      x[i.name] = i.values && !sizes[i.name] ? i.values : i.positive ? Array.from({ length: n }, () => 0.5 + rng.uniform() * 1.5) : rng.normals(n);
    }
    const feeds = (values: Record<string, number[]>) =>
      Object.fromEntries(floatInputs.map((i) => [i.name, new ort.Tensor(ORT_TYPE[kind], typed(kind, values[i.name]!), dimsOf(i))]));
    const base = await forward.run(feeds(x));
    const y = base[ofName]!;
    const w = rng.normals(y.data.length);
    const gradFeeds: Record<string, ort.Tensor> = feeds(x);
    if (seed) gradFeeds[seed] = new ort.Tensor(ORT_TYPE[kind], typed(kind, w), y.dims as number[]);
    const out = await backward.run(gradFeeds);
    // A scalar output is seeded with 1, so its cotangent is 1.
    const cotangent = seed ? w : [1];

    for (let d = 0; d < (spec.directions ?? 3); d++) {
      const v: Record<string, number[]> = {};
      for (const name of wrt) v[name] = rng.normals(x[name]!.length);
      const shifted = (sign: number) =>
        Object.fromEntries(floatInputs.map((i) => [i.name, v[i.name] ? x[i.name]!.map((xi, k) => xi + sign * h * v[i.name]![k]!) : x[i.name]!]));
      const plus = (await forward.run(feeds(shifted(1))))[ofName]!.data as Float64Array;
      const minus = (await forward.run(feeds(shifted(-1))))[ofName]!.data as Float64Array;
      const fd = (dot(cotangent, plus) - dot(cotangent, minus)) / (2 * h);
      const an = wrt.reduce((s, name, k) => s + dot(out[gradients[k]!]!.data as Float64Array, v[name]!), 0);
      analytic.push(an);
      numeric.push(fd);
      const scale = Math.max(Math.abs(an), Math.abs(fd), 1e-3);
      maxRelativeError = Math.max(maxRelativeError, Math.abs(an - fd) / scale);
    }
  }
  assert.ok(
    maxRelativeError <= tolerance,
    `${spec.op}: analytic ${analytic.map((a) => a.toPrecision(8)).join(', ')} vs finite differences ${numeric.map((a) => a.toPrecision(8)).join(', ')} (max relative error ${maxRelativeError.toExponential(2)} > ${tolerance})`,
  );
  return { analytic, numeric, maxRelativeError, model: gradModel };
}

/** `checkGradient` as a test body (node:test wants one that resolves to nothing). */
export function gradientTest(spec: GradCheck): () => Promise<void> {
  return async () => {
    await checkGradient(spec);
  };
}
