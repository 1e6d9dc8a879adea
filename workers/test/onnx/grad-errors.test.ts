import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { grad, GradientError } from '../../src/onnx/autodiff/grad.ts';
import { GRADIENT_RULES, ruleTable } from '../../src/onnx/autodiff/registry.ts';
import { defineRule, type GradientRule } from '../../src/onnx/autodiff/rule.ts';
import { buildModel, type ModelSpec } from '../../src/onnx/model-builder.ts';
import { serializeModel } from '../../src/onnx/model-io.ts';
import { DataType, makeTensor, type ModelProto } from '../../src/onnx/proto.ts';
import { checkGradient } from './support/gradcheck.ts';
import { seededRandom } from './support/random.ts';

const D = DataType.DOUBLE;

/** x: double [2,3] -> y, through `nodes`; more inputs and initializers as given. */
function model(nodes: ModelSpec['nodes'], extra: Partial<ModelSpec> = {}): ModelProto {
  return buildModel({
    inputs: [{ name: 'x', type: D, dims: [2, 3] }, ...(extra.inputs ?? [])],
    outputs: [{ name: 'y', type: D }, ...(extra.outputs ?? [])],
    initializers: extra.initializers,
    nodes,
  });
}

/** Runs a model on double feeds of shape [2,3] (or as `dims` says) and returns every output. */
async function run(m: ModelProto, feeds: Record<string, number[]>, dims: Record<string, number[]> = {}): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(serializeModel(m), { logSeverityLevel: 3 });
  const tensors = Object.fromEntries(Object.entries(feeds).map(([name, v]) => [name, new ort.Tensor('float64', Float64Array.from(v), dims[name] ?? [2, 3])]));
  const out = await session.run(tensors);
  return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, Array.from(t.data as Float64Array)]));
}

function assertClose(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, k) => assert.ok(Math.abs(a - expected[k]!) <= 1e-12 * Math.max(1, Math.abs(expected[k]!)), `element ${k}: ${a} != ${expected[k]}`));
}

const rng = seededRandom(7);
const x = rng.normals(6);
const w = rng.normals(6);

describe('grad(): errors', () => {
  test('an op with no rule on the path names its op type, node name and opset', () => {
    const m = model([{ op: 'Elu', name: 'my_elu', inputs: ['x'], outputs: ['y'] }]);
    assert.throws(
      () => grad(m, 'y', ['x']),
      (e: Error) => e instanceof GradientError && /op Elu \(node 'my_elu', opset 17\)/.test(e.message),
    );
  });

  test('an op of another domain is named with its domain', () => {
    const m = model([{ op: 'FastGelu', domain: 'com.microsoft', name: 'fused', inputs: ['x'], outputs: ['y'] }]);
    assert.throws(() => grad(m, 'y', ['x']), /op com\.microsoft\.FastGelu \(node 'fused', opset 17\)/);
  });

  test('--wrt of an int64 input is refused', () => {
    const m = model(
      [
        { op: 'Cast', inputs: ['k'], outputs: ['kf'], attrs: { to: D } },
        { op: 'Mul', inputs: ['x', 'kf'], outputs: ['y'] },
      ],
      { inputs: [{ name: 'k', type: DataType.INT64, dims: [2, 3] }] },
    );
    assert.throws(
      () => grad(m, 'y', ['k']),
      (e: Error) => e instanceof GradientError && /--wrt 'k' has type int64/.test(e.message),
    );
  });

  test('an unknown --of or --wrt is refused', () => {
    const m = model([{ op: 'Exp', inputs: ['x'], outputs: ['y'] }]);
    assert.throws(
      () => grad(m, 'nope', ['x']),
      (e: Error) => e instanceof GradientError && /--of 'nope' is not a value/.test(e.message),
    );
    assert.throws(
      () => grad(m, 'y', ['nope']),
      (e: Error) => e instanceof GradientError && /--wrt 'nope' is not a value/.test(e.message),
    );
  });
});

describe('grad(): paths and adjoints (closed forms, float64)', () => {
  test('ops only on integer and shape paths need no rules', async () => {
    // y = reshape(x*x, [prod(shape(x))]) * shape(x)[0] = 2 x^2 flattened, so dy/dx = 4x.
    // ReduceProd and Gather have no float gradient here; they read only the shape.
    const m = model(
      [
        { op: 'Mul', inputs: ['x', 'x'], outputs: ['sq'] },
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'ReduceProd', inputs: ['s'], outputs: ['n'], attrs: { keepdims: 1 } },
        { op: 'Reshape', inputs: ['sq', 'n'], outputs: ['flat'] },
        { op: 'Gather', inputs: ['s', 'zero'], outputs: ['rows'] },
        { op: 'Cast', inputs: ['rows'], outputs: ['rowsf'], attrs: { to: D } },
        { op: 'Mul', inputs: ['flat', 'rowsf'], outputs: ['y'] },
      ],
      { initializers: [makeTensor('zero', DataType.INT64, [], [0])] },
    );
    const { model: g, seed } = grad(m, 'y', ['x']);
    const out = await run(g, { x, [seed!]: w }, { [seed!]: [6] });
    assertClose(
      out.grad_x!,
      x.map((xi, k) => 4 * xi * w[k]!),
    );
  });

  test('a --wrt that `of` does not depend on gets zeros', async () => {
    const m = model(
      [
        { op: 'Exp', inputs: ['x'], outputs: ['y'] },
        { op: 'Neg', inputs: ['z'], outputs: ['u'] },
      ],
      {
        inputs: [{ name: 'z', type: D, dims: [2, 3] }],
        outputs: [{ name: 'u', type: D }],
      },
    );
    const { model: g, seed } = grad(m, 'y', ['x', 'z']);
    const out = await run(g, { x, z: rng.normals(6), [seed!]: w });
    assertClose(
      out.grad_x!,
      x.map((xi, k) => Math.exp(xi) * w[k]!),
    );
    assertClose(out.grad_z!, new Array<number>(6).fill(0));
  });

  test('fan-out sums adjoints: y = x*x + x', async () => {
    const m = model([
      { op: 'Mul', inputs: ['x', 'x'], outputs: ['sq'] },
      { op: 'Add', inputs: ['sq', 'x'], outputs: ['y'] },
    ]);
    const { model: g, seed } = grad(m, 'y', ['x']);
    const out = await run(g, { x, [seed!]: w });
    assertClose(
      out.grad_x!,
      x.map((xi, k) => (2 * xi + 1) * w[k]!),
    );
  });
});

describe('the finite-difference check can fail', () => {
  test('a wrong rule (Neg passing dy through unchanged) is rejected', async () => {
    const rules = GRADIENT_RULES as Map<string, GradientRule>;
    const neg = rules.get('Neg')!;
    rules.set(
      'Neg',
      defineRule('Neg', ['X'], (ctx) => ({ X: ctx.dy[0] })),
    );
    try {
      await assert.rejects(checkGradient({ op: 'Neg', inputs: [{ name: 'x', dims: [2, 3] }] }), /Neg: analytic .* vs finite differences/);
    } finally {
      rules.set('Neg', neg);
    }
    await checkGradient({ op: 'Neg', inputs: [{ name: 'x', dims: [2, 3] }] });
  });
});

describe('the rule registry', () => {
  test('two rules for one op type are an error', () => {
    const neg = GRADIENT_RULES.get('Neg')!;
    assert.throws(() => ruleTable([neg, GRADIENT_RULES.get('Exp')!, neg]), /two gradient rules are registered for op Neg/);
  });

  test('a rule returns its adjoints by input name, whatever order it writes them in', async () => {
    const rules = GRADIENT_RULES as Map<string, GradientRule>;
    const sub = rules.get('Sub')!;
    // d(a - b): B's adjoint written first; grad.ts must still hand -dy to b and dy to a
    rules.set(
      'Sub',
      defineRule('Sub', ['A', 'B'], (ctx) => ({ B: ctx.b.neg(ctx.dy[0]!), A: ctx.dy[0] })),
    );
    try {
      await checkGradient({
        op: 'Sub',
        inputs: [
          { name: 'a', dims: [2, 3] },
          { name: 'b', dims: [2, 3] },
        ],
      });
    } finally {
      rules.set('Sub', sub);
    }
  });
});
