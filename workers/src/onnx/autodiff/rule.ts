/**
 * What a vector-Jacobian-product rule is: for one op type, the adjoints of the op's inputs given the
 * adjoints of its outputs, written with the graph builder. A rule names the op's inputs as the ONNX
 * operator's definition names them and returns each adjoint under that name (`{ A: ..., B: ... }`),
 * so a rule reads like its formula and an adjoint cannot land on the wrong input. Variadic ops (Sum,
 * Max, Min, Concat) return their adjoints by position.
 */
import { GraphBuildError, type GraphBuilder } from '../graph-builder.ts';
import type { NodeProto } from '../proto.ts';

/** A node cannot be differentiated (no rule, an unsupported attribute, an unknown rank). */
export class GradientError extends GraphBuildError {}

/** What a rule sees of one forward node; `N` are the op's input names. */
export interface VjpContext<N extends string = string> {
  node: NodeProto;
  /** Forward inputs by name; an optional input left out is undefined. */
  input: Readonly<Record<N, string | undefined>>;
  /** Forward inputs by position (optional inputs may be ''), for variadic ops. */
  inputs: string[];
  /** Forward output names. */
  outputs: string[];
  /** The adjoint of each output, or null where no gradient flows back into it. */
  dy: Array<string | null>;
  /** Whether an input (by name, or by position for variadic ops) lies on a differentiable path and needs its adjoint. */
  needs(input: N | number): boolean;
  b: GraphBuilder;
  opset: number;
}

/** Adjoints by input name (null or absent where none is needed or it is zero). */
export type Adjoints<N extends string> = Partial<Record<N, string | null>>;

/** The form grad.ts applies: adjoints by input position. */
export interface GradientRule {
  opType: string;
  /** The op's input names, in order (a variadic op: its one name). */
  inputNames: readonly string[];
  variadic: boolean;
  vjp(ctx: VjpContext): Array<string | null | undefined>;
}

/** Inputs by name, from a node's positional inputs ('' and missing ones undefined). */
function byName<N extends string>(names: readonly N[], inputs: readonly string[]): Record<N, string | undefined> {
  return Object.fromEntries(names.map((name, i) => [name, inputs[i] || undefined])) as Record<N, string | undefined>;
}

/** A rule for an op with fixed inputs, `names` as the ONNX operator's definition gives them. */
export function defineRule<const N extends string>(opType: string, names: readonly N[], vjp: (ctx: VjpContext<N>) => Adjoints<N>): GradientRule {
  return {
    opType,
    inputNames: names,
    variadic: false,
    vjp: (ctx) => {
      const adjoints = vjp({ ...ctx, input: byName(names, ctx.inputs), needs: (input) => ctx.needs(typeof input === 'number' ? input : names.indexOf(input)) });
      return names.map((name) => adjoints[name]);
    },
  };
}

/** A rule for a variadic op, whose inputs share one name: adjoints by position. */
export function defineVariadicRule(opType: string, name: string, vjp: (ctx: VjpContext) => Array<string | null | undefined>): GradientRule {
  return { opType, inputNames: [name], variadic: true, vjp: (ctx) => vjp(ctx) };
}

/** The adjoint of output 0, which single-output rules may rely on. */
export function dy0(ctx: Pick<VjpContext, 'dy' | 'node'>): string {
  const g = ctx.dy[0];
  if (!g) throw new GradientError(`${ctx.node.opType} '${ctx.node.name}': no adjoint for its output`);
  return g;
}

/**
 * The adjoint of operand `operand` of a broadcasting elementwise op, given the contribution `g`
 * (shaped like the op's output): summed back to the operand's shape where it was broadcast.
 */
export function operandAdjoint(ctx: Pick<VjpContext, 'inputs' | 'b'>, operand: string, g: string): string {
  const others = ctx.inputs.filter((name) => name !== '');
  others.splice(others.indexOf(operand), 1); // one occurrence: in x * x the other operand is x too
  return ctx.b.unbroadcast(g, operand, others);
}
