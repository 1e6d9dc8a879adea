/**
 * Emits ONNX nodes into a graph the way one writes formulas: `b.mul(dy, b.exp(x))`, tracking the
 * type of every value it makes. The VJP rules (autodiff/) write gradient graphs with it and the
 * methods write their loss graphs with it (guidance/, methods/). Every emitted op is a standard ONNX
 * op of the default domain, and every shape is read at run time (`b.shape(x)`) unless it is known
 * statically.
 */
import type { Graph } from './graph.ts';
import { DataType, create, NodeProtoSchema, attributesFrom, dataTypeName, makeTensor, type AttributeProto, type Attrs, type NodeProto } from './proto.ts';
import { inferNodeTypes, type GraphTypes, type ValueType } from './type-inference.ts';

/** A value whose type the builder needs is not known statically. */
export class GraphBuildError extends Error {}

export class GraphBuilder {
  /** Nodes emitted so far, in execution order. */
  readonly nodes: NodeProto[] = [];
  /** The lowest default-domain opset the emitted ops need. */
  requiredOpset = 0;
  private scope = 'grad';
  private readonly shapes = new Map<string, string>();
  private readonly constants = new Map<string, string>();

  constructor(
    private readonly graph: Graph,
    private readonly typeInfo: GraphTypes,
    readonly opset: number,
  ) {}

  /** Prefixes the names of the nodes emitted from now on (e.g. `grad/<forward node>`, `infsplign_loss`). */
  enter(scope: string): void {
    this.scope = scope.replace(/^\//, '');
  }

  type(value: string): ValueType {
    return this.typeInfo.types.get(value) ?? {};
  }

  dtype(value: string): DataType {
    const t = this.type(value).elemType;
    if (t === undefined) throw new GraphBuildError(`element type of '${value}' is unknown`);
    return t;
  }

  rank(value: string): number | undefined {
    return this.type(value).dims?.length;
  }

  /** Rank of a value, or an error naming the rule that needs it. */
  requireRank(value: string, why: string): number {
    const r = this.rank(value);
    if (r === undefined) throw new GraphBuildError(`${why} needs the rank of '${value}', which cannot be inferred statically`);
    return r;
  }

  /** The value of a small constant tensor, when every element is a known number. */
  constantValues(value: string): number[] | undefined {
    const v = this.typeInfo.constants.get(value);
    return v && v.every((d) => typeof d === 'number') ? (v as number[]) : undefined;
  }

  requireOpset(version: number): void {
    this.requiredOpset = Math.max(this.requiredOpset, version);
  }

  /** Records that `value` has the type of `like` (an adjoint has the shape of its primal). */
  assumeTypeOf(value: string, like: string): void {
    const t = this.type(value);
    if (!t.dims) this.record(value, { elemType: t.elemType ?? this.type(like).elemType, dims: this.type(like).dims });
  }

  private record(name: string, t: ValueType): void {
    this.typeInfo.types.set(name, t);
  }

  /** Emits one node and returns its outputs; `outType` records the outputs' type for later rules. */
  emit(opType: string, inputs: string[], outputs: number, attrs?: Attrs | AttributeProto[], outType?: ValueType): string[] {
    const name = this.graph.uniqueName(`/${this.scope}/${opType}`);
    const out = Array.from({ length: outputs }, (_, k) => this.graph.uniqueName(`${name}_output_${k}`));
    const attribute = Array.isArray(attrs) ? attrs : attributesFrom(attrs);
    const node = create(NodeProtoSchema, { opType, name, input: inputs, output: out, attribute });
    this.nodes.push(node);
    inferNodeTypes(node, this.typeInfo);
    if (outType) {
      for (const o of out) {
        const inferred = this.type(o);
        this.record(o, { elemType: inferred.elemType ?? outType.elemType, dims: inferred.dims ?? outType.dims });
      }
    }
    return out;
  }

  /** Emits a single-output op whose result has the element type of its first input (or `elemType`). */
  op(opType: string, inputs: string[], attrs?: Attrs, elemType?: DataType): string {
    return this.emit(opType, inputs, 1, attrs, { elemType: elemType ?? this.type(inputs[0]!).elemType })[0]!;
  }

  // ---- constants ----

  /** An initializer holding `values`, shared by every caller that asks for the same constant. */
  constantTensor(t: DataType, dims: number[], values: number[]): string {
    const key = `${dataTypeName(t)}[${dims.join(',')}]:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.graph.uniqueName(
        `/const/${dataTypeName(t)}_${values
          .join('_')
          .slice(0, 40)
          .replace(/[^\w.-]/g, 'm')}`,
      );
      this.graph.proto.initializer.push(makeTensor(name, t, dims, values));
      this.constants.set(key, name);
      this.record(name, { elemType: t, dims });
      this.typeInfo.constants.set(name, values);
    }
    return name;
  }

  /** A scalar of the element type of `like`. */
  scalar(value: number, like: string): string {
    return this.constantTensor(this.dtype(like), [], [value]);
  }

  /** A 1-D int64 constant (shapes, axes, indices). */
  ints(values: number[]): string {
    return this.constantTensor(DataType.INT64, [values.length], values);
  }

  /** A 0-D int64 constant. */
  int(value: number): string {
    return this.constantTensor(DataType.INT64, [], [value]);
  }

  // ---- shapes ----

  /** The run-time shape of a value (one Shape node per value). */
  shape(value: string): string {
    let s = this.shapes.get(value);
    if (!s) {
      s = this.emit('Shape', [value], 1, undefined, { elemType: DataType.INT64, dims: [this.rank(value) ?? null] })[0]!;
      this.shapes.set(value, s);
    }
    return s;
  }

  /** Dimension `axis` of a value as a 1-element int64 tensor. */
  dim(value: string, axis: number): string {
    const d = this.type(value).dims?.[axis < 0 ? axis + (this.rank(value) ?? 0) : axis];
    if (typeof d === 'number') return this.ints([d]);
    return this.emit('Slice', [this.shape(value), this.ints([axis]), this.ints([axis === -1 ? Number.MAX_SAFE_INTEGER : axis + 1])], 1, undefined, {
      elemType: DataType.INT64,
      dims: [1],
    })[0]!;
  }

  /** A tensor of zeros of element type `t` whose shape is the run-time value `shape`. */
  zerosOfShape(shape: string, t: DataType): string {
    return this.emit('ConstantOfShape', [shape], 1, { value: makeTensor('value', t, [1], [0]) }, { elemType: t })[0]!;
  }

  /** A tensor of zeros with the shape and element type of `like`. */
  zerosLike(like: string): string {
    const z = this.zerosOfShape(this.shape(like), this.dtype(like));
    this.record(z, this.type(like));
    return z;
  }

  reshape(x: string, shape: string): string {
    return this.op('Reshape', [x, shape]);
  }

  reshapeLike(x: string, like: string): string {
    return this.emit('Reshape', [x, this.shape(like)], 1, undefined, { elemType: this.type(x).elemType, dims: this.type(like).dims })[0]!;
  }

  // ---- arithmetic ----

  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }
  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }
  neg(a: string): string {
    return this.op('Neg', [a]);
  }
  exp(a: string): string {
    return this.op('Exp', [a]);
  }
  log(a: string): string {
    return this.op('Log', [a]);
  }
  sqrt(a: string): string {
    return this.op('Sqrt', [a]);
  }
  reciprocal(a: string): string {
    return this.op('Reciprocal', [a]);
  }

  /** Keeps `a` where `condition` holds and zero elsewhere. */
  maskWhere(condition: string, a: string): string {
    return this.op('Where', [condition, a, this.scalar(0, a)], undefined, this.dtype(a));
  }

  /** Sum of several contributions (one Sum node; the value itself when there is one). */
  sum(values: string[]): string {
    return values.length === 1 ? values[0]! : this.op('Sum', values);
  }

  /** ReduceSum over `axes` (axes as an input, opset 13+). */
  reduceSum(x: string, axes: number[] | string, keepdims: boolean): string {
    const axesInput = typeof axes === 'string' ? axes : this.ints(axes);
    return this.emit('ReduceSum', [x, axesInput], 1, { keepdims: keepdims ? 1 : 0 }, { elemType: this.type(x).elemType })[0]!;
  }

  /** ReduceMean over `axes`, in the form the model's opset accepts. */
  reduceMean(x: string, axes: number[], keepdims: boolean): string {
    return this.reduceOver('ReduceMean', x, axes, keepdims);
  }

  /** ReduceMax over `axes`, in the form the model's opset accepts. */
  reduceMax(x: string, axes: number[], keepdims: boolean): string {
    return this.reduceOver('ReduceMax', x, axes, keepdims);
  }

  /** A reduction whose axes are an attribute before opset 18 and an input from then on. */
  private reduceOver(op: 'ReduceMean' | 'ReduceMax', x: string, axes: number[], keepdims: boolean): string {
    const t = { elemType: this.type(x).elemType };
    if (this.opset >= 18) return this.emit(op, [x, this.ints(axes)], 1, { keepdims: keepdims ? 1 : 0 }, t)[0]!;
    return this.emit(op, [x], 1, { axes, keepdims: keepdims ? 1 : 0 }, t)[0]!;
  }

  /** Swaps the last two axes (Einsum handles unknown ranks). */
  transposeLastTwo(x: string): string {
    const r = this.rank(x);
    if (r === undefined) return this.op('Einsum', [x], { equation: '...ij->...ji' });
    const perm = [...Array(r).keys()];
    [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
    const dims = this.type(x).dims!;
    return this.emit('Transpose', [x], 1, { perm }, { elemType: this.type(x).elemType, dims: perm.map((p) => dims[p]!) })[0]!;
  }

  /**
   * Whether x already has the broadcast shape of an elementwise op with these other operands:
   * each is of lower or equal rank with, per aligned axis, size 1 or x's own (same number or
   * symbol). Then the output, and so its adjoint, has x's shape, whatever the run-time sizes.
   */
  private coversPeers(x: string, peers: readonly string[]): boolean {
    const xd = this.type(x).dims;
    if (!xd) return false;
    return peers.every((peer) => {
      const pd = this.type(peer).dims;
      return pd !== undefined && pd.length <= xd.length && pd.every((d, k) => d === 1 || (d !== null && d === xd[xd.length - pd.length + k]));
    });
  }

  /**
   * Sums a broadcast gradient `g` back to the shape of the operand `x` it was broadcast from:
   * leading axes that `x` lacks, and axes where `x` has size 1, are summed away. Static shapes
   * decide it at build time; otherwise the axes are found at run time.
   */
  unbroadcast(g: string, x: string, peers: readonly string[] = []): string {
    if (peers.length > 0 && this.coversPeers(x, peers)) return g;
    const gd = this.type(g).dims;
    const xd = this.type(x).dims;
    if (gd && xd && gd.length >= xd.length) {
      const lead = gd.length - xd.length;
      // An axis is decided when x's size there is a known number or the same symbol as g's.
      const decided = xd.every((d, k) => typeof d === 'number' || (d !== null && d === gd[k + lead]));
      if (decided) {
        const axes = [...Array(lead).keys()];
        xd.forEach((d, k) => {
          if (d === 1 && gd[k + lead] !== 1) axes.push(k + lead);
        });
        if (axes.length === 0) return g;
        const summed = this.reduceSum(g, axes, true);
        return lead > 0 ? this.reshapeLike(summed, x) : summed;
      }
    }
    // Run time: sum every axis where x (padded with leading ones to g's rank) has size 1.
    const xShape = this.shape(x);
    const ones = this.op('Equal', [xShape, this.ints([1])], undefined, DataType.BOOL);
    const positions = this.op('Reshape', [this.op('NonZero', [ones], undefined, DataType.INT64), this.ints([-1])]);
    let axes: string;
    if (gd && xd) {
      const lead = gd.length - xd.length;
      axes = lead > 0 ? this.op('Concat', [this.ints([...Array(lead).keys()]), this.add(positions, this.ints([lead]))], { axis: 0 }) : positions;
    } else {
      const lead = this.op('Sub', [this.op('Size', [this.shape(g)], undefined, DataType.INT64), this.op('Size', [xShape], undefined, DataType.INT64)]);
      const leading = this.op('Range', [this.int(0), lead, this.int(1)]);
      axes = this.op('Concat', [leading, this.add(positions, lead)], { axis: 0 });
    }
    const summed = this.emit('ReduceSum', [g, axes], 1, { keepdims: 1, noop_with_empty_axes: 1 }, { elemType: this.type(g).elemType, dims: gd })[0]!;
    if (gd && xd && gd.length === xd.length) return summed;
    return this.reshapeLike(summed, x);
  }
}
