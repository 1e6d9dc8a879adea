/** Softmax and LogSoftmax along one axis (opset 13+ semantics). */
import { attrInt } from '../../proto.ts';
import { dy0, type GradientRule } from '../rule.ts';

/** dx = y * (dy - sum(dy * y, axis)) */
export const Softmax: GradientRule = {
  opType: 'Softmax',
  vjp: (ctx) => {
    const { b, node, outputs: [y] } = ctx;
    const g = dy0(ctx);
    const axis = attrInt(node, 'axis', -1);
    return [b.mul(y!, b.sub(g, b.reduceSum(b.mul(g, y!), [axis], true)))];
  },
};

/** dx = dy - exp(y) * sum(dy, axis) */
export const LogSoftmax: GradientRule = {
  opType: 'LogSoftmax',
  vjp: (ctx) => {
    const { b, node, outputs: [y] } = ctx;
    const g = dy0(ctx);
    const axis = attrInt(node, 'axis', -1);
    return [b.sub(g, b.mul(b.exp(y!), b.reduceSum(g, [axis], true)))];
  },
};
