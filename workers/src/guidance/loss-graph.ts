/**
 * The InfSplign loss (docs/method.md §2) as an ONNX subgraph on attention probabilities, so that the
 * engine can differentiate it together with the U-Net. Token positions, relation, per-prompt
 * weights and the loss's values (alpha, margin, slope, lambdas, the masked mean's threshold and
 * weight) are run-time inputs: one prepared graph serves every prompt and every setting of those
 * values; only the loss's structure (map size, activation, loss_num, energies, strategies and the
 * switches) is built in. Shapes, per batch of B prompts with T tokens:
 *   tokenWeights [B, 2, T]  object k's map is sum_t w[b,k,t] P[b,:,t] (1/n on its n tokens)
 *   relation     [B, 5]     one-hot over RELATIONS; all zero: no spatial term ("and" prompts)
 *   promptWeight [B]        0 leaves the prompt alone; else its loss's factor (1, or 5 with no_wt off)
 *   values       []         one float scalar per LOSS_VALUES name
 */
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import type { MethodParams } from '../contracts/method-params.ts';
import { DataType } from '../onnx/proto.ts';
import { energyTerm } from './loss-energy.ts';
import type { Relation } from '../prompts/types.ts';
import { HORIZONTAL_RELATIONS, RELATIONS } from './relations.ts';

type Activation = MethodParams['loss_type'];

/** The docs/method.md §4 parameters that shape the loss graph: a change builds another graph. */
export const LOSS_STRUCTURE = [
  'map_size',
  'loss_type',
  'loss_num',
  'energy_loss',
  'strategy',
  'top_loss',
  'top_strategy',
  'L2_norm',
  'gaussian_smoothing',
  'masked_mean',
  'object_presence',
] as const;
export type LossStructure = Pick<MethodParams, (typeof LOSS_STRUCTURE)[number]>;

/** The docs/method.md §4 parameters the loss graph takes as inputs: a change runs the same graph. */
export const LOSS_VALUES = [
  'alpha',
  'margin',
  'leaky_relu_slope',
  'lambda_spatial',
  'lambda_presence',
  'lambda_balance',
  'masked_mean_thresh',
  'masked_mean_weight',
] as const;
export type LossValueName = (typeof LOSS_VALUES)[number];
export type LossValues = Pick<MethodParams, LossValueName>;

export type LossParams = LossStructure & LossValues;

/** The structure part of some parameters (which keys a prepared graph's cache entry by). */
export function lossStructure(params: LossStructure): LossStructure {
  return Object.fromEntries(LOSS_STRUCTURE.map((name) => [name, params[name]])) as LossStructure;
}

/** The reference's edit weight (pipeline_batch.py:551-556): a prompt's loss is multiplied by it when no_wt is off. */
export const EDIT_WEIGHT = 5;

/** The factor of a guided prompt's loss (the graph's promptWeight input). */
export function promptLossWeight(params: Pick<MethodParams, 'no_wt'>): number {
  return params.no_wt ? 1 : EDIT_WEIGHT;
}

/** Refuses options that the reference cannot run on a prompt with this relation (docs/method.md §4.2). */
export function relationProblem(relation: Relation | null, params: Pick<MethodParams, 'object_presence'>): string | null {
  if (relation === null && params.object_presence) {
    return 'object_presence needs a relation the reference lists: on a prompt without one the reference raises (object_presence_loss is never assigned, self_guide_batch.py:709-710)';
  }
  return null;
}

export interface LossLayer {
  /** Module path of the layer; one containing `blocks.1` takes the presence terms (§2.5). */
  name: string;
  /** Attention probabilities averaged over the layer's heads [B, H*W, T] (methods/attention-maps.ts). */
  probs: string;
  height: number;
  width: number;
}

export interface LossInputs {
  tokenWeights: string;
  relation: string;
  promptWeight: string;
  /** the graph inputs (float scalars) carrying the values */
  values: Record<LossValueName, string>;
}

/** One layer's terms, each [B]: L_spatial (with the masked mean), L_energy, L_l; and its centroids [B, 2 objects, (x, y)]. */
export interface LayerTerms {
  name: string;
  spatial: string;
  energy: string;
  total: string;
  centroids: string;
}

export interface LossOutputs {
  /** sum over prompts of promptWeight * L (scalar): what is differentiated. */
  loss: string;
  /** L per prompt [B]. */
  perPrompt: string;
  /** Object centroids averaged over layers [B, 2 objects, (x, y)]. */
  centroids: string;
  layers: LayerTerms[];
}

/**
 * Half-pixel bilinear interpolation matrix [out, in] (torchvision's resize of an upsampled map,
 * align_corners=False): row o mixes the two inputs around (o + 0.5) * in / out - 0.5.
 */
export function bilinearMatrix(out: number, input: number): number[] {
  const m = new Array<number>(out * input).fill(0);
  const scale = input / out;
  for (let o = 0; o < out; o++) {
    const src = Math.max((o + 0.5) * scale - 0.5, 0);
    const i0 = Math.min(Math.floor(src), input - 1);
    const i1 = Math.min(i0 + 1, input - 1);
    const frac = src - i0;
    m[o * input + i0] += 1 - frac;
    m[o * input + i1] += frac;
  }
  return m;
}

/**
 * The reference's gaussian_smoothing along one axis as a matrix [n, n]: a 3-tap filter with reflect
 * padding of 1. Its kernel (self_guide_batch.py GaussianSmoothing, kernel 3, sigma 0.5) is computed
 * as exp(-((i - 1) / (2 sigma))^2) = [e^-1, 1, e^-1], normalised: not the Gaussian of sigma 0.5 its
 * name says. The 2-D kernel is the outer product, so the filter is this matrix on each side of the map.
 */
export function smoothingMatrix(n: number): number[] {
  if (n < 2) throw new Error(`gaussian_smoothing needs maps of at least 2 x 2 (reflect padding), not ${n} wide`);
  const side = Math.exp(-1);
  const taps = [side, 1, side].map((w) => w / (1 + 2 * side));
  const m = new Array<number>(n * n).fill(0);
  const reflect = (i: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  for (let o = 0; o < n; o++) taps.forEach((w, k) => (m[o * n + reflect(o + k - 1)] += w));
  return m;
}

function linspace(n: number): number[] {
  return Array.from({ length: n }, (_, k) => (n === 1 ? 0 : k / (n - 1)));
}

/** phi of §2.4, written with ops that have gradient rules; `slope` is leaky_relu's, a graph input. */
function activation(b: GraphBuilder, kind: Activation, x: string, slope: string): string {
  const c = (v: number) => b.scalar(v, x);
  const positive = () => b.op('Greater', [x, c(0)], undefined, DataType.BOOL);
  const expm1 = () => b.sub(b.exp(x), c(1));
  switch (kind) {
    case 'gelu':
      return b.mul(b.mul(c(0.5), x), b.add(c(1), b.op('Erf', [b.mul(x, c(Math.SQRT1_2))])));
    case 'relu':
      return b.op('Relu', [x]);
    // LeakyRelu's slope is an attribute; as an input it is written out (the same values, and gradient, bit for bit)
    case 'leaky_relu':
      return b.op('Where', [positive(), x, b.mul(x, slope)]);
    // torch's rrelu out of training: a leaky ReLU whose slope is the mean of its bounds 1/8 and 1/3
    case 'rrelu':
      return b.op('Where', [positive(), x, b.mul(x, c((1 / 8 + 1 / 3) / 2))]);
    case 'squared_relu': {
      const r = b.op('Relu', [x]);
      return b.mul(r, r);
    }
    case 'sigmoid':
      return b.op('Sigmoid', [x]);
    case 'softplus':
      return b.op('Softplus', [x]);
    case 'silu':
      return b.mul(x, b.op('Sigmoid', [x]));
    // torch's SELU constants; ELU and CELU with alpha 1 coincide.
    case 'selu':
      return b.mul(c(1.0507009873554805), b.op('Where', [positive(), x, b.mul(c(1.6732632423543772), expm1())]));
    case 'celu':
    case 'elu':
      return b.op('Where', [positive(), x, expm1()]);
    case 'hardtanh':
      return b.op('Clip', [x, c(0), c(1)]);
    case 'linear':
      return x;
    case 'softsign':
      return b.div(x, b.add(c(1), b.op('Abs', [x])));
    case 'logrelu':
      return b.log(b.add(c(1), b.op('Relu', [x])));
  }
}

interface MapStatistics {
  /** [B, 2] each */
  cx: string;
  cy: string;
  variance: string;
}

/** Mass, centroid and spatial variance (§2.3) of object maps A [B, 2, H, W]. */
function statistics(b: GraphBuilder, a: string, height: number, width: number): MapStatistics {
  const xs = b.constantTensor(DataType.FLOAT, [width], linspace(width));
  const ys = b.constantTensor(DataType.FLOAT, [height], linspace(height));
  const mass = b.reduceSum(a, [2, 3], false);
  const alongX = b.reduceSum(a, [2], false); // [B, 2, W]
  const alongY = b.reduceSum(a, [3], false); // [B, 2, H]
  const cx = b.div(b.reduceSum(b.mul(alongX, xs), [2], false), mass);
  const cy = b.div(b.reduceSum(b.mul(alongY, ys), [2], false), mass);
  const spread = (marginal: string, coords: string, centre: string) => {
    const d = b.sub(coords, b.op('Unsqueeze', [centre, b.ints([2])]));
    return b.reduceSum(b.mul(marginal, b.mul(d, d)), [2], false);
  };
  const variance = b.div(b.add(spread(alongX, xs, cx), spread(alongY, ys, cy)), mass);
  return { cx, cy, variance };
}

/** The two objects' centroid coordinates, [B] each. */
interface Centroids {
  x1: string;
  x2: string;
  y1: string;
  y2: string;
}

function centroidsOf(b: GraphBuilder, s: MapStatistics): Centroids {
  const pick = (v: string, k: number) => b.op('Gather', [v, b.int(k)], { axis: 1 });
  return { x1: pick(s.cx, 0), x2: pick(s.cx, 1), y1: pick(s.cy, 0), y2: pick(s.cy, 1) };
}

/** Delta (§2.4) per prompt [B]: the relation one-hot picks one of the five signed gaps. */
function delta(b: GraphBuilder, { x1, x2, y1, y2 }: Centroids, relation: string): string {
  const gaps = [b.sub(x2, x1), b.sub(x1, x2), b.sub(y2, y1), b.sub(y1, y2), b.op('Abs', [b.sub(x1, x2)])];
  const stacked = b.op(
    'Concat',
    gaps.map((g) => b.op('Unsqueeze', [g, b.ints([1])])),
    { axis: 1 },
  );
  return b.reduceSum(b.mul(stacked, relation), [1], false);
}

/** 1 for prompts whose relation is among `relations`, else 0 [B]. */
function relationIn(b: GraphBuilder, relation: string, relations: (r: (typeof RELATIONS)[number]) => boolean): string {
  const mask = b.constantTensor(
    DataType.FLOAT,
    [RELATIONS.length],
    RELATIONS.map((r) => (relations(r) ? 1 : 0)),
  );
  return b.reduceSum(b.mul(relation, mask), [1], false);
}

/**
 * loss_num 2 and 3's term on the axis Delta does not read: |y1 - y2| (2) or (y1 - y2)^2 / 2 (3) for
 * the horizontal relations, the same of x1 - x2 for above and below.
 */
function otherAxisTerm(b: GraphBuilder, lossNum: 2 | 3, c: Centroids, relation: string): string {
  const term = (d: string) => (lossNum === 2 ? b.op('Abs', [d]) : b.mul(b.scalar(0.5, d), b.mul(d, d)));
  const horizontal = relationIn(b, relation, (r) => HORIZONTAL_RELATIONS.has(r));
  const vertical = relationIn(b, relation, (r) => !HORIZONTAL_RELATIONS.has(r));
  return b.add(b.mul(horizontal, term(b.sub(c.y1, c.y2))), b.mul(vertical, term(b.sub(c.x1, c.x2))));
}

/** The reference's object_presence threshold: centroids further apart than this along Delta cost more. */
const PRESENCE_MARGIN = 0.9;

/**
 * The masked mean's term [B] (docs/method.md §4.1): with S = A_1 + A_2 and mm the mean of S over the
 * pixels where S >= mean S, weight relu(thresh - mm). The reference adds weight (thresh - mm) only when
 * mm < thresh, which is the same value and gradient.
 */
function maskedMeanTerm(b: GraphBuilder, raw: string, values: LossInputs['values']): string {
  const both = b.reduceSum(raw, [1], false); // [B, H, W]
  const above = b.op(
    'Cast',
    [b.op('GreaterOrEqual', [both, b.reduceMean(both, [1, 2], true)], undefined, DataType.BOOL)],
    { to: DataType.FLOAT },
    DataType.FLOAT,
  );
  const masked = b.div(b.reduceSum(b.mul(both, above), [1, 2], false), b.reduceSum(above, [1, 2], false));
  return b.mul(values.masked_mean_weight, b.op('Relu', [b.sub(values.masked_mean_thresh, masked)]));
}

/** L_spatial [B] (§2.4 and the options of §4.1): zero without a relation, except for the masked mean's term. */
function spatialTerm(b: GraphBuilder, params: LossStructure, c: Centroids, inputs: LossInputs & { spatialOn: string }, raw: string): string {
  const { values, relation } = inputs;
  const gap = delta(b, c, relation);
  const terms = [activation(b, params.loss_type, b.mul(values.alpha, b.sub(values.margin, gap)), values.leaky_relu_slope)];
  if (params.loss_num !== 1) terms.push(otherAxisTerm(b, params.loss_num as 2 | 3, c, relation));
  if (params.object_presence) terms.push(b.op('Relu', [b.sub(b.op('Abs', [gap]), b.scalar(PRESENCE_MARGIN, gap))]));
  const spatial = b.mul(b.sum(terms), inputs.spatialOn);
  return params.masked_mean ? b.add(spatial, maskedMeanTerm(b, raw, values)) : spatial;
}

/** The object maps [B, 2, H, W] of one layer (its head-averaged probabilities), resized to map_size when `resize`. */
function objectMaps(
  b: GraphBuilder,
  layer: LossLayer,
  inputs: LossInputs & { weightsByToken: string },
  params: LossStructure,
  resize: boolean,
): { maps: string; height: number; width: number } {
  const perObject = b.op('Transpose', [b.op('MatMul', [layer.probs, inputs.weightsByToken])], { perm: [0, 2, 1] }); // [B, 2, N]
  const maps = b.reshape(perObject, b.ints([0, 2, layer.height, layer.width]));
  if (!resize || (layer.height === params.map_size && layer.width === params.map_size)) return { maps, height: layer.height, width: layer.width };
  return {
    maps: sandwich(
      b,
      maps,
      bilinearMatrix(params.map_size, layer.height),
      bilinearMatrix(params.map_size, layer.width),
      [params.map_size, layer.height],
      [params.map_size, layer.width],
    ),
    height: params.map_size,
    width: params.map_size,
  };
}

/** R_h A R_w^T for maps A [B, 2, H, W]: two constant matrices, two MatMuls (as cheap to differentiate). */
function sandwich(b: GraphBuilder, maps: string, rows: number[], cols: number[], rowDims: [number, number], colDims: [number, number]): string {
  const colsT = b.op('Transpose', [b.constantTensor(DataType.FLOAT, colDims, cols)], { perm: [1, 0] });
  return b.op('MatMul', [b.op('MatMul', [b.constantTensor(DataType.FLOAT, rowDims, rows), maps]), colsT]);
}

/**
 * Emits the loss of docs/method.md §2 for the given layers. `resize`: resize each map to map_size
 * first (the method); false feeds maps to the statistics as they are (`guidance loss`).
 */
export function buildLossGraph(b: GraphBuilder, layers: LossLayer[], inputs: LossInputs, params: LossStructure, resize: boolean): LossOutputs {
  if (layers.length === 0) throw new Error('InfSplign needs at least one attention layer');
  const { values } = inputs;
  const shared = {
    ...inputs,
    weightsByToken: b.op('Transpose', [inputs.tokenWeights], { perm: [0, 2, 1] }), // [B, T, 2]
    spatialOn: b.reduceSum(inputs.relation, [1], false), // [B]: 0 without a relation
  };
  const perLayer = layers.map((layer): LayerTerms => {
    b.enter(`infsplign_loss/${layer.name}`);
    const { maps: raw, height, width } = objectMaps(b, layer, shared, params, resize);
    const maps = params.gaussian_smoothing ? sandwich(b, raw, smoothingMatrix(height), smoothingMatrix(width), [height, height], [width, width]) : raw;
    const stats = statistics(b, maps, height, width);
    const spatial = spatialTerm(b, params, centroidsOf(b, stats), shared, raw);
    // Routing by layer name (docs/method.md §2.5, a substring test as in the reference)
    const top = layer.name.includes('blocks.1');
    const energyMaps = { maps, raw, variance: stats.variance };
    const energy = energyTerm(b, energyMaps, top ? params.top_loss : params.energy_loss, top ? params.top_strategy : params.strategy, params.L2_norm);
    const lambdaEnergy = top ? values.lambda_presence : values.lambda_balance;
    const total = b.add(b.mul(values.lambda_spatial, spatial), b.mul(lambdaEnergy, energy));
    const centroids = b.op('Concat', [b.op('Unsqueeze', [stats.cx, b.ints([2])]), b.op('Unsqueeze', [stats.cy, b.ints([2])])], { axis: 2 });
    return { name: layer.name, spatial, energy, total, centroids };
  });
  b.enter('infsplign_loss');
  const mean = (terms: string[]) => b.div(b.sum(terms), b.scalar(terms.length, terms[0]!));
  const perPrompt = mean(perLayer.map((l) => l.total));
  const loss = b.reduceSum(b.mul(perPrompt, inputs.promptWeight), [0], false);
  return { loss, perPrompt, centroids: mean(perLayer.map((l) => l.centroids)), layers: perLayer };
}

/** The columns of layerTable's rows. */
export const LAYER_TABLE_COLUMNS = ['spatial', 'energy', 'total', 'x1', 'y1', 'x2', 'y2'] as const;

/** Every layer's terms and centroids in one tensor [B, layers, LAYER_TABLE_COLUMNS], for reports. */
export function layerTable(b: GraphBuilder, layers: LayerTerms[]): string {
  const rows = layers.map((l) => {
    const column = (v: string) => b.op('Unsqueeze', [v, b.ints([1])]);
    const row = b.op('Concat', [column(l.spatial), column(l.energy), column(l.total), b.reshape(l.centroids, b.ints([0, 4]))], { axis: 1 });
    return b.op('Unsqueeze', [row, b.ints([1])]);
  });
  return b.op('Concat', rows, { axis: 1 });
}

/** One layer's report, read from a layerTable's row. */
export interface LayerReport {
  name: string;
  spatial: number;
  energy: number;
  total: number;
  /** [[x1, y1], [x2, y2]] */
  centroids: [[number, number], [number, number]];
}

/** The rows of prompt `b` of a layerTable's values. */
export function readLayerTable(table: ArrayLike<number>, names: readonly string[], b: number): LayerReport[] {
  const width = LAYER_TABLE_COLUMNS.length;
  return names.map((name, l) => {
    const at = (k: number) => table[(b * names.length + l) * width + k]!;
    return {
      name,
      spatial: at(0),
      energy: at(1),
      total: at(2),
      centroids: [
        [at(3), at(4)],
        [at(5), at(6)],
      ],
    };
  });
}
