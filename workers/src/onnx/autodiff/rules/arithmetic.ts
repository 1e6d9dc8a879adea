/** Broadcasting binary arithmetic: each adjoint is summed back to its operand's shape. */
import { DataType } from '../../proto.ts';
import { defineRule, defineVariadicRule, dy0, operandAdjoint, type GradientRule } from '../rule.ts';

export const Add = defineRule('Add', ['A', 'B'], (ctx) => {
  const {
    input: { A, B },
  } = ctx;
  const g = dy0(ctx);
  return { A: ctx.needs('A') ? operandAdjoint(ctx, A!, g) : null, B: ctx.needs('B') ? operandAdjoint(ctx, B!, g) : null };
});

export const Sub = defineRule('Sub', ['A', 'B'], (ctx) => {
  const {
    b,
    input: { A, B },
  } = ctx;
  const g = dy0(ctx);
  return { A: ctx.needs('A') ? operandAdjoint(ctx, A!, g) : null, B: ctx.needs('B') ? operandAdjoint(ctx, B!, b.neg(g)) : null };
});

/** d(xy) = y dx + x dy */
export const Mul = defineRule('Mul', ['A', 'B'], (ctx) => {
  const {
    b,
    input: { A, B },
  } = ctx;
  const g = dy0(ctx);
  return { A: ctx.needs('A') ? operandAdjoint(ctx, A!, b.mul(g, B!)) : null, B: ctx.needs('B') ? operandAdjoint(ctx, B!, b.mul(g, A!)) : null };
});

/** d(x/y) = dx / y - (x/y) dy / y */
export const Div = defineRule('Div', ['A', 'B'], (ctx) => {
  const {
    b,
    input: { A, B },
    outputs: [z],
  } = ctx;
  const g = dy0(ctx);
  const gOverY = b.div(g, B!);
  return { A: ctx.needs('A') ? operandAdjoint(ctx, A!, gOverY) : null, B: ctx.needs('B') ? operandAdjoint(ctx, B!, b.neg(b.mul(gOverY, z!))) : null };
});

/** d(x^p) = p x^(p-1) dx + x^p ln(x) dp */
export const Pow = defineRule('Pow', ['X', 'Y'], (ctx) => {
  const {
    b,
    input: { X: x, Y: p },
    outputs: [z],
  } = ctx;
  const g = dy0(ctx);
  let dx: string | null = null;
  if (ctx.needs('X')) {
    // Exponent in x's type (Pow allows an integer exponent); p x^(p-1) written as p z / x would fail at x = 0.
    const pf = b.dtype(p!) === b.dtype(x!) ? p! : b.op('Cast', [p!], { to: b.dtype(x!) }, b.dtype(x!));
    const constant = b.constantValues(p!);
    const local = constant?.length === 1 && constant[0] === 2 ? b.mul(b.scalar(2, x!), x!) : b.mul(pf, b.op('Pow', [x!, b.sub(pf, b.scalar(1, x!))]));
    dx = operandAdjoint(ctx, x!, b.mul(g, local));
  }
  const dp = ctx.needs('Y') ? operandAdjoint(ctx, p!, b.mul(g, b.mul(z!, b.log(x!)))) : null;
  return { X: dx, Y: dp };
});

/** Sum of n inputs: each gets the adjoint, unbroadcast. */
export const Sum = defineVariadicRule('Sum', 'data_0', (ctx) => {
  const g = dy0(ctx);
  return ctx.inputs.map((x, i) => (ctx.needs(i) ? operandAdjoint(ctx, x, g) : null));
});

/** Elementwise Max/Min: the adjoint goes to the operand that was selected (ties: the first). */
function selectRule(opType: 'Max' | 'Min'): GradientRule {
  return defineVariadicRule(opType, 'data_0', (ctx) => {
    const {
      b,
      outputs: [z],
    } = ctx;
    const g = dy0(ctx);
    let taken: string | null = null;
    return ctx.inputs.map((x, i) => {
      const isSelected = b.op('Equal', [x, z!], undefined, DataType.BOOL);
      const first = taken ? b.op('And', [isSelected, b.op('Not', [taken])]) : isSelected;
      taken = taken ? b.op('Or', [taken, isSelected]) : isSelected;
      return ctx.needs(i) ? operandAdjoint(ctx, x, b.maskWhere(first, g)) : null;
    });
  });
}

export const Max = selectRule('Max');
export const Min = selectRule('Min');
