/** Reductions: the adjoint is spread back over the reduced axes. */
import { DataType, attrInt, attrInts } from '../../proto.ts';
import type { GraphBuilder } from '../../graph-builder.ts';
import { defineRule, dy0, type VjpContext } from '../rule.ts';

/** The reduced axes as an int64 tensor name, or null for "all axes" (or none, with noop_with_empty_axes). */
function reducedAxes(ctx: VjpContext): string | null {
  const fromAttr = attrInts(ctx.node, 'axes');
  if (fromAttr) return fromAttr.length ? ctx.b.ints(fromAttr) : null;
  const input = ctx.inputs[1];
  if (!input) return null;
  const known = ctx.b.constantValues(input);
  return known && known.length === 0 ? null : input;
}

function isIdentity(ctx: VjpContext, axes: string | null): boolean {
  return axes === null && attrInt(ctx.node, 'noop_with_empty_axes', 0) === 1;
}

/** dy broadcast back to x's shape: reduced axes restored (when keepdims=0), then expanded. */
function spread(b: GraphBuilder, ctx: VjpContext, value: string, axes: string | null): string {
  const x = ctx.inputs[0]!;
  const kept = attrInt(ctx.node, 'keepdims', 1) === 1 || axes === null ? value : b.op('Unsqueeze', [value, axes]);
  return b.op('Expand', [kept, b.shape(x)]);
}

export const ReduceSum = defineRule('ReduceSum', ['data', 'axes'], (ctx) => {
  const axes = reducedAxes(ctx);
  if (isIdentity(ctx, axes)) return { data: dy0(ctx) };
  return { data: spread(ctx.b, ctx, dy0(ctx), axes) };
});

/** Like ReduceSum, divided by the number of elements each output averaged. */
export const ReduceMean = defineRule('ReduceMean', ['data', 'axes'], (ctx) => {
  const {
    b,
    input: { data: x },
    outputs: [y],
  } = ctx;
  const axes = reducedAxes(ctx);
  if (isIdentity(ctx, axes)) return { data: dy0(ctx) };
  const t = b.dtype(x!);
  const count = b.div(
    b.op('Cast', [b.op('Size', [x!], undefined, DataType.INT64)], { to: t }, t),
    b.op('Cast', [b.op('Size', [y!], undefined, DataType.INT64)], { to: t }, t),
  );
  return { data: b.div(spread(b, ctx, dy0(ctx), axes), count) };
});

/** The adjoint goes to the maximal elements, shared equally among ties (as PyTorch's amax). */
export const ReduceMax = defineRule('ReduceMax', ['data', 'axes'], (ctx) => {
  const {
    b,
    input: { data: x },
    outputs: [y],
  } = ctx;
  const axes = reducedAxes(ctx);
  if (isIdentity(ctx, axes)) return { data: dy0(ctx) };
  const t = b.dtype(x!);
  const isMax = b.op('Equal', [x!, spread(b, ctx, y!, axes)], undefined, DataType.BOOL);
  const hits = b.op('Cast', [isMax], { to: t }, t);
  const ties = axes === null ? b.emit('ReduceSum', [hits], 1, { keepdims: 1 }, { elemType: t })[0]! : b.reduceSum(hits, axes, true);
  return { data: b.div(b.mul(hits, spread(b, ctx, dy0(ctx), axes)), ties) };
});
