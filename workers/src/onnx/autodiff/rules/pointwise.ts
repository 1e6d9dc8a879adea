/**
 * One-input elementwise ops: dx = dy * f'(x), with f' written from the forward input x or, where
 * it is cheaper, from the forward output y.
 */
import { DataType, attrFloat } from '../../proto.ts';
import type { GraphBuilder } from '../../graph-builder.ts';
import { defineRule, dy0, type GradientRule, type VjpContext } from '../rule.ts';

type Local = (b: GraphBuilder, x: string, y: string, ctx: VjpContext) => string;

/** A rule whose adjoint is dy times the local derivative; `input` is the op's name for its input. */
function pointwise(opType: string, input: 'X' | 'input', derivative: Local): GradientRule {
  return defineRule(opType, [input], (ctx) => {
    const {
      b,
      inputs: [x],
      outputs: [y],
    } = ctx;
    return { [input]: b.mul(dy0(ctx), derivative(b, x!, y!, ctx)) };
  });
}

/** A rule whose adjoint is dy itself, or dy masked where the local derivative vanishes. */
function passThrough(opType: string, input: string, keep?: (b: GraphBuilder, x: string) => string): GradientRule {
  return defineRule(opType, [input], (ctx) => {
    const mask = keep?.(ctx.b, ctx.inputs[0]!);
    return { [input]: mask ? ctx.b.maskWhere(mask, dy0(ctx)) : dy0(ctx) };
  });
}

export const Identity = passThrough('Identity', 'input');
/** Inference-mode Dropout is the identity on its first output. */
export const Dropout = passThrough('Dropout', 'data');
export const Neg = defineRule('Neg', ['X'], (ctx) => ({ X: ctx.b.neg(dy0(ctx)) }));

export const Abs = pointwise('Abs', 'X', (b, x) => b.op('Sign', [x]));
export const Exp = pointwise('Exp', 'input', (_b, _x, y) => y);
export const Log = pointwise('Log', 'input', (b, x) => b.reciprocal(x));
/** d sqrt(x) = 1 / (2 sqrt(x)) */
export const Sqrt = pointwise('Sqrt', 'X', (b, _x, y) => b.div(b.scalar(0.5, y), y));
/** d 1/x = -1/x^2 = -y^2 */
export const Reciprocal = pointwise('Reciprocal', 'X', (b, _x, y) => b.neg(b.mul(y, y)));
/** d erf(x) = 2/sqrt(pi) exp(-x^2) */
export const Erf = pointwise('Erf', 'input', (b, x) => b.mul(b.scalar(2 / Math.sqrt(Math.PI), x), b.exp(b.neg(b.mul(x, x)))));
/** d tanh(x) = 1 - tanh(x)^2 */
export const Tanh = pointwise('Tanh', 'input', (b, _x, y) => b.sub(b.scalar(1, y), b.mul(y, y)));
/** d sigmoid(x) = s (1 - s) */
export const Sigmoid = pointwise('Sigmoid', 'X', (b, _x, y) => b.mul(y, b.sub(b.scalar(1, y), y)));
/** d softplus(x) = sigmoid(x) */
export const Softplus = pointwise('Softplus', 'X', (b, x) => b.op('Sigmoid', [x]));
export const Sin = pointwise('Sin', 'input', (b, x) => b.op('Cos', [x]));
export const Cos = pointwise('Cos', 'input', (b, x) => b.neg(b.op('Sin', [x])));

export const Relu = passThrough('Relu', 'X', (b, x) => b.op('Greater', [x, b.scalar(0, x)], undefined, DataType.BOOL));

/** LeakyRelu: slope 1 for x > 0, alpha (as float32, which the runtime uses) elsewhere. */
export const LeakyRelu = defineRule('LeakyRelu', ['X'], (ctx) => {
  const {
    b,
    input: { X: x },
    node,
  } = ctx;
  const g = dy0(ctx);
  const positive = b.op('Greater', [x!, b.scalar(0, x!)], undefined, DataType.BOOL);
  return { X: b.op('Where', [positive, g, b.mul(g, b.scalar(Math.fround(attrFloat(node, 'alpha', 0.01)), x!))]) };
});

/**
 * Clip passes the gradient to x where min <= x <= max (as PyTorch's clamp does), and to a bound
 * where x lies beyond it.
 */
export const Clip = defineRule('Clip', ['input', 'min', 'max'], (ctx) => {
  const {
    b,
    input: { input: x, min, max },
  } = ctx;
  const g = dy0(ctx);
  const below = min ? b.op('Less', [x!, min], undefined, DataType.BOOL) : null;
  const above = max ? b.op('Greater', [x!, max], undefined, DataType.BOOL) : null;
  const outside = below && above ? b.op('Or', [below, above], undefined, DataType.BOOL) : (below ?? above);
  const dx = outside ? b.maskWhere(b.op('Not', [outside], undefined, DataType.BOOL), g) : g;
  return {
    input: dx,
    min: ctx.needs('min') ? b.unbroadcast(b.maskWhere(below!, g), min!) : null,
    max: ctx.needs('max') ? b.unbroadcast(b.maskWhere(above!, g), max!) : null,
  };
});

/** Gelu (opset 20): exact form Phi(x) + x phi(x); tanh form differentiated as written. */
export const Gelu = pointwise('Gelu', 'X', (b, x, _y, ctx) => {
  const approximate = ctx.node.attribute.some((a) => a.name === 'approximate' && new TextDecoder().decode(a.s) === 'tanh');
  if (approximate) {
    // y = 0.5 x (1 + tanh(u)), u = c (x + 0.044715 x^3), c = sqrt(2/pi)
    const c = Math.sqrt(2 / Math.PI);
    const x2 = b.mul(x, x);
    const t = b.op('Tanh', [b.mul(b.scalar(c, x), b.add(x, b.mul(b.scalar(0.044715, x), b.mul(x2, x))))]);
    const du = b.mul(b.scalar(c, x), b.add(b.scalar(1, x), b.mul(b.scalar(3 * 0.044715, x), x2)));
    const sech2 = b.sub(b.scalar(1, x), b.mul(t, t));
    return b.add(b.mul(b.scalar(0.5, x), b.add(b.scalar(1, x), t)), b.mul(b.mul(b.scalar(0.5, x), x), b.mul(sech2, du)));
  }
  const cdf = b.mul(b.scalar(0.5, x), b.add(b.scalar(1, x), b.op('Erf', [b.mul(x, b.scalar(Math.SQRT1_2, x))])));
  const pdf = b.mul(b.scalar(1 / Math.sqrt(2 * Math.PI), x), b.exp(b.mul(b.scalar(-0.5, x), b.mul(x, x))));
  return b.add(cdf, b.mul(x, pdf));
});

/** Cast between float types: the adjoint is cast back to the input's type. */
export const Cast = defineRule('Cast', ['input'], (ctx) => {
  const {
    b,
    input: { input: x },
  } = ctx;
  const t = b.dtype(x!);
  return { input: b.op('Cast', [dy0(ctx)], { to: t }, t) };
});
