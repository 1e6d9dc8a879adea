import type { GradBuilder } from './builder.ts';
import { GradientError } from './builder.ts';
import type { NodeProto } from '../proto.ts';

/** What a vector-Jacobian-product rule sees of one forward node. */
export interface VjpContext {
  node: NodeProto;
  /** Forward input names (optional inputs may be ''). */
  inputs: string[];
  /** Forward output names. */
  outputs: string[];
  /** The adjoint of each output, or null where no gradient flows back into it. */
  dy: Array<string | null>;
  /** Whether input `i` lies on a differentiable path and needs its adjoint. */
  needs(i: number): boolean;
  b: GradBuilder;
  opset: number;
}

/** Returns the adjoint of each input (null or undefined where none is needed or it is zero). */
export type VjpRule = (ctx: VjpContext) => Array<string | null | undefined>;

export interface GradientRule {
  opType: string;
  vjp: VjpRule;
}

/** The adjoint of output 0, which single-output rules may rely on. */
export function dy0(ctx: VjpContext): string {
  const g = ctx.dy[0];
  if (!g) throw new GradientError(`${ctx.node.opType} '${ctx.node.name}': no adjoint for its output`);
  return g;
}

/**
 * The adjoint of operand i of a broadcasting elementwise op, given the contribution `g` (shaped
 * like the op's output): summed back to the operand's shape where it was broadcast.
 */
export function operandAdjoint(ctx: VjpContext, i: number, g: string): string {
  const others = ctx.inputs.filter((name, j) => j !== i && name !== '');
  return ctx.b.unbroadcast(g, ctx.inputs[i]!, others);
}
