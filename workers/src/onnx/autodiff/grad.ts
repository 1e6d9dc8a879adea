/**
 * Reverse-mode differentiation of an ONNX graph, graph to graph: the result computes everything
 * the model computed plus `grad_<wrt>` outputs, using standard ONNX ops only.
 */
import { Graph, opsetVersion } from '../graph.ts';
import { DataType, NodeProtoSchema, create, dataTypeName, isFloatType, shallowCopy, valueInfo, type ModelProto, type NodeProto } from '../proto.ts';
import { inferTypes } from '../type-inference.ts';
import { GraphBuildError, GraphBuilder } from '../graph-builder.ts';
import { GRADIENT_RULES, NON_DIFFERENTIABLE } from './registry.ts';
import { GradientError, type VjpContext } from './rule.ts';

export { GradientError };

/** The oldest opset whose semantics the rules are written for (Softmax axis, axes as inputs). */
export const MIN_OPSET = 13;
/**
 * Some rules need ops of a newer opset (ScatterND with reduction: 16). Between 13 and 17 the only
 * default-domain op whose existing behaviour changed is RoiAlign (its default coordinate mode,
 * at 16), so a model without it can have its opset raised up to 17 without changing its meaning.
 */
const MAX_BUMP = 17;
const CHANGED_BEFORE_MAX_BUMP = new Set(['RoiAlign']);

export interface GradResult {
  model: ModelProto;
  /** Output names of the gradients, in the order of `wrt`. */
  gradients: string[];
  /** The seed input added when `of` is not a scalar, or null. */
  seed: string | null;
}

/** A copy of the model whose graph lists can be extended without touching the original. */
function extensibleCopy(model: ModelProto): ModelProto {
  const g = model.graph!;
  const graph = shallowCopy(g, { node: [...g.node], initializer: [...g.initializer], input: [...g.input], output: [...g.output], valueInfo: [...g.valueInfo] });
  return shallowCopy(model, { graph, opsetImport: model.opsetImport.map((o) => shallowCopy(o, {})) });
}

/** Values that depend on `wrt` through float tensors and that `of` depends on. */
function activeValues(graph: Graph, order: NodeProto[], of: string, wrt: string[], isFloat: (v: string) => boolean): Set<string> {
  const forward = new Set(wrt);
  for (const n of order) {
    if (n.input.some((i) => forward.has(i))) for (const o of n.output) if (o && isFloat(o)) forward.add(o);
  }
  const backward = new Set([of]);
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    if (n.output.some((o) => backward.has(o))) for (const i of n.input) if (i) backward.add(i);
  }
  return new Set([...forward].filter((v) => backward.has(v)));
}

export function grad(source: ModelProto, of: string, wrt: string[]): GradResult {
  if (!source.graph) throw new GradientError('model has no graph');
  const opset = opsetVersion(source);
  if (opset < MIN_OPSET)
    throw new GradientError(`model opset ${opset} is older than ${MIN_OPSET}, the oldest the gradient rules support; re-export at opset ${MIN_OPSET} to 21`);
  const model = extensibleCopy(source);
  const graph = Graph.of(model);
  const types = inferTypes(graph);
  const typeOf = (v: string) => types.types.get(v)?.elemType;

  if (!graph.hasValue(of)) throw new GradientError(`--of '${of}' is not a value of the graph (outputs: ${graph.outputNames().join(', ')})`);
  if (!isFloatType(typeOf(of)))
    throw new GradientError(`--of '${of}' has type ${dataTypeName(typeOf(of) ?? DataType.UNDEFINED)}; only float tensors can be differentiated`);
  if (wrt.length === 0) throw new GradientError('no --wrt value given');
  for (const w of wrt) {
    if (!graph.hasValue(w)) throw new GradientError(`--wrt '${w}' is not a value of the graph (inputs: ${graph.inputNames().join(', ')})`);
    const t = typeOf(w);
    if (!isFloatType(t)) throw new GradientError(`--wrt '${w}' has type ${dataTypeName(t ?? DataType.UNDEFINED)}; gradients exist only for float tensors`);
    if (graph.hasValue(`grad_${w}`)) throw new GradientError(`the graph already has a value named 'grad_${w}'`);
  }

  const order = graph.topologicalOrder();
  // Values of unknown type are treated as float: a custom op's output may carry gradient.
  const active = activeValues(graph, order, of, wrt, (v) => typeOf(v) === undefined || isFloatType(typeOf(v)));
  const b = new GraphBuilder(graph, types, opset);

  const contributions = new Map<string, string[]>();
  const contribute = (value: string, adjoint: string) => {
    const list = contributions.get(value) ?? [];
    list.push(adjoint);
    contributions.set(value, list);
  };
  const adjointOf = (value: string): string | null => {
    const list = contributions.get(value);
    if (!list?.length) return null;
    const total = b.sum(list);
    b.assumeTypeOf(total, value);
    contributions.set(value, [total]);
    return total;
  };

  let seed: string | null = null;
  const ofType = types.types.get(of);
  if (ofType?.dims?.length === 0) contribute(of, b.scalar(1, of));
  else {
    seed = graph.uniqueName(`seed_${of}`);
    model.graph!.input.push(valueInfo(seed, typeOf(of)!, ofType?.dims));
    types.types.set(seed, { elemType: typeOf(of), dims: ofType?.dims });
    contribute(of, seed);
  }

  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k]!;
    if (!node.input.some((i) => active.has(i))) continue;
    const dy = node.output.map((o) => (active.has(o) ? adjointOf(o) : null));
    if (dy.every((g) => g === null)) continue;
    if (NON_DIFFERENTIABLE.has(node.opType)) continue;
    const rule = node.domain && node.domain !== 'ai.onnx' ? undefined : GRADIENT_RULES.get(node.opType);
    if (!rule) {
      const domain = node.domain ? `${node.domain}.` : '';
      throw new GradientError(
        `no gradient rule for op ${domain}${node.opType} (node '${node.name}', opset ${opset}) on the path from '${wrt.join("', '")}' to '${of}'`,
      );
    }
    b.enter(`grad/${(node.name || node.opType).replace(/^\//, '')}`);
    const ctx: VjpContext = {
      node,
      input: {},
      inputs: node.input,
      outputs: node.output,
      dy,
      needs: (i) => active.has(node.input[i as number] ?? ''),
      b,
      opset,
    };
    let dx: ReturnType<typeof rule.vjp>;
    try {
      dx = rule.vjp(ctx);
    } catch (err) {
      if (err instanceof GraphBuildError) throw new GradientError(`${node.opType} '${node.name}': ${err.message}`);
      throw err;
    }
    node.input.forEach((input, i) => {
      const d = dx[i];
      if (d && active.has(input)) contribute(input, d);
    });
  }

  const gradients: string[] = [];
  for (const w of wrt) {
    b.enter(`grad/grad_${w}`);
    const total = adjointOf(w) ?? b.zerosLike(w);
    const name = `grad_${w}`;
    b.nodes.push(create(NodeProtoSchema, { opType: 'Identity', name: graph.uniqueName(`/grad/${name}`), input: [total], output: [name] }));
    const t = graph.declaredType(w);
    model.graph!.output.push(valueInfo(name, typeOf(w)!, t.dims ?? types.types.get(w)?.dims));
    gradients.push(name);
  }

  model.graph!.node.push(...b.nodes);
  if (b.requiredOpset > opset) bumpOpset(model, b.requiredOpset, b.nodes);
  return { model, gradients, seed };
}

function bumpOpset(model: ModelProto, version: number, why: NodeProto[]): void {
  const needing = why.find((n) => n.opType === 'ScatterND' || n.opType === 'ScatterElements')?.name ?? 'a gradient node';
  const blocker = model.graph!.node.find((n) => CHANGED_BEFORE_MAX_BUMP.has(n.opType));
  if (version > MAX_BUMP || blocker) {
    throw new GradientError(
      `the gradient needs opset ${version} (for ${needing}) and the model's opset cannot be raised${blocker ? ` (its ${blocker.opType} '${blocker.name}' changed meaning)` : ''}; re-export at opset ${version} or later`,
    );
  }
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')!;
  entry.version = BigInt(version);
}
