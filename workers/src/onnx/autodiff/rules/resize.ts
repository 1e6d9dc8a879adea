/**
 * Resize (any mode except tf_crop_and_resize) is linear and separable: along each resized axis it
 * is a matrix M [out, in]. M is obtained by resizing unit impulses with the node's own attributes,
 * so nearest, linear and cubic modes, every coordinate transformation and rounding rule are all
 * handled by the runtime's own Resize, and dx = M^T dy along each axis.
 */
import { DataType, attrInts, attrString } from '../../proto.ts';
import type { GraphBuilder } from '../../graph-builder.ts';
import { defineRule, dy0, GradientError } from '../rule.ts';

export const Resize = defineRule('Resize', ['X', 'roi', 'scales', 'sizes'], (ctx) => {
  const {
    b,
    node,
    input: { X: x, scales, sizes },
    outputs: [y],
  } = ctx;
  if (attrString(node, 'coordinate_transformation_mode', 'half_pixel') === 'tf_crop_and_resize') {
    throw new GradientError(`Resize '${node.name}': coordinate_transformation_mode tf_crop_and_resize has no gradient rule`);
  }
  const useSizes = Boolean(sizes);
  const given = useSizes ? sizes! : scales;
  if (!given) throw new GradientError(`Resize '${node.name}' has neither scales nor sizes`);
  // A kept aspect ratio ties the axes together (one scale from all sizes), so one axis at a time
  // would resize differently.
  const policy = attrString(node, 'keep_aspect_ratio_policy', 'stretch');
  if (useSizes && policy !== 'stretch')
    throw new GradientError(`Resize '${node.name}': keep_aspect_ratio_policy ${policy} has no gradient rule; give the output sizes with 'stretch'`);
  const rank = b.rank(x!) ?? b.type(given).dims?.[0];
  if (typeof rank !== 'number') throw new GradientError(`Resize '${node.name}': rank of the input is unknown`);
  const axesAttr = attrInts(node, 'axes');
  const listed = (axesAttr ?? [...Array(rank).keys()]).map((a) => (a < 0 ? a + rank : a));
  // Axes whose scale is a known 1 are left alone (Resize is the identity there).
  const knownScales = !useSizes ? b.constantValues(given) : undefined;
  const resized = listed.filter((_, k) => knownScales?.[k] !== 1);
  const t = b.dtype(x!);
  let g = dy0(ctx);
  for (const axis of resized) {
    const impulseAxis = axis === 0 ? 1 : 0;
    const n = b.dim(x!, axis);
    const eye = b.op('EyeLike', [b.zerosOfShape(b.op('Concat', [n, n], { axis: 0 }), t)], undefined, t);
    const impulseShape = b.op(
      'Concat',
      [...Array(rank).keys()].map((k) => (k === axis || k === impulseAxis ? n : b.ints([1]))),
      { axis: 0 },
    );
    const impulses = b.reshape(eye, impulseShape);
    // The same resize restricted to `axis`: scale (or size) 1 elsewhere, the impulse axis kept.
    const perAxis = listed.map((a, k) => {
      if (a !== axis) return useSizes ? (a === impulseAxis ? n : b.ints([1])) : b.ints([1]);
      return b.op('Slice', [given, b.ints([k]), b.ints([k + 1])]);
    });
    const full = [...Array(rank).keys()].map((a) => {
      const k = listed.indexOf(a);
      if (k >= 0) return perAxis[k]!;
      return useSizes ? (a === impulseAxis ? n : b.ints([1])) : b.ints([1]);
    });
    const oneScale = (s: string) => (useSizes ? s : b.op('Cast', [s], { to: DataType.FLOAT }, DataType.FLOAT));
    const spec = b.op('Concat', full.map(oneScale), { axis: 0 });
    const attributes = node.attribute.filter((a) => a.name !== 'axes');
    const response = b.emit('Resize', useSizes ? [impulses, '', '', spec] : [impulses, '', spec], 1, attributes, { elemType: t })[0]!;
    // response holds M along `axis` and the impulse index along impulseAxis.
    const outN = b.dim(y!, axis);
    const m =
      impulseAxis < axis
        ? transpose2d(b, b.reshape(response, b.op('Concat', [n, outN], { axis: 0 })))
        : b.reshape(response, b.op('Concat', [outN, n], { axis: 0 }));
    g = applyAlongAxis(b, g, m, axis, rank);
  }
  return { X: g };
});

/** Contracts `g`'s axis `axis` (length out) with M [out, in]: the result has length in there. */
function applyAlongAxis(b: GraphBuilder, g: string, m: string, axis: number, rank: number): string {
  if (axis === rank - 1) return b.op('MatMul', [g, m]);
  if (axis === rank - 2) return b.op('MatMul', [transpose2d(b, m), g]);
  const perm = [...[...Array(rank).keys()].filter((k) => k !== axis), axis];
  const inverse = new Array<number>(rank);
  perm.forEach((p, k) => (inverse[p] = k));
  return b.op('Transpose', [b.op('MatMul', [b.op('Transpose', [g], { perm }), m])], { perm: inverse });
}

function transpose2d(b: GraphBuilder, m: string): string {
  return b.op('Transpose', [m], { perm: [1, 0] });
}
