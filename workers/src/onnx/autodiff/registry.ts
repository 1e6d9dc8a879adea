/** Every gradient rule, by op type, and the ops known to have none. */
import type { GradientRule } from './rule.ts';
import * as arithmetic from './rules/arithmetic.ts';
import * as conv from './rules/conv.ts';
import * as indexing from './rules/indexing.ts';
import * as join from './rules/join.ts';
import * as matmul from './rules/matmul.ts';
import * as normalization from './rules/normalization.ts';
import * as pad from './rules/pad.ts';
import * as pointwise from './rules/pointwise.ts';
import * as reduce from './rules/reduce.ts';
import * as resize from './rules/resize.ts';
import * as shape from './rules/shape.ts';
import * as softmax from './rules/softmax.ts';

const modules = [arithmetic, conv, indexing, join, matmul, normalization, pad, pointwise, reduce, resize, shape, softmax];

export const GRADIENT_RULES: ReadonlyMap<string, GradientRule> = new Map(
  modules.flatMap((m) => Object.values(m) as GradientRule[]).map((rule) => [rule.opType, rule]),
);

/**
 * Ops whose outputs carry no gradient: integer, boolean or shape results, and piecewise-constant
 * float functions (zero derivative almost everywhere).
 */
export const NON_DIFFERENTIABLE: ReadonlySet<string> = new Set([
  'Shape', 'Size', 'Constant', 'ConstantOfShape', 'Range', 'EyeLike', 'NonZero', 'ArgMax', 'ArgMin', 'OneHot',
  'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf',
  'Floor', 'Ceil', 'Round', 'Sign', 'RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'Bernoulli', 'Multinomial',
]);
