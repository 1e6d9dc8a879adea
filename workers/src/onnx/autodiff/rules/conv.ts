/**
 * Conv (any number of spatial axes; strides, pads, dilations, groups).
 * dX is a transposed convolution of dY with the same weights; dW is a convolution of X with dY
 * in which the forward stride becomes the dilation and the forward dilation the stride.
 */
import { attrInt, attrInts, attrString } from '../../proto.ts';
import { GradientError, type GradBuilder } from '../builder.ts';
import { dy0, type GradientRule } from '../rule.ts';

interface ConvGeometry {
  spatial: number;
  strides: number[];
  pads: number[];
  dilations: number[];
  group: number;
}

function geometry(b: GradBuilder, ctx: Parameters<GradientRule['vjp']>[0]): ConvGeometry {
  const { node, inputs: [x, w] } = ctx;
  const kernel = attrInts(node, 'kernel_shape');
  const spatial = kernel?.length ?? (b.rank(w!) ?? b.requireRank(x!, `Conv '${node.name}'`)) - 2;
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw new GradientError(`Conv '${node.name}': auto_pad ${autoPad} has no gradient rule; export with explicit pads`);
  const ones = new Array<number>(spatial).fill(1);
  return {
    spatial,
    strides: attrInts(node, 'strides') ?? ones,
    pads: autoPad === 'VALID' ? new Array<number>(2 * spatial).fill(0) : attrInts(node, 'pads') ?? new Array<number>(2 * spatial).fill(0),
    dilations: attrInts(node, 'dilations') ?? ones,
    group: attrInt(node, 'group', 1),
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** Crops the spatial axes of `t` to the spatial size of `like` (both start at 0). */
function cropSpatial(b: GradBuilder, t: string, like: string, spatial: number): string {
  const axes = range(2, 2 + spatial);
  const ends = b.op('Slice', [b.shape(like), b.ints([2]), b.ints([2 + spatial])]);
  return b.op('Slice', [t, b.ints(axes.map(() => 0)), ends, b.ints(axes)]);
}

export const Conv: GradientRule = {
  opType: 'Conv',
  vjp: (ctx) => {
    const { b, inputs: [x, w, bias] } = ctx;
    const g = dy0(ctx);
    const geo = geometry(b, ctx);
    const strided = geo.strides.some((s) => s > 1);
    let dx: string | null = null;
    if (ctx.needs(0)) {
      // With output_padding = stride - 1 the transposed conv covers every input position; crop the rest.
      const t = b.op('ConvTranspose', [g, w!], {
        strides: geo.strides,
        pads: geo.pads,
        dilations: geo.dilations,
        group: geo.group,
        output_padding: geo.strides.map((s) => s - 1),
      });
      dx = strided ? cropSpatial(b, t, x!, geo.spatial) : t;
    }
    let dw: string | null = null;
    if (ctx.needs(1)) {
      // Batch becomes the channel axis of the correlation; with groups, each group's channels
      // correlate only with its own outputs: X -> [C/G, G*N, ...], dY -> [O, N, ...], group G.
      const G = geo.group;
      const xShape = b.shape(x!);
      const spatialOf = (s: string) => b.op('Slice', [s, b.ints([2]), b.ints([2 + geo.spatial])]);
      const batch = b.op('Slice', [xShape, b.ints([0]), b.ints([1])]);
      const xg = b.reshape(x!, b.op('Concat', [batch, b.ints([G, -1]), spatialOf(xShape)], { axis: 0 }));
      const xt = b.op('Transpose', [xg], { perm: [2, 1, 0, ...range(3, 3 + geo.spatial)] });
      const xr = b.reshape(xt, b.op('Concat', [b.ints([0, -1]), spatialOf(xShape)], { axis: 0 }));
      const gt = b.op('Transpose', [g], { perm: [1, 0, ...range(2, 2 + geo.spatial)] });
      const corr = b.op('Conv', [xr, gt], { strides: geo.dilations, dilations: geo.strides, pads: geo.pads, group: G });
      const wt = b.op('Transpose', [corr], { perm: [1, 0, ...range(2, 2 + geo.spatial)] });
      dw = cropSpatial(b, wt, w!, geo.spatial);
    }
    const db = bias && ctx.needs(2) ? b.reduceSum(g, [0, ...range(2, 2 + geo.spatial)], false) : null;
    return [dx, dw, db];
  },
};
