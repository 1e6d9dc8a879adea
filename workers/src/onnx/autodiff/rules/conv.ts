/**
 * Conv (any number of spatial axes; strides, pads, dilations, groups).
 * dX is a transposed convolution of dY with the same weights; dW is a convolution of X with dY
 * in which the forward stride becomes the dilation and the forward dilation the stride.
 */
import { attrInt, attrInts, attrString } from '../../proto.ts';
import type { GraphBuilder } from '../../graph-builder.ts';
import { defineRule, dy0, GradientError, type VjpContext } from '../rule.ts';

interface ConvGeometry {
  spatial: number;
  strides: number[];
  pads: number[];
  dilations: number[];
  group: number;
}

function geometry(b: GraphBuilder, ctx: VjpContext<'X' | 'W' | 'B'>): ConvGeometry {
  const {
    node,
    input: { X: x, W: w },
  } = ctx;
  const kernel = attrInts(node, 'kernel_shape');
  const spatial = kernel?.length ?? (b.rank(w!) ?? b.requireRank(x!, `Conv '${node.name}'`)) - 2;
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID')
    throw new GradientError(`Conv '${node.name}': auto_pad ${autoPad} has no gradient rule; export with explicit pads`);
  const ones = new Array<number>(spatial).fill(1);
  return {
    spatial,
    strides: attrInts(node, 'strides') ?? ones,
    pads: autoPad === 'VALID' ? new Array<number>(2 * spatial).fill(0) : (attrInts(node, 'pads') ?? new Array<number>(2 * spatial).fill(0)),
    dilations: attrInts(node, 'dilations') ?? ones,
    group: attrInt(node, 'group', 1),
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** Crops the spatial axes of `t` to the spatial size of `like` (both start at 0). */
function cropSpatial(b: GraphBuilder, t: string, like: string, spatial: number): string {
  const axes = range(2, 2 + spatial);
  const ends = b.op('Slice', [b.shape(like), b.ints([2]), b.ints([2 + spatial])]);
  return b.op('Slice', [t, b.ints(axes.map(() => 0)), ends, b.ints(axes)]);
}

/** dX as ConvTranspose; output_padding = stride - 1 makes it cover every input position, the rest is cropped. */
function transposedConv(b: GraphBuilder, g: string, w: string, x: string, geo: ConvGeometry): string {
  const t = b.op('ConvTranspose', [g, w], {
    strides: geo.strides,
    pads: geo.pads,
    dilations: geo.dilations,
    group: geo.group,
    output_padding: geo.strides.map((s) => s - 1),
  });
  return geo.strides.some((s) => s > 1) ? cropSpatial(b, t, x, geo.spatial) : t;
}

function kernelSize(b: GraphBuilder, w: string, k: number): number | undefined {
  const d = b.type(w).dims?.[2 + k];
  return typeof d === 'number' ? d : undefined;
}

/** The stride-1 rewrite needs the kernel size statically and pads within the kernel's reach. */
function fitsAsConv(geo: ConvGeometry, b: GraphBuilder, w: string): boolean {
  return Array.from({ length: geo.spatial }, (_, k) => kernelSize(b, w, k)).every(
    (size, k) => size !== undefined && geo.pads[k]! <= geo.dilations[k]! * (size - 1) && geo.pads[k + geo.spatial]! <= geo.dilations[k]! * (size - 1),
  );
}

/**
 * For stride 1, dX is a plain convolution of dY with the kernel flipped in space and its in/out
 * channels swapped (per group), padded by reach - pad. Runtimes run Conv much faster than
 * ConvTranspose, and for constant weights the kernel rewrite is folded once at load time.
 */
function convWithFlippedKernel(b: GraphBuilder, g: string, w: string, geo: ConvGeometry): string {
  const G = geo.group;
  const spatialAxes = range(2, 2 + geo.spatial);
  const wShape = b.shape(w);
  const kernelDims = b.op('Slice', [wShape, b.ints([2]), b.ints([2 + geo.spatial])]);
  // [O, C/G, k...] -> [G, O/G, C/G, k...] -> [G, C/G, O/G, k...] -> [C, O/G, k...]
  const grouped = b.reshape(w, b.op('Concat', [b.ints([G, -1]), b.op('Slice', [wShape, b.ints([1]), b.ints([2])]), kernelDims], { axis: 0 }));
  const swapped = b.op('Transpose', [grouped], { perm: [0, 2, 1, ...range(3, 3 + geo.spatial)] });
  const outPerGroup = b.op('Div', [b.op('Slice', [wShape, b.ints([0]), b.ints([1])]), b.ints([G])]);
  const perGroupOut = b.reshape(swapped, b.op('Concat', [b.ints([-1]), outPerGroup, kernelDims], { axis: 0 }));
  const flipped = b.op('Slice', [
    perGroupOut,
    b.ints(spatialAxes.map(() => -1)),
    b.ints(spatialAxes.map(() => Number.MIN_SAFE_INTEGER)),
    b.ints(spatialAxes),
    b.ints(spatialAxes.map(() => -1)),
  ]);
  const reach = (k: number) => geo.dilations[k]! * (kernelSize(b, w, k)! - 1);
  const pads = [...range(0, geo.spatial).map((k) => reach(k) - geo.pads[k]!), ...range(0, geo.spatial).map((k) => reach(k) - geo.pads[k + geo.spatial]!)];
  return b.op('Conv', [g, flipped], { dilations: geo.dilations, pads, group: G });
}

export const Conv = defineRule('Conv', ['X', 'W', 'B'], (ctx) => {
  const {
    b,
    input: { X: x, W: w, B: bias },
  } = ctx;
  const g = dy0(ctx);
  const geo = geometry(b, ctx);
  const strided = geo.strides.some((s) => s > 1);
  let dx: string | null = null;
  if (ctx.needs('X')) dx = strided || !fitsAsConv(geo, b, w!) ? transposedConv(b, g, w!, x!, geo) : convWithFlippedKernel(b, g, w!, geo);
  let dw: string | null = null;
  if (ctx.needs('W')) {
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
  const db = bias && ctx.needs('B') ? b.reduceSum(g, [0, ...range(2, 2 + geo.spatial)], false) : null;
  return { X: dx, W: dw, B: db };
});
