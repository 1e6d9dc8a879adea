/** Pad (constant mode): the adjoint is dy with the padding cut away, i.e. Pad with negated pads. */
import { attrInts, attrString } from '../../proto.ts';
import { GradientError } from '../builder.ts';
import { dy0, type GradientRule } from '../rule.ts';

export const Pad: GradientRule = {
  opType: 'Pad',
  vjp: (ctx) => {
    const { b, node, inputs: [, pads, , axes] } = ctx;
    const mode = attrString(node, 'mode', 'constant');
    if (mode !== 'constant') throw new GradientError(`Pad '${node.name}': mode '${mode}' has no gradient rule (only constant padding)`);
    // Negative pads crop, so padding by -pads crops the padding off and re-pads what was cropped with zeros.
    const negated = pads ? b.op('Neg', [pads]) : b.ints((attrInts(node, 'pads') ?? []).map((p) => -p));
    const inputs = [dy0(ctx), negated, b.scalar(0, dy0(ctx))];
    if (axes) inputs.push(axes);
    return [b.op('Pad', inputs, { mode: 'constant' })];
  },
};
