/** Pad (constant mode): the adjoint is dy with the padding cut away, i.e. Pad with negated pads. */
import { attrString } from '../../proto.ts';
import { GradientError } from '../builder.ts';
import { dy0, type GradientRule } from '../rule.ts';

export const Pad: GradientRule = {
  opType: 'Pad',
  vjp: (ctx) => {
    const { b, node, inputs: [, pads, value, axes] } = ctx;
    const mode = attrString(node, 'mode', 'constant');
    if (mode !== 'constant') throw new GradientError(`Pad '${node.name}': mode '${mode}' has no gradient rule (only constant padding)`);
    const g = dy0(ctx);
    // Negative pads crop, so padding by -pads crops the padding off and re-pads what was cropped with zeros.
    const dx = b.op('Pad', [g, b.op('Neg', [pads!]), b.scalar(0, g), ...(axes ? [axes] : [])], { mode: 'constant' });
    // The padding value fills every position of y that dx does not take from dy.
    const dvalue = value && ctx.needs(2) ? b.sub(b.reduceSum(g, [], false), b.reduceSum(dx, [], false)) : null;
    return [dx, null, dvalue];
  },
};
