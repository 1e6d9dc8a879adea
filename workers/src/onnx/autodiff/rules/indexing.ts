/** Selection ops: Slice, Gather (w.r.t. data) and Where (w.r.t. its two branches). */
import { DataType, attrInt } from '../../proto.ts';
import { defineRule, dy0, operandAdjoint } from '../rule.ts';
import type { GraphBuilder } from '../../graph-builder.ts';
import { sliceIndices } from '../../type-inference.ts';

/**
 * Slice's adjoint scatters dy back to where its elements came from. The positions are found by
 * slicing a tensor of flat indices with the very same inputs, so steps, negative indices and
 * clamping behave exactly as in the forward op.
 */
export const Slice = defineRule('Slice', ['data', 'starts', 'ends', 'axes', 'steps'], (ctx) => {
  const {
    b,
    inputs: [x, ...bounds],
  } = ctx;
  const pads = staticPads(b, x!, bounds);
  // A contiguous slice of known position: padding dy back with zeros is one cheap op.
  if (pads) return { data: b.op('Pad', [dy0(ctx), b.ints(pads), b.scalar(0, x!)], { mode: 'constant' }) };
  const count = b.op('Size', [x!], undefined, DataType.INT64);
  const flatIndex = b.reshape(b.op('Range', [b.int(0), count, b.int(1)], undefined, DataType.INT64), b.shape(x!));
  const picked = b.reshape(b.op('Slice', [flatIndex, ...bounds], undefined, DataType.INT64), b.ints([-1]));
  const zeros = b.zerosOfShape(b.op('Unsqueeze', [count, b.ints([0])], undefined, DataType.INT64), b.dtype(x!));
  const scattered = b.op('ScatterElements', [zeros, picked, b.reshape(dy0(ctx), b.ints([-1]))], { axis: 0 });
  return { data: b.reshapeLike(scattered, x!) };
});

/** Pads [begins..., ends...] that undo a step-1 Slice whose bounds and input dims are known. */
function staticPads(b: GraphBuilder, x: string, [starts, ends, axes, steps]: string[]): number[] | null {
  const dims = b.type(x).dims;
  const s = starts ? b.constantValues(starts) : undefined;
  const e = ends ? b.constantValues(ends) : undefined;
  const a = axes ? b.constantValues(axes) : undefined;
  const st = steps ? b.constantValues(steps) : undefined;
  if (!dims || !s || !e || (axes && !a) || (steps && !st) || st?.some((v) => v !== 1)) return null;
  const pads = new Array<number>(2 * dims.length).fill(0);
  for (let k = 0; k < s.length; k++) {
    const axis = (a?.[k] ?? k) < 0 ? a![k]! + dims.length : (a?.[k] ?? k);
    const size = dims[axis];
    if (typeof size !== 'number') return null;
    const picked = sliceIndices(size, s[k]!, e[k]!, 1);
    pads[axis] = picked.length ? picked[0]! : size;
    pads[axis + dims.length] = picked.length ? size - 1 - picked[picked.length - 1]! : 0;
  }
  return pads;
}

/**
 * Gather picks slices of `data` along an axis; its adjoint adds each dy slice into the slice it
 * came from (ScatterND with reduction add, opset 16, since an index may repeat).
 */
export const Gather = defineRule('Gather', ['data', 'indices'], (ctx) => {
  const {
    b,
    node,
    input: { data, indices },
  } = ctx;
  const g = dy0(ctx);
  b.requireOpset(16);
  let axis = attrInt(node, 'axis', 0);
  const rank = axis === 0 ? (b.rank(data!) ?? 1) : b.requireRank(data!, `Gather '${node.name}' along axis ${axis}`);
  if (axis < 0) axis += rank;
  // Negative indices count from the end; ScatterND wants them in range, and as int64 (Gather
  // also takes int32).
  const size = b.reshape(b.dim(data!, axis), b.ints([]));
  const i64 = b.op('Cast', [indices!], { to: DataType.INT64 }, DataType.INT64);
  const idx = b.op('Where', [b.op('Less', [i64, b.int(0)], undefined, DataType.BOOL), b.add(i64, size), i64], undefined, DataType.INT64);
  const ndIndices = b.op('Unsqueeze', [idx, b.ints([-1])]);
  if (axis === 0) return { data: b.op('ScatterND', [b.zerosLike(data!), ndIndices, g], { reduction: 'add' }) };
  // Move the gathered axis (and dy's index axes) to the front, scatter, and move back.
  const q = b.requireRank(indices!, `Gather '${node.name}' along axis ${axis}`);
  const dataPerm = [axis, ...[...Array(rank).keys()].filter((k) => k !== axis)];
  const gRank = rank - 1 + q;
  const gPerm = [
    ...Array.from({ length: q }, (_, k) => axis + k),
    ...Array.from({ length: axis }, (_, k) => k),
    ...Array.from({ length: gRank - axis - q }, (_, k) => axis + q + k),
  ];
  const inverse = new Array<number>(rank);
  dataPerm.forEach((p, k) => (inverse[p] = k));
  const zeros = b.op('Transpose', [b.zerosLike(data!)], { perm: dataPerm });
  const scattered = b.op('ScatterND', [zeros, ndIndices, b.op('Transpose', [g], { perm: gPerm })], { reduction: 'add' });
  return { data: b.op('Transpose', [scattered], { perm: inverse }) };
});

/** dy goes to the branch each element was taken from. */
export const Where = defineRule('Where', ['condition', 'X', 'Y'], (ctx) => {
  const {
    b,
    input: { condition, X, Y },
  } = ctx;
  const g = dy0(ctx);
  const zero = b.scalar(0, g);
  return {
    X: ctx.needs('X') ? operandAdjoint(ctx, X!, b.op('Where', [condition!, g, zero])) : null,
    Y: ctx.needs('Y') ? operandAdjoint(ctx, Y!, b.op('Where', [condition!, zero, g])) : null,
  };
});
