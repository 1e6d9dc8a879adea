/** Broadcasting binary arithmetic: each adjoint is summed back to its operand's shape. */
import { DataType } from '../../proto.ts';
import { dy0, operandAdjoint, type GradientRule } from '../rule.ts';

export const Add: GradientRule = {
  opType: 'Add',
  vjp: (ctx) => {
    const g = dy0(ctx);
    return [ctx.needs(0) ? operandAdjoint(ctx, 0, g) : null, ctx.needs(1) ? operandAdjoint(ctx, 1, g) : null];
  },
};

export const Sub: GradientRule = {
  opType: 'Sub',
  vjp: (ctx) => {
    const { b } = ctx;
    const g = dy0(ctx);
    return [ctx.needs(0) ? operandAdjoint(ctx, 0, g) : null, ctx.needs(1) ? operandAdjoint(ctx, 1, b.neg(g)) : null];
  },
};

/** d(xy) = y dx + x dy */
export const Mul: GradientRule = {
  opType: 'Mul',
  vjp: (ctx) => {
    const { b, inputs: [x, y] } = ctx;
    const g = dy0(ctx);
    return [ctx.needs(0) ? operandAdjoint(ctx, 0, b.mul(g, y!)) : null, ctx.needs(1) ? operandAdjoint(ctx, 1, b.mul(g, x!)) : null];
  },
};

/** d(x/y) = dx / y - (x/y) dy / y */
export const Div: GradientRule = {
  opType: 'Div',
  vjp: (ctx) => {
    const { b, inputs: [, y], outputs: [z] } = ctx;
    const g = dy0(ctx);
    const gOverY = b.div(g, y!);
    return [ctx.needs(0) ? operandAdjoint(ctx, 0, gOverY) : null, ctx.needs(1) ? operandAdjoint(ctx, 1, b.neg(b.mul(gOverY, z!))) : null];
  },
};

/** d(x^p) = p x^(p-1) dx + x^p ln(x) dp */
export const Pow: GradientRule = {
  opType: 'Pow',
  vjp: (ctx) => {
    const { b, inputs: [x, p], outputs: [z] } = ctx;
    const g = dy0(ctx);
    let dx: string | null = null;
    if (ctx.needs(0)) {
      // Exponent in x's type (Pow allows an integer exponent); p x^(p-1) written as p z / x would fail at x = 0.
      const pf = b.dtype(p!) === b.dtype(x!) ? p! : b.op('Cast', [p!], { to: b.dtype(x!) }, b.dtype(x!));
      const constant = b.constantValues(p!);
      const local = constant?.length === 1 && constant[0] === 2 ? b.mul(b.scalar(2, x!), x!) : b.mul(pf, b.op('Pow', [x!, b.sub(pf, b.scalar(1, x!))]));
      dx = operandAdjoint(ctx, 0, b.mul(g, local));
    }
    const dp = ctx.needs(1) ? operandAdjoint(ctx, 1, b.mul(g, b.mul(z!, b.log(x!)))) : null;
    return [dx, dp];
  },
};

/** Sum of n inputs: each gets the adjoint, unbroadcast. */
export const Sum: GradientRule = {
  opType: 'Sum',
  vjp: (ctx) => {
    const g = dy0(ctx);
    return ctx.inputs.map((x, i) => (ctx.needs(i) ? operandAdjoint(ctx, i, g) : null));
  },
};

/** Elementwise Max/Min: the adjoint goes to the operand that was selected (ties: the first). */
function selectRule(opType: 'Max' | 'Min'): GradientRule {
  return {
    opType,
    vjp: (ctx) => {
      const { b, outputs: [z] } = ctx;
      const g = dy0(ctx);
      let taken: string | null = null;
      return ctx.inputs.map((x, i) => {
        const isSelected = b.op('Equal', [x, z!], undefined, DataType.BOOL);
        const first = taken ? b.op('And', [isSelected, b.op('Not', [taken])]) : isSelected;
        taken = taken ? b.op('Or', [taken, isSelected]) : isSelected;
        return ctx.needs(i) ? operandAdjoint(ctx, i, b.maskWhere(first, g)) : null;
      });
    },
  };
}

export const Max = selectRule('Max');
export const Min = selectRule('Min');
