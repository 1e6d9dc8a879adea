/**
 * The energy term of the InfSplign loss (docs/method.md §2.5) as ONNX nodes: each object's energy E_k
 * (`energy_loss` / `top_loss`) and their combination L_energy (`strategy` / `top_strategy`), as the
 * reference computes them (self_guide_batch.py `_centroid`, `centroid`), quirks included:
 * - `ent(X)` is minus the largest element of X ln(X + 1e-9), not an entropy;
 * - the 1/64 factors are the reference's constants, whatever the map size;
 * - `prob` is ent of each object's pixelwise share P_k = A_k / (A_1 + A_2) of the maps before smoothing;
 * - `entgibs` always adds the variances, and `mutual` always uses ent, whatever the energy.
 * Shapes, per batch of B prompts: maps [B, 2, H, W], per-object values [B, 2], terms [B].
 */
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import type { MethodParams } from '../contracts/method-params.ts';
import { DataType } from '../onnx/proto.ts';

export type Energy = MethodParams['energy_loss'];
export type Strategy = MethodParams['strategy'];

/** What the energies are computed from. */
export interface EnergyMaps {
  /** the object maps the statistics read (smoothed when gaussian_smoothing is on) [B, 2, H, W] */
  maps: string;
  /** the object maps before smoothing [B, 2, H, W] */
  raw: string;
  /** v_k of docs/method.md §2.3 [B, 2] */
  variance: string;
}

/** The reference's `energy_coef`, reassigned to 1/64 before every energy it scales. */
const ENERGY_COEF = 1 / 64;
/** The reference's epsilon inside ent's logarithm. */
const ENT_EPS = 1e-9;

/** A pixelwise ln(x + 1e-9) in float32 is exact enough for ent: its largest x ln x is at small x. */
function ent(b: GraphBuilder, x: string, logOf: string): string {
  return b.neg(b.reduceMax(b.mul(x, logOf), [2, 3], false));
}

/**
 * ln(1 + u), accurate for small u in float32 (Goldberg's rewriting: with w = 1 + u rounded,
 * ln(w) u / (w - 1); u itself where w rounds to 1).
 */
function log1p(b: GraphBuilder, u: string): string {
  const w = b.add(b.scalar(1, u), u);
  const exact = b.op('Equal', [w, b.scalar(1, u)], undefined, DataType.BOOL);
  const denominator = b.op('Where', [exact, b.scalar(1, u), b.sub(w, b.scalar(1, u))]);
  return b.op('Where', [exact, u, b.div(b.mul(b.log(w), u), denominator)]);
}

/**
 * ent(P_k) for each object's share P_k = A_k / (A_1 + A_2). Its largest P ln P is at P close to 1,
 * where ln P computed from P loses float32's digits (a relative error of 1.6e-4 against the
 * reference's float64): there ln(P + 1e-9) is taken as log1p(1e-9 - Q) from the other object's share
 * Q = 1 - P, which float32 holds to full precision; below P = 1/2, ln(P + 1e-9) directly.
 */
function probEnt(b: GraphBuilder, raw: string): string {
  const total = b.reduceSum(raw, [1], true);
  const share = b.div(raw, total);
  const other = b.div(b.op('Gather', [raw, b.ints([1, 0])], { axis: 1 }), total);
  const small = b.op('Less', [share, b.scalar(0.5, share)], undefined, DataType.BOOL);
  const direct = b.log(b.add(share, b.scalar(ENT_EPS, share)));
  const nearOne = log1p(b, b.sub(b.scalar(ENT_EPS, other), other));
  return ent(b, share, b.op('Where', [small, direct, nearOne]));
}

/** Lazily built pieces several energies and strategies share. */
class EnergyParts {
  private cache = new Map<string, string>();
  constructor(
    private readonly b: GraphBuilder,
    readonly m: EnergyMaps,
  ) {}

  private once(key: string, make: () => string): string {
    let value = this.cache.get(key);
    if (!value) this.cache.set(key, (value = make()));
    return value;
  }

  /** max over pixels of A_k [B, 2] */
  max = () => this.once('max', () => this.b.reduceMax(this.m.maps, [2, 3], false));
  /** ent(A_k) [B, 2] */
  ent = () => this.once('ent', () => ent(this.b, this.m.maps, this.b.log(this.b.add(this.m.maps, this.b.scalar(ENT_EPS, this.m.maps)))));
  /** -ln(max A_k) / 64 [B, 2] */
  logMax = () => this.once('logMax', () => this.b.mul(this.b.neg(this.b.log(this.max())), this.b.scalar(ENERGY_COEF, this.m.maps)));
}

/** E_k [B, 2] for each object. */
function objectEnergies(b: GraphBuilder, kind: Energy, parts: EnergyParts): string {
  const { maps, raw, variance } = parts.m;
  const coef = () => b.scalar(ENERGY_COEF, maps);
  switch (kind) {
    case 'var':
      return variance;
    case 'log':
      return parts.logMax();
    case 'entropy':
      return parts.ent();
    case 'prob':
      return probEnt(b, raw);
    case 'mean':
      return b.reduceMean(maps, [2, 3], false);
    case 'gibs':
      return b.add(parts.logMax(), variance);
    case 'gibsent':
      return b.add(parts.ent(), variance);
    case 'lin':
      return b.neg(parts.max());
    case 'square':
      return b.mul(b.mul(parts.max(), parts.max()), coef());
    case 'exp':
      return b.mul(b.exp(parts.max()), coef());
    case 'none':
      return b.mul(variance, b.scalar(0, variance));
  }
}

/** L_energy [B] by strategy from the objects' energies. `L2`: the reference's compute_loss with L2_norm. */
function combine(b: GraphBuilder, strategy: Strategy, e: string, parts: EnergyParts, L2: boolean): string {
  const pick = (v: string, k: number) => b.op('Gather', [v, b.int(k)], { axis: 1 });
  const [e1, e2] = [pick(e, 0), pick(e, 1)];
  const sum = () => b.add(e1, e2);
  const gap = () => b.op('Abs', [b.sub(e1, e2)]);
  // compute_loss(L2, observed, target): mean(0.5 (o - t)^2) or mean(|o - t|) of scalars
  const distance = (observed: string, target: string) => {
    const d = b.sub(observed, target);
    return L2 ? b.mul(b.scalar(0.5, d), b.mul(d, d)) : b.op('Abs', [d]);
  };
  const zero = () => b.scalar(0, e1);
  switch (strategy) {
    case 'diff':
      return gap();
    case 'dec':
      return sum();
    case 'both':
      return b.add(sum(), gap());
    case 'inc':
      return b.neg(sum());
    case 'std': {
      const middle = b.div(sum(), b.scalar(2, e1));
      return b.add(distance(e1, middle), distance(e2, middle));
    }
    case 'second':
      return b.neg(distance(e2, zero()));
    case 'entgibs': {
      const v = parts.m.variance;
      return b.add(b.add(distance(zero(), pick(v, 0)), distance(zero(), pick(v, 1))), distance(e1, e2));
    }
    case 'mutual': {
      // mean over pixels of (1 - A_2) ent(A_1) + (1 - A_1) ent(A_2), with ent of the maps the statistics read
      const outside = b.sub(b.scalar(1, e1), b.reduceMean(parts.m.raw, [2, 3], false)); // [B, 2]: 1 - mean A_k
      const crossed = b.mul(parts.ent(), b.op('Gather', [outside, b.ints([1, 0])], { axis: 1 }));
      return b.reduceSum(crossed, [1], false);
    }
    case 'none':
      return b.mul(e1, b.scalar(0, e1));
  }
}

/** L_energy [B] of one layer for the energy and strategy its routing picked (docs/method.md §2.5). */
export function energyTerm(b: GraphBuilder, maps: EnergyMaps, energy: Energy, strategy: Strategy, L2: boolean): string {
  const parts = new EnergyParts(b, maps);
  // mutual reads ent itself and no energy: the energy's nodes would be left unused
  const e = strategy === 'mutual' ? maps.variance : objectEnergies(b, energy, parts);
  return combine(b, strategy, e, parts, L2);
}
