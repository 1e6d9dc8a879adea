/** Ops that only move or repeat elements: the adjoint is moved or summed back. */
import { attrInts } from '../../proto.ts';
import { defineRule, dy0, GradientError, type GradientRule } from '../rule.ts';

/** Reshape-like ops: the adjoint takes the input's shape back. */
function reshapeBack(opType: string, names: readonly [string, ...string[]]): GradientRule {
  return defineRule(opType, names, (ctx) => ({ [names[0]]: ctx.b.reshapeLike(dy0(ctx), ctx.inputs[0]!) }));
}

export const Reshape = reshapeBack('Reshape', ['data', 'shape']);
export const Flatten = reshapeBack('Flatten', ['input']);
export const Squeeze = reshapeBack('Squeeze', ['data', 'axes']);
export const Unsqueeze = reshapeBack('Unsqueeze', ['data', 'axes']);

/** The inverse permutation (no perm: axes reversed, which is its own inverse). */
export const Transpose = defineRule('Transpose', ['data'], (ctx) => {
  const perm = attrInts(ctx.node, 'perm');
  if (!perm) return { data: ctx.b.op('Transpose', [dy0(ctx)]) };
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, k) => (inverse[p] = k));
  return { data: ctx.b.op('Transpose', [dy0(ctx)], { perm: inverse }) };
});

export const Expand = defineRule('Expand', ['input', 'shape'], (ctx) => ({ input: ctx.b.unbroadcast(dy0(ctx), ctx.input.input!) }));

/**
 * Tile repeats x r_k times along axis k. Viewing dy as [r_0, d_0, r_1, d_1, ...] puts each copy
 * on its own axis, and summing those axes gives dx.
 */
export const Tile = defineRule('Tile', ['input', 'repeats'], (ctx) => {
  const {
    b,
    input: { input: x, repeats },
  } = ctx;
  const rank = b.rank(x!) ?? b.type(repeats!).dims?.[0];
  if (typeof rank !== 'number') throw new GradientError(`Tile '${ctx.node.name}': rank of the input is unknown`);
  const pairs = b.op('Concat', [b.op('Unsqueeze', [repeats!, b.ints([1])]), b.op('Unsqueeze', [b.shape(x!), b.ints([1])])], { axis: 1 });
  const split = b.reshape(dy0(ctx), b.reshape(pairs, b.ints([-1])));
  const copyAxes = Array.from({ length: rank }, (_, k) => 2 * k);
  return { input: b.reduceSum(split, copyAxes, false) };
});
