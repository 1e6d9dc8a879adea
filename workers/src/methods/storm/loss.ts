/**
 * STORM's loss (docs/method.md §6.5; ST = the official pipeline.py) as an ONNX subgraph on the pooled
 * maps A [B, N, T] (the mean over every head of every layer at attention_res, ST:215-220):
 *   S = softmax(100 A) over the text columns kept (ST:499-503: [1:-1], or [1:eot] with normalize_eot);
 *   M_sub, M_obj = G(S[:, k]) for the subject's and the object's token (ST:540-554; G the smoothing);
 *   a, b = M / (sum M + 1e-8) (ST:562-565);
 *   costs around the OTHER object's map X and its own centroid (ST:318-342, 583-592): c_i = X_i f(x_i),
 *   the factor along the columns x (the vertical one too: the reference transposes it, ST:332-335),
 *   f = 1 / (w (e + 1e-8)) on the relation's side of the centroid (e > 0, e the distance), w (-e + 1e-8)
 *   elsewhere, or 1 without a direction; C[i, j] = c_i for every j (ST:340);
 *   targets: the other object's map for "side/next/near" (ST:603-605), else a disc (radius 4, exp(-d^2 /
 *   18), over its maximum, normalised) on the fixed 16 x 16 grid centred beside the other object's
 *   centroid, with the reference's "ij" meshgrid: the centre (cx, cy) is row cx, column cy (ST:374-417);
 *   unrolled Sinkhorn, K = exp(-C / (0.1 + 1e-8)), 100 iterations of u = a / (K v + 1e-8),
 *   v = t / (K^T u + 1e-8), P = diag(u) K diag(v) (ST:345-372), computed on the vector c since C is
 *   constant along j (sinkhornTransportCost); L = sum P C_sub + sum P' C_obj.
 * The gate the schedule reads: coordinate = [max(cx_obj - cx_sub, 0), max(cy_obj - cy_sub, 0)] / 10 on the
 * smoothed maps (ST:397-399). The relation (which the reference finds by substring in the prompt) and the
 * time weight are inputs, so one graph serves every prompt and step.
 */
import type { GraphBuilder } from '../../onnx/graph-builder.ts';
import { DataType } from '../../onnx/proto.ts';
import type { AttentionMap, LossGraph } from '../method.ts';
import { smoothedSize, smoothMaps } from '../smoothing.ts';

/** What the graph is built from (the guided U-Net's cache key). */
export interface StormStructure {
  attention_res: number;
  smooth_attentions: boolean;
  sigma: number;
  kernel_size: number;
}

/** The reference's factor on the maps before the softmax (ST:503). */
const SOFTMAX_SCALE = 100;
/** The side of the fixed grid of the circular targets (ST:401): the maps must have it. */
export const STORM_GRID = 16;
/** The circular targets' radius and sigma (ST:402-403). */
const TARGET_RADIUS = 4;
const TARGET_SIGMA = 3;
/** Sinkhorn's regularisation and iteration count as the reference calls it (ST:345, 609-610). */
const SINKHORN_REG = 0.1;
const SINKHORN_ITERATIONS = 100;
/** The reference's guard added to every denominator. */
const GUARD = 1e-8;

/** inputs: `tokens` [B, 2, T] one-hot rows (subject, object), `columns` [B, T] (1 on the text columns kept), `relation` [B, 3] (vertical, horizontal, object relation: 1 or 0), `time_weight` [B] (w). */
export interface StormInputs {
  tokens: string;
  columns: string;
  relation: string;
  time_weight: string;
}

/** The side of the maps the loss works on (after smoothing), checked against the targets' fixed grid. */
export function stormMapSide(map: { height: number; width: number }, s: StormStructure): number {
  const side = s.smooth_attentions ? smoothedSize(Math.min(map.height, map.width), s.kernel_size) : Math.min(map.height, map.width);
  if (map.height !== map.width || side !== STORM_GRID) {
    const smoothed = s.smooth_attentions ? `, smoothed with kernel ${s.kernel_size} to ${side} x ${side}` : '';
    throw new Error(
      `STORM's targets lie on a fixed ${STORM_GRID} x ${STORM_GRID} grid (its pipeline.py:401): its maps must be ${STORM_GRID} x ${STORM_GRID}, not ${map.height} x ${map.width}${smoothed} (attention_res ${s.attention_res})`,
    );
  }
  return side;
}

/**
 * The unrolled Sinkhorn of the reference (ST:345-372) with its guards, and the transport cost
 * sum_ij P_ij C_ij, for costs C[i, j] = c_i constant along j (ST:340: `repeat`): then K = exp(-C / reg)
 * is k 1^T, so K v = k sum(v) and K^T u = sum(k u) 1, and the plan's cost is sum_i u_i k_i c_i sum(v).
 * These are the reference's products and sums, in another order (float32 rounding apart); the guards
 * act as there: where k_i underflows to 0, u_i = a_i / 1e-8 and pixel i carries no transport.
 * c, a, t: [B, 2, N, 1]; returns [B, 2].
 */
function sinkhornTransportCost(b: GraphBuilder, c: string, a: string, t: string, f: (v: number) => string): string {
  const k = b.exp(b.div(b.neg(c), f(Math.fround(SINKHORN_REG + GUARD))));
  const total = (x: string) => b.reduceSum(x, [2], true); // [B, 2, 1, 1]
  let u = '';
  let v = b.op('Expand', [b.constantTensor(DataType.FLOAT, [1], [1]), b.shape(t)]);
  for (let iteration = 0; iteration < SINKHORN_ITERATIONS; iteration++) {
    u = b.div(a, b.add(b.mul(k, total(v)), f(GUARD)));
    v = b.div(t, b.add(total(b.mul(k, u)), f(GUARD)));
  }
  return b.reshape(b.mul(total(b.mul(b.mul(u, k), c)), total(v)), b.ints([-1, 2]));
}

export function buildStormLoss(b: GraphBuilder, [map]: AttentionMap[], inputs: StormInputs, s: StormStructure): LossGraph {
  const side = stormMapSide(map!, s);
  const pixels = side * side;
  b.enter('storm_loss');
  const a = map!.probs;
  const f = (v: number) => b.scalar(v, a);
  const flag = (column: number) =>
    b.op('Greater', [b.op('Slice', [inputs.relation, b.ints([column]), b.ints([column + 1]), b.ints([1])]), f(0)], undefined, DataType.BOOL); // [B, 1]
  const [vertical, horizontal, objectRelation] = [flag(0), flag(1), flag(2)];
  const rank3 = (t: string) => b.reshape(t, b.ints([-1, 1, 1]));

  // the objects' maps [B, 2, side, side], subject then object
  const kept = b.op('Greater', [b.op('Unsqueeze', [inputs.columns, b.ints([1])]), f(0)], undefined, DataType.BOOL); // [B, 1, T]
  const softmax = b.op('Softmax', [b.op('Where', [kept, b.mul(a, f(SOFTMAX_SCALE)), f(-Infinity)], undefined, DataType.FLOAT)], { axis: -1 });
  const perObject = b.op('Transpose', [b.op('MatMul', [softmax, b.op('Transpose', [inputs.tokens], { perm: [0, 2, 1] })])], { perm: [0, 2, 1] }); // [B, 2, N]
  const images = b.reshape(perObject, b.ints([-1, 1, map!.height, map!.width]));
  const maps = b.reshape(s.smooth_attentions ? smoothMaps(b, images, map!.height, map!.width, s.kernel_size, s.sigma) : images, b.ints([-1, 2, side, side]));

  const axis = b.constantTensor(DataType.FLOAT, [side], [...Array(side).keys()]);
  /** (x, y) centroids [B, 2] of maps [B, 2, side, side]: column and row means weighted by the map (ST:307-311). */
  const centroids = (m: string) => {
    const total = b.add(b.reduceSum(m, [2, 3], false), f(GUARD));
    const along = (summed: number) => b.div(b.reduceSum(b.mul(b.reduceSum(m, [summed], false), axis), [2], false), total);
    return { x: along(2), y: along(3) };
  };
  const first = (t: string) => b.op('Slice', [t, b.ints([0]), b.ints([1]), b.ints([1])]);
  const second = (t: string) => b.op('Slice', [t, b.ints([1]), b.ints([2]), b.ints([1])]);
  /** [B, 2, ...] with the subject's and the object's entries swapped: each object's view of the other. */
  const swap = (t: string) => b.op('Concat', [second(t), first(t)], { axis: 1 });

  // the gate (ST:397-399)
  const raw = centroids(maps);
  const gap = (c: string) => b.div(b.op('Relu', [b.sub(second(c), first(c))]), f(10));
  const coordinate = b.op('Concat', [gap(raw.x), gap(raw.y)], { axis: 1 }); // [B, 2]

  // the normalised maps a, b (ST:562-565)
  const normalised = b.div(maps, b.add(b.reduceSum(maps, [2, 3], true), f(GUARD)));
  const other = swap(normalised); // the subject's cost and object-relation target read the object's map, and the object's the subject's

  // the costs: the factor along the columns around the other map's own centroid (ST:318-342, 583-592)
  const otherCentre = centroids(other);
  const w = b.reshape(inputs.time_weight, b.ints([-1, 1, 1]));
  const centre = b.op('Where', [vertical, otherCentre.y, otherCentre.x], undefined, DataType.FLOAT); // [B, 2]
  // e: the distance on the relation's side (subject: left of / above the centre; object: right of / below), exactly the reference's differences
  const sideSign = b.constantTensor(DataType.FLOAT, [1, 2, 1], [-1, 1]);
  const e = b.mul(b.sub(axis, b.op('Unsqueeze', [centre, b.ints([2])])), sideSign); // [B, 2, side]
  const directional = b.op(
    'Where',
    [b.op('Greater', [e, f(0)], undefined, DataType.BOOL), b.reciprocal(b.mul(w, b.add(e, f(GUARD)))), b.mul(w, b.add(b.neg(e), f(GUARD)))],
    undefined,
    DataType.FLOAT,
  );
  const factor = b.op('Where', [rank3(b.op('Or', [vertical, horizontal], undefined, DataType.BOOL)), directional, f(1)], undefined, DataType.FLOAT);
  const cost = b.reshape(b.mul(other, b.op('Unsqueeze', [factor, b.ints([2])])), b.ints([-1, 2, pixels, 1])); // c_i [B, 2, N, 1]; C[i, j] = c_i

  // the targets (ST:374-417, 603-610)
  const gridRows = b.constantTensor(
    DataType.FLOAT,
    [1, 1, pixels],
    Array.from({ length: pixels }, (_, k) => Math.floor(k / side)),
  );
  const gridColumns = b.constantTensor(
    DataType.FLOAT,
    [1, 1, pixels],
    Array.from({ length: pixels }, (_, k) => k % side),
  );
  // each target's moving coordinate: (0 + the object's centroid) / 2 for the subject, (16 + the subject's) / 2 for the object
  const beside = b.div(
    b.add(b.constantTensor(DataType.FLOAT, [1, 2], [0, STORM_GRID]), b.op('Where', [vertical, swap(raw.y), swap(raw.x)], undefined, DataType.FLOAT)),
    f(2),
  ); // [B, 2]
  const middle = f(STORM_GRID / 2);
  const unsqueeze = (t: string) => b.op('Unsqueeze', [t, b.ints([2])]);
  const row = unsqueeze(b.op('Where', [vertical, middle, beside], undefined, DataType.FLOAT));
  const column = unsqueeze(b.op('Where', [vertical, beside, middle], undefined, DataType.FLOAT));
  const dr = b.sub(gridRows, row);
  const dc = b.sub(gridColumns, column);
  const distance = b.sqrt(b.add(b.mul(dr, dr), b.mul(dc, dc))); // [B, 2, N]
  const disc = b.maskWhere(
    b.op('LessOrEqual', [distance, f(TARGET_RADIUS)], undefined, DataType.BOOL),
    b.exp(b.div(b.neg(b.mul(distance, distance)), f(2 * TARGET_SIGMA * TARGET_SIGMA))),
  );
  const peaked = b.div(disc, b.reduceMax(disc, [2], true));
  const circular = b.div(peaked, b.add(b.reduceSum(peaked, [2], true), f(GUARD)));
  const flat = (t: string) => b.reshape(t, b.ints([-1, 2, pixels, 1]));
  const target = b.op('Where', [b.reshape(objectRelation, b.ints([-1, 1, 1, 1])), flat(other), flat(circular)], undefined, DataType.FLOAT); // [B, 2, N, 1]

  const losses = sinkhornTransportCost(b, cost, flat(normalised), target, f); // [B, 2]: the subject's and the object's transport cost
  const perImage = b.reduceSum(losses, [1], false);
  return {
    loss: b.reduceSum(perImage, [0], false),
    outputs: {
      loss_per_image: { value: perImage, dims: ['batch'] },
      losses: { value: losses, dims: ['batch', 2] },
      coordinate: { value: coordinate, dims: ['batch', 2] },
      w: { value: b.op('Identity', [inputs.time_weight]), dims: ['batch'] },
    },
  };
}
