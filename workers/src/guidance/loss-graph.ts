/**
 * The InfSplign loss (docs/method.md §2) as an ONNX subgraph on attention probabilities, so that the
 * engine can differentiate it together with the U-Net. Token positions, relation, per-prompt
 * weights and the loss's values (alpha, margin, slope, lambdas) are run-time inputs: one prepared
 * graph serves every prompt and every setting of those values; only the loss's structure (map
 * size, activation, strategies) is built in. Shapes, per batch of B prompts with T tokens:
 *   tokenWeights [B, 2, T]  object k's map is sum_t w[b,k,t] P[b,:,t] (1/n on its n tokens)
 *   relation     [B, 5]     one-hot over RELATIONS; all zero: no spatial term ("and" prompts)
 *   promptWeight [B]        1 to guide the prompt, 0 to leave it alone
 *   values       []         one float scalar per LOSS_VALUES name
 */
import type { GradBuilder } from '../onnx/autodiff/builder.ts';
import type { MethodParams } from '../contracts/method-params.ts';
import { DataType } from '../onnx/proto.ts';

type Activation = MethodParams['loss_type'];
type Strategy = MethodParams['strategy'];

/** The docs/method.md §4 parameters that shape the loss graph: a change builds another graph. */
export type LossStructure = Pick<MethodParams, 'map_size' | 'loss_type' | 'energy_loss' | 'strategy' | 'top_loss' | 'top_strategy'>;

/** The docs/method.md §4 parameters the loss graph takes as inputs: a change runs the same graph. */
export const LOSS_VALUES = ['alpha', 'margin', 'leaky_relu_slope', 'lambda_spatial', 'lambda_presence', 'lambda_balance'] as const;
export type LossValueName = (typeof LOSS_VALUES)[number];
export type LossValues = Pick<MethodParams, LossValueName>;

export type LossParams = LossStructure & LossValues;

/** The structure part of some parameters (which keys a prepared graph's cache entry by). */
export function lossStructure(params: LossStructure): LossStructure {
  const { map_size, loss_type, energy_loss, strategy, top_loss, top_strategy } = params;
  return { map_size, loss_type, energy_loss, strategy, top_loss, top_strategy };
}

export interface LossLayer {
  /** Module path of the layer; one containing `blocks.1` takes the presence terms (§2.5). */
  name: string;
  /** Attention probabilities [B*heads, H*W, T] (heads = 1 when already averaged). */
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

export interface LossOutputs {
  /** sum over prompts of promptWeight * L (scalar): what is differentiated. */
  loss: string;
  /** L per prompt [B]. */
  perPrompt: string;
  /** Object centroids averaged over layers [B, 2 objects, (x, y)]. */
  centroids: string;
  /** Per layer [B] each: L_spatial (masked), L_energy, and lambda-weighted total L_l. */
  layers: Array<{ name: string; spatial: string; energy: string; total: string }>;
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

function linspace(n: number): number[] {
  return Array.from({ length: n }, (_, k) => (n === 1 ? 0 : k / (n - 1)));
}

/** phi of §2.4, written with ops that have gradient rules; `slope` is leaky_relu's, a graph input. */
function activation(b: GradBuilder, kind: Activation, x: string, slope: string): string {
  const c = (v: number) => b.scalar(v, x);
  const positive = () => b.op('Greater', [x, c(0)], undefined, DataType.BOOL);
  const expm1 = () => b.sub(b.exp(x), c(1));
  switch (kind) {
    case 'gelu': return b.mul(b.mul(c(0.5), x), b.add(c(1), b.op('Erf', [b.mul(x, c(Math.SQRT1_2))])));
    case 'relu': return b.op('Relu', [x]);
    // LeakyRelu's slope is an attribute; as an input it is written out (the same values, and gradient, bit for bit)
    case 'leaky_relu': return b.op('Where', [positive(), x, b.mul(x, slope)]);
    case 'squared_relu': { const r = b.op('Relu', [x]); return b.mul(r, r); }
    case 'sigmoid': return b.op('Sigmoid', [x]);
    case 'softplus': return b.op('Softplus', [x]);
    case 'silu': return b.mul(x, b.op('Sigmoid', [x]));
    // torch's SELU constants; ELU and CELU with alpha 1 coincide.
    case 'selu': return b.mul(c(1.0507009873554805), b.op('Where', [positive(), x, b.mul(c(1.6732632423543772), expm1())]));
    case 'celu': case 'elu': return b.op('Where', [positive(), x, expm1()]);
    case 'hardtanh': return b.op('Clip', [x, c(0), c(1)]);
    case 'linear': return x;
    case 'softsign': return b.div(x, b.add(c(1), b.op('Abs', [x])));
    case 'logrelu': return b.log(b.add(c(1), b.op('Relu', [x])));
  }
}

/** L_energy from the two objects' energies E [B, 2] by strategy (§2.5). */
function energyTerm(b: GradBuilder, strategy: Strategy, e: string): string {
  const e1 = b.op('Gather', [e, b.int(0)], { axis: 1 });
  const e2 = b.op('Gather', [e, b.int(1)], { axis: 1 });
  const sum = () => b.add(e1, e2);
  const gap = () => b.op('Abs', [b.sub(e1, e2)]);
  switch (strategy) {
    case 'diff': return gap();
    case 'dec': return sum();
    case 'both': return b.add(sum(), gap());
    case 'inc': return b.neg(sum());
    case 'none': return b.mul(e1, b.scalar(0, e1));
  }
}

interface MapStatistics {
  /** [B, 2] each */
  cx: string;
  cy: string;
  variance: string;
}

/** Mass, centroid and spatial variance (§2.3) of object maps A [B, 2, H, W]. */
function statistics(b: GradBuilder, a: string, height: number, width: number): MapStatistics {
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

/** Delta (§2.4) per prompt [B]: the relation one-hot picks one of the five signed gaps. */
function delta(b: GradBuilder, s: MapStatistics, relation: string): string {
  const pick = (v: string, k: number) => b.op('Gather', [v, b.int(k)], { axis: 1 });
  const [x1, x2, y1, y2] = [pick(s.cx, 0), pick(s.cx, 1), pick(s.cy, 0), pick(s.cy, 1)];
  const gaps = [b.sub(x2, x1), b.sub(x1, x2), b.sub(y2, y1), b.sub(y1, y2), b.op('Abs', [b.sub(x1, x2)])];
  const stacked = b.op('Concat', gaps.map((g) => b.op('Unsqueeze', [g, b.ints([1])])), { axis: 1 });
  return b.reduceSum(b.mul(stacked, relation), [1], false);
}

/**
 * Emits the loss of docs/method.md §2 for the given layers. `resize`: resize each map to map_size
 * first (the method); false feeds maps to the statistics as they are (`guidance loss`).
 */
export function buildLossGraph(b: GradBuilder, layers: LossLayer[], inputs: LossInputs, params: LossStructure, resize: boolean): LossOutputs {
  if (layers.length === 0) throw new Error('InfSplign needs at least one attention layer');
  const weightsByToken = b.op('Transpose', [inputs.tokenWeights], { perm: [0, 2, 1] }); // [B, T, 2]
  const spatialOn = b.reduceSum(inputs.relation, [1], false);
  const perLayer = layers.map((layer) => {
    b.enter(`infsplign_loss/${layer.name}`);
    const probs = b.dtype(layer.probs) === DataType.FLOAT ? layer.probs : b.op('Cast', [layer.probs], { to: DataType.FLOAT }, DataType.FLOAT);
    const batch = b.op('Slice', [b.shape(inputs.promptWeight), b.ints([0]), b.ints([1])]);
    const tokens = b.op('Slice', [b.shape(probs), b.ints([2]), b.ints([3])]);
    const headsApart = b.reshape(probs, b.op('Concat', [batch, b.ints([-1, layer.height * layer.width]), tokens], { axis: 0 }));
    const averaged = b.reduceMean(headsApart, [1], false); // [B, N, T]
    const objectMaps = b.op('Transpose', [b.op('MatMul', [averaged, weightsByToken])], { perm: [0, 2, 1] }); // [B, 2, N]
    let maps = b.reshape(objectMaps, b.ints([0, 2, layer.height, layer.width]));
    let [height, width] = [layer.height, layer.width];
    if (resize && (height !== params.map_size || width !== params.map_size)) {
      const rows = b.constantTensor(DataType.FLOAT, [params.map_size, height], bilinearMatrix(params.map_size, height));
      const colsT = b.op('Transpose', [b.constantTensor(DataType.FLOAT, [params.map_size, width], bilinearMatrix(params.map_size, width))], { perm: [1, 0] });
      maps = b.op('MatMul', [b.op('MatMul', [rows, maps]), colsT]);
      [height, width] = [params.map_size, params.map_size];
    }
    const stats = statistics(b, maps, height, width);
    const { values } = inputs;
    const argument = b.mul(values.alpha, b.sub(values.margin, delta(b, stats, inputs.relation)));
    const spatial = b.mul(activation(b, params.loss_type, argument, values.leaky_relu_slope), spatialOn);
    const top = layer.name.includes('blocks.1');
    const energy = energyTerm(b, top ? params.top_strategy : params.strategy, stats.variance);
    const lambdaEnergy = top ? values.lambda_presence : values.lambda_balance;
    const total = b.add(b.mul(values.lambda_spatial, spatial), b.mul(lambdaEnergy, energy));
    const centroid = b.op('Concat', [b.op('Unsqueeze', [stats.cx, b.ints([2])]), b.op('Unsqueeze', [stats.cy, b.ints([2])])], { axis: 2 });
    return { name: layer.name, spatial, energy, total, centroid };
  });
  b.enter('infsplign_loss');
  const mean = (values: string[]) => b.div(b.sum(values), b.scalar(values.length, values[0]!));
  const perPrompt = mean(perLayer.map((l) => l.total));
  const loss = b.reduceSum(b.mul(perPrompt, inputs.promptWeight), [0], false);
  return { loss, perPrompt, centroids: mean(perLayer.map((l) => l.centroid)), layers: perLayer.map(({ name, spatial, energy, total }) => ({ name, spatial, energy, total })) };
}
