/**
 * Every gradient rule, registered here by op type, one line per op; and the ops known to have none.
 * A rule exists only by being listed: a helper exported by a rules file is not a rule, and two rules
 * for one op type are an error.
 */
import type { GradientRule } from './rule.ts';
import { Add, Div, Max, Min, Mul, Pow, Sub, Sum } from './rules/arithmetic.ts';
import { Conv } from './rules/conv.ts';
import { Gather, Slice, Where } from './rules/indexing.ts';
import { Concat, Split } from './rules/join.ts';
import { Gemm, MatMul } from './rules/matmul.ts';
import { GroupNormalization, InstanceNormalization, LayerNormalization } from './rules/normalization.ts';
import { Pad } from './rules/pad.ts';
import {
  Abs,
  Cast,
  Clip,
  Cos,
  Dropout,
  Erf,
  Exp,
  Gelu,
  Identity,
  LeakyRelu,
  Log,
  Neg,
  Reciprocal,
  Relu,
  Sigmoid,
  Sin,
  Softplus,
  Sqrt,
  Tanh,
} from './rules/pointwise.ts';
import { ReduceMax, ReduceMean, ReduceSum } from './rules/reduce.ts';
import { Resize } from './rules/resize.ts';
import { Expand, Flatten, Reshape, Squeeze, Tile, Transpose, Unsqueeze } from './rules/shape.ts';
import { LogSoftmax, Softmax } from './rules/softmax.ts';

/** A table of rules by op type; registering a second rule for an op type is an error. */
export function ruleTable(rules: readonly GradientRule[]): Map<string, GradientRule> {
  const table = new Map<string, GradientRule>();
  for (const rule of rules) {
    if (table.has(rule.opType)) throw new Error(`two gradient rules are registered for op ${rule.opType}`);
    table.set(rule.opType, rule);
  }
  return table;
}

export const GRADIENT_RULES: ReadonlyMap<string, GradientRule> = ruleTable([
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Sum,
  Max,
  Min,
  Abs,
  Neg,
  Exp,
  Log,
  Sqrt,
  Reciprocal,
  Erf,
  Tanh,
  Sigmoid,
  Softplus,
  Sin,
  Cos,
  Relu,
  LeakyRelu,
  Clip,
  Gelu,
  Identity,
  Dropout,
  Cast,
  Softmax,
  LogSoftmax,
  MatMul,
  Gemm,
  Conv,
  InstanceNormalization,
  LayerNormalization,
  GroupNormalization,
  ReduceSum,
  ReduceMean,
  ReduceMax,
  Reshape,
  Flatten,
  Squeeze,
  Unsqueeze,
  Transpose,
  Expand,
  Tile,
  Concat,
  Split,
  Slice,
  Gather,
  Where,
  Resize,
  Pad,
]);

/**
 * Ops whose outputs carry no gradient: integer, boolean or shape results, and piecewise-constant
 * float functions (zero derivative almost everywhere).
 */
export const NON_DIFFERENTIABLE: ReadonlySet<string> = new Set([
  'Shape',
  'Size',
  'Constant',
  'ConstantOfShape',
  'Range',
  'EyeLike',
  'NonZero',
  'ArgMax',
  'ArgMin',
  'OneHot',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'And',
  'Or',
  'Xor',
  'Not',
  'IsNaN',
  'IsInf',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'RandomNormal',
  'RandomNormalLike',
  'RandomUniform',
  'RandomUniformLike',
  'Bernoulli',
  'Multinomial',
]);
