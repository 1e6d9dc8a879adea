/**
 * A view over an ONNX GraphProto for editing: who produces and consumes each value, topological
 * order, collision-free names, exposing intermediate values as outputs, and pruning. The proto
 * stays the single source of truth; indexes are rebuilt when the graph changes.
 */
import {
  DataType,
  create,
  NodeProtoSchema,
  attributesFrom,
  describeValueInfo,
  valueInfo,
  type Attrs,
  type Dim,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type ValueInfoProto,
} from './proto.ts';

export class GraphError extends Error {}

export class Graph {
  private producerIndex?: Map<string, NodeProto>;
  private consumerIndex?: Map<string, NodeProto[]>;
  private names?: Set<string>;

  constructor(readonly proto: GraphProto) {}

  static of(model: ModelProto): Graph {
    if (!model.graph) throw new GraphError('model has no graph');
    return new Graph(model.graph);
  }

  /** Drops the indexes after the node or value lists were changed directly. */
  invalidate(): void {
    this.producerIndex = undefined;
    this.consumerIndex = undefined;
    this.names = undefined;
  }

  get nodes(): NodeProto[] {
    return this.proto.node;
  }

  inputNames(): string[] {
    return this.proto.input.map((i) => i.name);
  }

  outputNames(): string[] {
    return this.proto.output.map((o) => o.name);
  }

  isInitializer(name: string): boolean {
    return this.proto.initializer.some((t) => t.name === name);
  }

  producer(name: string): NodeProto | undefined {
    if (!this.producerIndex) {
      this.producerIndex = new Map();
      for (const n of this.proto.node) for (const o of n.output) if (o) this.producerIndex.set(o, n);
    }
    return this.producerIndex.get(name);
  }

  consumers(name: string): NodeProto[] {
    if (!this.consumerIndex) {
      this.consumerIndex = new Map();
      for (const n of this.proto.node) {
        for (const i of new Set(n.input)) {
          if (!i) continue;
          const list = this.consumerIndex.get(i) ?? [];
          list.push(n);
          this.consumerIndex.set(i, list);
        }
      }
    }
    return this.consumerIndex.get(name) ?? [];
  }

  /** Every value and node name in use (graph inputs, initializers, node outputs, node names). */
  private usedNames(): Set<string> {
    if (!this.names) {
      this.names = new Set([...this.inputNames(), ...this.proto.initializer.map((t) => t.name)]);
      for (const n of this.proto.node) {
        if (n.name) this.names.add(n.name);
        for (const o of n.output) if (o) this.names.add(o);
      }
    }
    return this.names;
  }

  hasValue(name: string): boolean {
    return this.producer(name) !== undefined || this.inputNames().includes(name) || this.isInitializer(name);
  }

  /** A name not yet used by any value or node, derived from `base`; reserved on return. */
  uniqueName(base: string): string {
    const used = this.usedNames();
    let name = base;
    for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  }

  /** Appends a node; its outputs get fresh names derived from `outputBases`. */
  addNode(opType: string, inputs: string[], outputBases: string[], attrs?: Attrs, nameBase = opType): NodeProto {
    const node = create(NodeProtoSchema, {
      opType,
      name: this.uniqueName(nameBase),
      input: inputs,
      output: outputBases.map((b) => this.uniqueName(b)),
      attribute: attributesFrom(attrs),
    });
    this.proto.node.push(node);
    this.producerIndex = undefined;
    this.consumerIndex = undefined;
    return node;
  }

  /** Nodes in an order where every node comes after the producers of its inputs. */
  topologicalOrder(): NodeProto[] {
    const available = new Set([...this.inputNames(), ...this.proto.initializer.map((t) => t.name), '']);
    const pending = new Map<NodeProto, number>();
    const waiting = new Map<string, NodeProto[]>();
    const ready: NodeProto[] = [];
    for (const n of this.proto.node) {
      const missing = new Set(n.input.filter((i) => !available.has(i) && this.producer(i) !== undefined));
      pending.set(n, missing.size);
      if (missing.size === 0) ready.push(n);
      for (const i of missing) {
        const list = waiting.get(i) ?? [];
        list.push(n);
        waiting.set(i, list);
      }
    }
    const order: NodeProto[] = [];
    for (let next = 0; next < ready.length; next++) {
      const n = ready[next]!;
      order.push(n);
      for (const o of n.output) {
        for (const c of waiting.get(o) ?? []) {
          const left = pending.get(c)! - 1;
          pending.set(c, left);
          if (left === 0) ready.push(c);
        }
        waiting.delete(o);
      }
    }
    if (order.length !== this.proto.node.length) {
      const placed = new Set(order);
      const stuck = this.proto.node.find((n) => !placed.has(n));
      throw new GraphError(`graph has a cycle (node '${stuck?.name}' can never run)`);
    }
    return order;
  }

  /** The declared type of a value, from graph inputs, outputs, value_info or initializers. */
  declaredType(name: string): { elemType?: DataType; dims?: Dim[] } {
    const info = [...this.proto.input, ...this.proto.output, ...this.proto.valueInfo].find((v) => v.name === name);
    if (info) return describeValueInfo(info);
    const init = this.proto.initializer.find((t) => t.name === name);
    if (init) return { elemType: init.dataType as DataType, dims: init.dims.map(Number) };
    return {};
  }

  /** Adds a graph input. */
  addInput(name: string, elemType: DataType, dims?: Dim[]): void {
    if (this.hasValue(name)) throw new GraphError(`the graph already has a value named '${name}'`);
    this.proto.input.push(valueInfo(name, elemType, dims));
    this.usedNames().add(name);
  }

  /** Makes `name` a graph output (no-op if it already is one). */
  addOutput(name: string, type?: { elemType?: DataType; dims?: Dim[] }): void {
    if (!this.hasValue(name)) throw new GraphError(`no value named '${name}' in the graph`);
    if (this.outputNames().includes(name)) return;
    const t = type ?? this.declaredType(name);
    this.proto.output.push(outputInfo(name, t));
  }

  /** Removes every node, initializer and input that none of `outputs` needs. */
  prune(outputs: string[] = this.outputNames(), { keepInputs = true } = {}): void {
    const needed = new Set<string>();
    const stack = [...outputs];
    const keepNodes = new Set<NodeProto>();
    while (stack.length) {
      const v = stack.pop()!;
      if (needed.has(v)) continue;
      needed.add(v);
      const p = this.producer(v);
      if (p && !keepNodes.has(p)) {
        keepNodes.add(p);
        stack.push(...p.input.filter(Boolean), ...subgraphReferences(p));
      }
    }
    this.proto.node = this.proto.node.filter((n) => keepNodes.has(n));
    this.proto.initializer = this.proto.initializer.filter((t) => needed.has(t.name));
    if (!keepInputs) this.proto.input = this.proto.input.filter((i) => needed.has(i.name));
    this.proto.output = this.proto.output.filter((o) => outputs.includes(o.name));
    for (const o of outputs) if (!this.outputNames().includes(o)) this.addOutput(o);
    this.proto.valueInfo = this.proto.valueInfo.filter((v) => needed.has(v.name));
    this.invalidate();
  }
}

function outputInfo(name: string, t: { elemType?: DataType; dims?: Dim[] }): ValueInfoProto {
  return valueInfo(name, t.elemType ?? DataType.UNDEFINED, t.dims);
}

/** Names a node's subgraphs (If/Loop/Scan bodies) read from the enclosing scope. */
function subgraphReferences(node: NodeProto): string[] {
  const refs: string[] = [];
  for (const a of node.attribute) {
    for (const g of [a.g, ...a.graphs]) {
      if (!g) continue;
      const local = new Set([...g.input.map((i) => i.name), ...g.initializer.map((t) => t.name), ...g.node.flatMap((n) => n.output)]);
      for (const n of g.node) {
        for (const i of [...n.input, ...subgraphReferences(n)]) if (i && !local.has(i)) refs.push(i);
      }
    }
  }
  return refs;
}

/** The default-domain opset a model imports. */
export function opsetVersion(model: ModelProto, domain = ''): number {
  const entry = model.opsetImport.find((o) => o.domain === domain || (domain === '' && o.domain === 'ai.onnx'));
  if (!entry) throw new GraphError(`model imports no opset for domain '${domain || 'ai.onnx'}'`);
  return Number(entry.version);
}
