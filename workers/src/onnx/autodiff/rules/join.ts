/** Concat and Split are each other's adjoints. */
import { attrInt } from '../../proto.ts';
import { defineRule, defineVariadicRule, dy0 } from '../rule.ts';

/** dy is split back into pieces as long as each input was along the axis. */
export const Concat = defineVariadicRule('Concat', 'inputs', (ctx) => {
  const { b, node, inputs } = ctx;
  const axis = attrInt(node, 'axis', 0);
  const sizes = b.op(
    'Concat',
    inputs.map((x) => b.dim(x, axis)),
    { axis: 0 },
  );
  const g = dy0(ctx);
  const parts = b.emit('Split', [g, sizes], inputs.length, { axis }, { elemType: b.type(g).elemType });
  return parts.map((p, i) => (ctx.needs(i) ? p : null));
});

/** The outputs' adjoints are concatenated; outputs without one contribute zeros. */
export const Split = defineRule('Split', ['input', 'split'], (ctx) => {
  const { b, node, outputs, dy } = ctx;
  const axis = attrInt(node, 'axis', 0);
  const pieces = outputs.map((y, k) => dy[k] ?? b.zerosLike(y));
  return { input: b.op('Concat', pieces, { axis }) };
});
