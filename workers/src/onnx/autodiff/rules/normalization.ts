/**
 * Instance, layer and group normalization. Each views x as [..., L] rows normalized over the last
 * axis, recomputes x̂ = (x - mean) / sqrt(var + eps) there, and applies the standard adjoint
 *   dx = (dx̂ - mean(dx̂) - x̂ mean(dx̂ x̂)) / sqrt(var + eps),   dx̂ = dy * scale.
 */
import { attrFloat, attrInt } from '../../proto.ts';
import type { GraphBuilder } from '../../graph-builder.ts';
import { defineRule, dy0 } from '../rule.ts';

interface Normalized {
  xhat: string;
  rstd: string;
}

/** Statistics over the last axis of `rows`. */
function normalizeRows(b: GraphBuilder, rows: string, epsilon: number): Normalized {
  const centered = b.sub(rows, b.reduceMean(rows, [-1], true));
  const variance = b.reduceMean(b.mul(centered, centered), [-1], true);
  const rstd = b.reciprocal(b.sqrt(b.add(variance, b.scalar(epsilon, rows))));
  return { xhat: b.mul(centered, rstd), rstd };
}

/** The adjoint of rows given the adjoint of their normalized values. */
function normalizeRowsAdjoint(b: GraphBuilder, { xhat, rstd }: Normalized, dxhat: string): string {
  const meanD = b.reduceMean(dxhat, [-1], true);
  const meanDX = b.reduceMean(b.mul(dxhat, xhat), [-1], true);
  return b.mul(rstd, b.sub(b.sub(dxhat, meanD), b.mul(xhat, meanDX)));
}

/** y = scale[c] x̂ + B[c], statistics per (n, c) over the spatial axes. */
export const InstanceNormalization = defineRule('InstanceNormalization', ['input', 'scale', 'B'], (ctx) => {
  const {
    b,
    node,
    input: { input: x, scale },
  } = ctx;
  const g = dy0(ctx);
  const rowsShape = b.ints([0, 0, -1]);
  const norm = normalizeRows(b, b.reshape(x!, rowsShape), attrFloat(node, 'epsilon', 1e-5));
  const g3 = b.reshape(g, rowsShape);
  const perChannel = (v: string) => b.op('Unsqueeze', [v, b.ints([1])]);
  const dx = ctx.needs('input') ? b.reshapeLike(normalizeRowsAdjoint(b, norm, b.mul(g3, perChannel(scale!))), x!) : null;
  const dscale = ctx.needs('scale') ? b.reduceSum(b.mul(g3, norm.xhat), [0, 2], false) : null;
  const dbias = ctx.needs('B') ? b.reduceSum(g3, [0, 2], false) : null;
  return { input: dx, scale: dscale, B: dbias };
});

/** Normalizes over axes [axis, rank); scale and bias broadcast over those axes. */
export const LayerNormalization = defineRule('LayerNormalization', ['X', 'Scale', 'B'], (ctx) => {
  const {
    b,
    node,
    input: { X: x, Scale: scale, B: bias },
  } = ctx;
  const axis = attrInt(node, 'axis', -1);
  // Flatten gives the rows [prod(shape[:axis]), prod(shape[axis:])] for any axis, 0 included.
  const rows = (v: string) => b.op('Flatten', [v], { axis });
  const norm = normalizeRows(b, rows(x!), attrFloat(node, 'epsilon', 1e-5));
  const g2 = rows(dy0(ctx));
  const normShape = b.op('Slice', [b.shape(x!), b.ints([axis]), b.ints([Number.MAX_SAFE_INTEGER])]);
  const scaleRow = b.reshape(b.op('Expand', [scale!, normShape]), b.ints([-1]));
  const dx = ctx.needs('X') ? b.reshapeLike(normalizeRowsAdjoint(b, norm, b.mul(g2, scaleRow)), x!) : null;
  // Per-feature sums over all rows, then back to the parameter's own (possibly broadcast) shape.
  const normType = { elemType: b.dtype(x!), dims: b.type(x!).dims?.slice(axis) };
  const perFeature = (v: string, param: string) => b.unbroadcast(b.emit('Reshape', [b.reduceSum(v, [0], false), normShape], 1, undefined, normType)[0]!, param);
  const dscale = ctx.needs('Scale') ? perFeature(b.mul(g2, norm.xhat), scale!) : null;
  const dbias = bias && ctx.needs('B') ? perFeature(g2, bias) : null;
  return { X: dx, Scale: dscale, B: dbias };
});

/**
 * Statistics per (n, group). scale and bias are per group at opset 18 and per channel from
 * opset 21, as the op's definition changed.
 */
export const GroupNormalization = defineRule('GroupNormalization', ['X', 'scale', 'bias'], (ctx) => {
  const {
    b,
    node,
    input: { X: x, scale },
    opset,
  } = ctx;
  const g = dy0(ctx);
  const groups = attrInt(node, 'num_groups', 1);
  const groupRows = b.ints([0, groups, -1]);
  const norm = normalizeRows(b, b.reshape(x!, groupRows), attrFloat(node, 'epsilon', 1e-5));
  let dx: string | null = null;
  let dscale: string | null = null;
  let dbias: string | null = null;
  if (opset >= 21) {
    const gc = b.reshape(g, b.ints([0, 0, -1]));
    const xhatC = b.reshapeLike(norm.xhat, gc);
    if (ctx.needs('X')) dx = b.reshapeLike(normalizeRowsAdjoint(b, norm, b.reshape(b.mul(gc, b.op('Unsqueeze', [scale!, b.ints([1])])), groupRows)), x!);
    if (ctx.needs('scale')) dscale = b.reduceSum(b.mul(gc, xhatC), [0, 2], false);
    if (ctx.needs('bias')) dbias = b.reduceSum(gc, [0, 2], false);
  } else {
    const g3 = b.reshape(g, groupRows);
    if (ctx.needs('X')) dx = b.reshapeLike(normalizeRowsAdjoint(b, norm, b.mul(g3, b.op('Unsqueeze', [scale!, b.ints([1])]))), x!);
    if (ctx.needs('scale')) dscale = b.reduceSum(b.mul(g3, norm.xhat), [0, 2], false);
    if (ctx.needs('bias')) dbias = b.reduceSum(g3, [0, 2], false);
  }
  return { X: dx, scale: dscale, bias: dbias };
});
