/** Softmax and LogSoftmax along one axis (opset 13+ semantics). */
import { attrInt } from '../../proto.ts';
import { defineRule, dy0 } from '../rule.ts';

/** dx = y * (dy - sum(dy * y, axis)) */
export const Softmax = defineRule('Softmax', ['input'], (ctx) => {
  const {
    b,
    node,
    outputs: [y],
  } = ctx;
  const g = dy0(ctx);
  const axis = attrInt(node, 'axis', -1);
  return { input: b.mul(y!, b.sub(g, b.reduceSum(b.mul(g, y!), [axis], true))) };
});

/** dx = dy - exp(y) * sum(dy, axis) */
export const LogSoftmax = defineRule('LogSoftmax', ['input'], (ctx) => {
  const {
    b,
    node,
    outputs: [y],
  } = ctx;
  const g = dy0(ctx);
  const axis = attrInt(node, 'axis', -1);
  return { input: b.sub(g, b.mul(b.exp(y!), b.reduceSum(g, [axis], true))) };
});
