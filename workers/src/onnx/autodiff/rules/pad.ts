/**
 * Pad. Constant mode: the adjoint is dy with the padding cut away (Pad with negated pads), and the
 * padding value gets what lies in the padding. Reflect, edge and wrap modes copy input elements
 * into the padding, so each output element comes from exactly one input element: the adjoint adds
 * every dy element into the element it came from. Which one is found by padding a tensor of flat
 * indices with the very same node settings, so every mode, negative pad and axes list behaves
 * exactly as in the forward op.
 */
import { DataType, attrString } from '../../proto.ts';
import { defineRule, dy0 } from '../rule.ts';

export const Pad = defineRule('Pad', ['data', 'pads', 'constant_value', 'axes'], (ctx) => {
  const {
    b,
    node,
    input: { data: x, pads, constant_value: value, axes },
  } = ctx;
  const mode = attrString(node, 'mode', 'constant');
  const g = dy0(ctx);
  if (mode === 'constant') {
    // Negative pads crop, so padding by -pads crops the padding off and re-pads what was cropped with zeros.
    const dx = b.op('Pad', [g, b.op('Neg', [pads!]), b.scalar(0, g), ...(axes ? [axes] : [])], { mode: 'constant' });
    // The padding value fills every position of y that dx does not take from dy.
    const dvalue = value && ctx.needs('constant_value') ? b.sub(b.reduceSum(g, [], false), b.reduceSum(dx, [], false)) : null;
    return { data: dx, constant_value: dvalue };
  }
  b.requireOpset(16); // ScatterElements with reduction
  const count = b.op('Size', [x!], undefined, DataType.INT64);
  const flatIndex = b.reshape(b.op('Range', [b.int(0), count, b.int(1)], undefined, DataType.INT64), b.shape(x!));
  const source = b.op('Pad', [flatIndex, pads!, '', ...(axes ? [axes] : [])], { mode }, DataType.INT64);
  const zeros = b.zerosOfShape(b.op('Unsqueeze', [count, b.ints([0])], undefined, DataType.INT64), b.dtype(x!));
  const summed = b.op('ScatterElements', [zeros, b.reshape(source, b.ints([-1])), b.reshape(g, b.ints([-1]))], { axis: 0, reduction: 'add' });
  return { data: b.reshapeLike(summed, x!) };
});
