/**
 * Best-effort element types and shapes of every value in a graph. The differentiator needs element
 * types to tell float paths (which carry gradients) from integer and shape paths, and ranks to
 * write rules whose ONNX needs them (perms of Transpose, axes of reductions). Where a shape cannot
 * be known statically the rank or dims stay unknown and the rules fall back to run-time shapes.
 */
import { Graph } from './graph.ts';
import { DataLocation, DataType, attrInt, attrInts, findAttribute, tensorValues, type Dim, type NodeProto, type TensorProto } from './proto.ts';

export interface ValueType {
  elemType?: DataType;
  /** Length = rank; a dim is a number, a symbol or null (unknown). Undefined: rank unknown. */
  dims?: Dim[];
}

export interface GraphTypes {
  types: Map<string, ValueType>;
  /** Values of small numeric constants (initializers and Constant nodes): shapes, axes, exponents. */
  constants: Map<string, number[]>;
}

const SAME_AS_INPUT = new Set([
  'Abs', 'Neg', 'Exp', 'Log', 'Sqrt', 'Erf', 'Tanh', 'Sigmoid', 'Relu', 'LeakyRelu', 'Softplus', 'Softmax', 'LogSoftmax',
  'Identity', 'Dropout', 'Sin', 'Cos', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sign', 'Clip', 'Elu', 'Selu', 'Celu',
  'HardSigmoid', 'HardSwish', 'Gelu', 'Mish', 'Softsign', 'InstanceNormalization', 'LayerNormalization', 'GroupNormalization',
  'BatchNormalization', 'Trilu', 'CumSum',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'Mod']);
const COMPARISON = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);
const REDUCTIONS = new Set(['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL2', 'ReduceL1', 'ReduceLogSumExp', 'ReduceSumSquare']);

const SMALL_CONSTANT = 64;
const NUMERIC = new Set([DataType.INT64, DataType.INT32, DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16]);

/** Small numeric tensors held in the model itself (not external data), worth knowing by value. */
function isSmallInline(t: TensorProto): boolean {
  return NUMERIC.has(t.dataType) && t.dataLocation !== DataLocation.EXTERNAL && t.dims.reduce((a, d) => a * Number(d), 1) <= SMALL_CONSTANT;
}

function constantTensor(node: NodeProto): TensorProto | undefined {
  return findAttribute(node, 'value')?.t;
}

export function broadcastDims(shapes: Array<Dim[] | undefined>): Dim[] | undefined {
  if (shapes.some((s) => s === undefined)) return undefined;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let k = 0; k < rank; k++) {
    const dims = shapes.map((s) => s![s!.length - rank + k]).filter((d) => d !== undefined) as Dim[];
    const notOne = dims.filter((d) => d !== 1);
    if (notOne.length === 0) out.push(1);
    else if (notOne.every((d) => d === notOne[0]) && notOne[0] !== null) out.push(notOne[0]!);
    else out.push(notOne.find((d) => typeof d === 'number') ?? null);
  }
  return out;
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export function inferTypes(graph: Graph): GraphTypes {
  const types = new Map<string, ValueType>();
  const constants = new Map<string, number[]>();
  for (const name of graph.inputNames()) types.set(name, graph.declaredType(name));
  for (const t of graph.proto.initializer) {
    types.set(t.name, { elemType: t.dataType as DataType, dims: t.dims.map(Number) });
    if (isSmallInline(t)) constants.set(t.name, tensorValues(t));
  }
  for (const v of graph.proto.valueInfo) types.set(v.name, graph.declaredType(v.name));

  const result = { types, constants };
  for (const node of graph.topologicalOrder()) inferNodeTypes(node, result);
  return result;
}

/** Derives the types of one node's outputs from its inputs' (already inferred) types. */
export function inferNodeTypes(node: NodeProto, { types, constants }: GraphTypes): void {
  const get = (name: string | undefined): ValueType => (name ? types.get(name) ?? {} : {});
  const constOf = (name: string | undefined): number[] | undefined => (name ? constants.get(name) : undefined);

  const ins = node.input.map(get);
  const x = ins[0] ?? {};
  const set = (i: number, t: ValueType) => {
    const name = node.output[i];
    if (!name) return;
    const declared = types.get(name);
    // A declared type (value_info) wins over what inference derived, except where it is silent.
    types.set(name, { elemType: declared?.elemType ?? t.elemType, dims: declared?.dims ?? t.dims });
  };
  const op = node.opType;
  if (node.domain && node.domain !== 'ai.onnx') {
    set(0, { elemType: x.elemType });
    return;
  }
  if (SAME_AS_INPUT.has(op)) {
    set(0, x);
    if (op === 'Dropout') set(1, { elemType: DataType.BOOL, dims: x.dims });
  } else if (BROADCAST.has(op)) {
    set(0, { elemType: x.elemType, dims: broadcastDims(ins.map((i) => i.dims)) });
  } else if (COMPARISON.has(op)) {
    set(0, { elemType: DataType.BOOL, dims: broadcastDims(ins.map((i) => i.dims)) });
  } else if (REDUCTIONS.has(op)) {
    const axes = attrInts(node, 'axes') ?? constOf(node.input[1]);
    const keep = attrInt(node, 'keepdims', 1) === 1;
    let dims: Dim[] | undefined;
    if (x.dims) {
      const r = x.dims.length;
      const all = !axes || axes.length === 0;
      const axisSet = new Set((axes ?? []).map((a) => normAxis(a, r)));
      if (all && attrInt(node, 'noop_with_empty_axes', 0) === 1) dims = x.dims;
      else if (keep) dims = x.dims.map((d, k) => (all || axisSet.has(k) ? 1 : d));
      else dims = x.dims.filter((_, k) => !(all || axisSet.has(k)));
    } else if (!keep && (!axes || axes.length === 0)) dims = [];
    set(0, { elemType: x.elemType, dims });
  } else {
    switch (op) {
      case 'Constant': {
        const t = constantTensor(node);
        if (t) {
          set(0, { elemType: t.dataType as DataType, dims: t.dims.map(Number) });
          if (isSmallInline(t)) constants.set(node.output[0]!, tensorValues(t));
        } else if (findAttribute(node, 'value_int')) {
          set(0, { elemType: DataType.INT64, dims: [] });
          constants.set(node.output[0]!, [attrInt(node, 'value_int')!]);
        } else if (findAttribute(node, 'value_ints')) {
          const v = attrInts(node, 'value_ints')!;
          set(0, { elemType: DataType.INT64, dims: [v.length] });
          constants.set(node.output[0]!, v);
        } else if (findAttribute(node, 'value_float')) set(0, { elemType: DataType.FLOAT, dims: [] });
        else if (findAttribute(node, 'value_floats')) set(0, { elemType: DataType.FLOAT, dims: [findAttribute(node, 'value_floats')!.floats.length] });
        break;
      }
      case 'Shape': {
        const r = x.dims?.length;
        let start = attrInt(node, 'start', 0);
        let end = attrInt(node, 'end', r ?? 0);
        if (r !== undefined) {
          start = Math.min(Math.max(normAxis(start, r), 0), r);
          end = Math.min(Math.max(normAxis(end, r), 0), r);
        }
        set(0, { elemType: DataType.INT64, dims: r === undefined ? [null] : [Math.max(end - start, 0)] });
        if (x.dims && x.dims.slice(start, end).every((d) => typeof d === 'number')) constants.set(node.output[0]!, x.dims.slice(start, end) as number[]);
        break;
      }
      case 'Size': set(0, { elemType: DataType.INT64, dims: [] }); break;
      case 'Cast': set(0, { elemType: attrInt(node, 'to'), dims: x.dims }); break;
      case 'CastLike': set(0, { elemType: ins[1]?.elemType, dims: x.dims }); break;
      case 'ConstantOfShape': {
        const t = constantTensor(node);
        const shape = constOf(node.input[0]);
        const len = x.dims?.[0];
        set(0, { elemType: t ? (t.dataType as DataType) : DataType.FLOAT, dims: shape ?? (typeof len === 'number' ? new Array<Dim>(len).fill(null) : undefined) });
        break;
      }
      case 'MatMul': {
        const a = x.dims;
        const b = ins[1]?.dims;
        let dims: Dim[] | undefined;
        if (a && b) {
          const a2 = a.length === 1 ? [1, a[0]!] : a;
          const b2 = b.length === 1 ? [b[0]!, 1] : b;
          const batch = broadcastDims([a2.slice(0, -2), b2.slice(0, -2)])!;
          dims = [...batch, ...(a.length === 1 ? [] : [a2[a2.length - 2]!]), ...(b.length === 1 ? [] : [b2[b2.length - 1]!])];
        }
        set(0, { elemType: x.elemType, dims });
        break;
      }
      case 'Gemm': {
        const a = x.dims;
        const b = ins[1]?.dims;
        const m = a ? (attrInt(node, 'transA', 0) ? a[1] : a[0]) : null;
        const n = b ? (attrInt(node, 'transB', 0) ? b[0] : b[1]) : null;
        set(0, { elemType: x.elemType, dims: [m ?? null, n ?? null] });
        break;
      }
      case 'Conv': case 'ConvTranspose': case 'MaxPool': case 'AveragePool': {
        const w = ins[1]?.dims;
        const rank = x.dims?.length ?? (w ? w.length : undefined);
        const channels = op === 'Conv' ? w?.[0] ?? null : op === 'ConvTranspose' ? null : x.dims?.[1] ?? null;
        set(0, { elemType: x.elemType, dims: rank === undefined ? undefined : [x.dims?.[0] ?? null, channels, ...new Array<Dim>(rank - 2).fill(null)] });
        break;
      }
      case 'GlobalAveragePool': case 'GlobalMaxPool':
        set(0, { elemType: x.elemType, dims: x.dims?.map((d, k) => (k < 2 ? d : 1)) });
        break;
      case 'Transpose': {
        const perm = attrInts(node, 'perm') ?? (x.dims ? x.dims.map((_, k) => x.dims!.length - 1 - k) : undefined);
        set(0, { elemType: x.elemType, dims: x.dims && perm ? perm.map((p) => x.dims![p]!) : perm ? new Array<Dim>(perm.length).fill(null) : undefined });
        break;
      }
      case 'Reshape': {
        const shape = constOf(node.input[1]);
        const len = ins[1]?.dims?.[0];
        let dims: Dim[] | undefined;
        if (shape) dims = shape.map((s, k) => (s === 0 ? x.dims?.[k] ?? null : s === -1 ? null : s));
        else if (typeof len === 'number') dims = new Array<Dim>(len).fill(null);
        set(0, { elemType: x.elemType, dims });
        break;
      }
      case 'Flatten': set(0, { elemType: x.elemType, dims: [null, null] }); break;
      case 'Squeeze': case 'Unsqueeze': {
        const axes = attrInts(node, 'axes') ?? constOf(node.input[1]);
        let dims: Dim[] | undefined;
        if (x.dims && axes) {
          if (op === 'Squeeze') {
            const r = x.dims.length;
            const s = new Set(axes.map((a) => normAxis(a, r)));
            dims = x.dims.filter((_, k) => !s.has(k));
          } else {
            const r = x.dims.length + axes.length;
            const s = new Set(axes.map((a) => normAxis(a, r)));
            const rest = [...x.dims];
            dims = Array.from({ length: r }, (_, k) => (s.has(k) ? 1 : rest.shift()!));
          }
        } else if (x.dims && op === 'Squeeze' && !axes && x.dims.every((d) => typeof d === 'number')) dims = x.dims.filter((d) => d !== 1);
        set(0, { elemType: x.elemType, dims });
        break;
      }
      case 'Concat': {
        const axis = attrInt(node, 'axis', 0);
        const ranked = ins.find((i) => i.dims)?.dims;
        let dims: Dim[] | undefined;
        if (ranked) {
          const a = normAxis(axis, ranked.length);
          const parts = ins.map((i) => i.dims?.[a]);
          const total = parts.every((p) => typeof p === 'number') ? (parts as number[]).reduce((s, p) => s + p, 0) : null;
          dims = ranked.map((d, k) => (k === a ? total : d));
        }
        set(0, { elemType: x.elemType, dims });
        break;
      }
      case 'Split': {
        const axis = x.dims ? normAxis(attrInt(node, 'axis', 0), x.dims.length) : 0;
        const sizes = attrInts(node, 'split') ?? constOf(node.input[1]);
        node.output.forEach((_, k) => set(k, { elemType: x.elemType, dims: x.dims?.map((d, j) => (j === axis ? sizes?.[k] ?? null : d)) }));
        break;
      }
      case 'Slice': set(0, { elemType: x.elemType, dims: x.dims?.map(() => null) }); break;
      case 'Gather': {
        const idx = ins[1]?.dims;
        let dims: Dim[] | undefined;
        if (x.dims && idx) {
          const a = normAxis(attrInt(node, 'axis', 0), x.dims.length);
          dims = [...x.dims.slice(0, a), ...idx, ...x.dims.slice(a + 1)];
        }
        set(0, { elemType: x.elemType, dims });
        break;
      }
      case 'GatherElements': set(0, { elemType: x.elemType, dims: ins[1]?.dims }); break;
      case 'Expand': {
        const shape = constOf(node.input[1]);
        const len = ins[1]?.dims?.[0];
        let dims: Dim[] | undefined;
        if (shape) dims = broadcastDims([x.dims, shape]) ?? shape.map((s) => (s === 1 ? null : s));
        else if (typeof len === 'number' && x.dims) dims = new Array<Dim>(Math.max(len, x.dims.length)).fill(null);
        set(0, { elemType: x.elemType, dims });
        break;
      }
      case 'Tile': case 'Resize': case 'Upsample': case 'Pad': case 'ScatterElements': case 'ScatterND':
        set(0, { elemType: x.elemType, dims: x.dims?.map(() => null) });
        break;
      case 'Where': set(0, { elemType: ins[1]?.elemType, dims: broadcastDims(ins.map((i) => i.dims)) }); break;
      case 'Range': set(0, { elemType: x.elemType, dims: [null] }); break;
      case 'NonZero': set(0, { elemType: DataType.INT64, dims: [x.dims?.length ?? null, null] }); break;
      case 'ArgMax': case 'ArgMin': {
        const keep = attrInt(node, 'keepdims', 1) === 1;
        const a = x.dims ? normAxis(attrInt(node, 'axis', 0), x.dims.length) : 0;
        set(0, { elemType: DataType.INT64, dims: x.dims ? (keep ? x.dims.map((d, k) => (k === a ? 1 : d)) : x.dims.filter((_, k) => k !== a)) : undefined });
        break;
      }
      case 'EyeLike': set(0, { elemType: attrInt(node, 'dtype') ?? x.elemType, dims: x.dims }); break;
      case 'OneHot': set(0, { elemType: ins[2]?.elemType, dims: undefined }); break;
      default: set(0, { elemType: x.elemType });
    }
  }
}
