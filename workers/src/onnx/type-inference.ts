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
  /**
   * Known contents of small tensors: constants (shapes, axes, exponents) and shape arithmetic
   * (Shape -> Gather -> Concat ...), whose elements may be symbols or unknown (null).
   */
  constants: Map<string, Dim[]>;
}

const SAME_AS_INPUT = new Set([
  'Abs',
  'Neg',
  'Exp',
  'Log',
  'Sqrt',
  'Erf',
  'Tanh',
  'Sigmoid',
  'Relu',
  'LeakyRelu',
  'Softplus',
  'Softmax',
  'LogSoftmax',
  'Identity',
  'Dropout',
  'Sin',
  'Cos',
  'Reciprocal',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Clip',
  'Elu',
  'Selu',
  'Celu',
  'HardSigmoid',
  'HardSwish',
  'Gelu',
  'Mish',
  'Softsign',
  'InstanceNormalization',
  'LayerNormalization',
  'GroupNormalization',
  'BatchNormalization',
  'Trilu',
  'CumSum',
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
  const constants = new Map<string, Dim[]>();
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
  const get = (name: string | undefined): ValueType => (name ? (types.get(name) ?? {}) : {});
  const known = (name: string | undefined): Dim[] | undefined => (name ? constants.get(name) : undefined);
  const constOf = (name: string | undefined): number[] | undefined => {
    const v = known(name);
    return v && v.every((d) => typeof d === 'number') ? (v as number[]) : undefined;
  };
  const setKnown = (v: Dim[] | undefined) => {
    if (v && node.output[0] && v.length <= SMALL_CONSTANT) constants.set(node.output[0], v);
  };

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
    setKnown(shapeArithmetic(op, known(node.input[0]), known(node.input[1]), x.elemType));
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
        setKnown(x.dims?.slice(start, end));
        break;
      }
      case 'Size':
        set(0, { elemType: DataType.INT64, dims: [] });
        break;
      case 'Cast':
        set(0, { elemType: attrInt(node, 'to'), dims: x.dims });
        setKnown(known(node.input[0]));
        break;
      case 'CastLike':
        set(0, { elemType: ins[1]?.elemType, dims: x.dims });
        break;
      case 'ConstantOfShape': {
        const t = constantTensor(node);
        const shape = known(node.input[0]);
        const len = x.dims?.[0];
        set(0, {
          elemType: t ? (t.dataType as DataType) : DataType.FLOAT,
          dims: shape ?? (typeof len === 'number' ? new Array<Dim>(len).fill(null) : undefined),
        });
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
      case 'Conv':
      case 'ConvTranspose':
      case 'MaxPool':
      case 'AveragePool': {
        const w = ins[1]?.dims;
        const rank = x.dims?.length ?? (w ? w.length : undefined);
        const channels = op === 'Conv' ? (w?.[0] ?? null) : op === 'ConvTranspose' ? null : (x.dims?.[1] ?? null);
        const spatial =
          rank === undefined
            ? []
            : Array.from({ length: rank - 2 }, (_, k) => (op === 'ConvTranspose' ? null : windowOutput(node, k, rank - 2, x.dims?.[k + 2], w?.[k + 2])));
        set(0, { elemType: x.elemType, dims: rank === undefined ? undefined : [x.dims?.[0] ?? null, channels, ...spatial] });
        break;
      }
      case 'GlobalAveragePool':
      case 'GlobalMaxPool':
        set(0, { elemType: x.elemType, dims: x.dims?.map((d, k) => (k < 2 ? d : 1)) });
        break;
      case 'Transpose': {
        const perm = attrInts(node, 'perm') ?? (x.dims ? x.dims.map((_, k) => x.dims!.length - 1 - k) : undefined);
        set(0, { elemType: x.elemType, dims: x.dims && perm ? perm.map((p) => x.dims![p]!) : perm ? new Array<Dim>(perm.length).fill(null) : undefined });
        break;
      }
      case 'Reshape': {
        const shape = known(node.input[1]);
        const len = ins[1]?.dims?.[0];
        let dims: Dim[] | undefined;
        if (shape) dims = reshapeDims(x.dims, shape, attrInt(node, 'allowzero', 0) === 1);
        else if (typeof len === 'number') dims = new Array<Dim>(len).fill(null);
        set(0, { elemType: x.elemType, dims });
        setKnown(known(node.input[0]));
        break;
      }
      case 'Flatten':
        set(0, { elemType: x.elemType, dims: [null, null] });
        break;
      case 'Squeeze':
      case 'Unsqueeze': {
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
        setKnown(known(node.input[0]));
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
        const parts = node.input.map(known);
        if (parts.every((p) => p !== undefined)) setKnown(parts.flat() as Dim[]);
        break;
      }
      case 'Split': {
        const axis = x.dims ? normAxis(attrInt(node, 'axis', 0), x.dims.length) : 0;
        const sizes = attrInts(node, 'split') ?? constOf(node.input[1]);
        node.output.forEach((_, k) => set(k, { elemType: x.elemType, dims: x.dims?.map((d, j) => (j === axis ? (sizes?.[k] ?? null) : d)) }));
        break;
      }
      case 'Slice': {
        const [starts, ends, axes, steps] = [1, 2, 3, 4].map((k) => constOf(node.input[k]));
        let dims = x.dims?.map(() => null as Dim);
        if (x.dims && starts && ends) {
          dims = [...x.dims];
          starts.forEach((start, k) => {
            const axis = normAxis(axes?.[k] ?? k, x.dims!.length);
            const size = x.dims![axis];
            dims![axis] = typeof size === 'number' ? sliceIndices(size, start, ends[k]!, steps?.[k] ?? 1).length : null;
          });
          const data = known(node.input[0]);
          if (data && x.dims.length === 1) setKnown(sliceIndices(data.length, starts[0]!, ends[0]!, steps?.[0] ?? 1).map((i) => data[i]!));
        }
        set(0, { elemType: x.elemType, dims });
        break;
      }
      case 'Gather': {
        const idx = ins[1]?.dims;
        let dims: Dim[] | undefined;
        if (x.dims && idx) {
          const a = normAxis(attrInt(node, 'axis', 0), x.dims.length);
          dims = [...x.dims.slice(0, a), ...idx, ...x.dims.slice(a + 1)];
        }
        set(0, { elemType: x.elemType, dims });
        const data = known(node.input[0]);
        const picks = constOf(node.input[1]);
        if (data && picks && x.dims?.length === 1) setKnown(picks.map((i) => data[i < 0 ? i + data.length : i] ?? null));
        break;
      }
      case 'GatherElements':
        set(0, { elemType: x.elemType, dims: ins[1]?.dims });
        break;
      case 'Expand': {
        const shape = known(node.input[1]);
        const len = ins[1]?.dims?.[0];
        let dims: Dim[] | undefined;
        if (shape) dims = broadcastDims([x.dims, shape]) ?? shape.map((s) => (s === 1 ? null : s));
        else if (typeof len === 'number' && x.dims) dims = new Array<Dim>(Math.max(len, x.dims.length)).fill(null);
        set(0, { elemType: x.elemType, dims });
        break;
      }
      case 'Resize': {
        const scales = constOf(node.input[2]);
        const sizes = known(node.input[3]);
        const axesAttr = attrInts(node, 'axes');
        const dims = x.dims?.map((d, k) => {
          const j = axesAttr ? axesAttr.map((a) => normAxis(a, x.dims!.length)).indexOf(k) : k;
          if (j < 0) return d;
          if (sizes) return sizes[j] ?? null;
          return scales && typeof d === 'number' ? Math.floor(d * scales[j]!) : scales?.[j] === 1 ? d : null;
        });
        set(0, { elemType: x.elemType, dims });
        break;
      }
      case 'ScatterElements':
      case 'ScatterND':
        set(0, x);
        break;
      case 'Tile':
      case 'Upsample':
      case 'Pad':
        set(0, { elemType: x.elemType, dims: x.dims?.map(() => null) });
        break;
      case 'Where':
        set(0, { elemType: ins[1]?.elemType, dims: broadcastDims(ins.map((i) => i.dims)) });
        break;
      case 'Range':
        set(0, { elemType: x.elemType, dims: [null] });
        break;
      case 'NonZero':
        set(0, { elemType: DataType.INT64, dims: [x.dims?.length ?? null, null] });
        break;
      case 'ArgMax':
      case 'ArgMin': {
        const keep = attrInt(node, 'keepdims', 1) === 1;
        const a = x.dims ? normAxis(attrInt(node, 'axis', 0), x.dims.length) : 0;
        set(0, { elemType: DataType.INT64, dims: x.dims ? (keep ? x.dims.map((d, k) => (k === a ? 1 : d)) : x.dims.filter((_, k) => k !== a)) : undefined });
        break;
      }
      case 'EyeLike':
        set(0, { elemType: attrInt(node, 'dtype') ?? x.elemType, dims: x.dims });
        break;
      case 'OneHot':
        set(0, { elemType: ins[2]?.elemType, dims: undefined });
        break;
      default:
        set(0, { elemType: x.elemType });
    }
  }
}

/** Element-wise integer arithmetic on known shape values (symbols and unknowns give null). */
function shapeArithmetic(op: string, a: Dim[] | undefined, b: Dim[] | undefined, t: DataType | undefined): Dim[] | undefined {
  if (!a || !b || (t !== DataType.INT64 && t !== DataType.INT32)) return undefined;
  const n = Math.max(a.length, b.length);
  if ((a.length !== n && a.length !== 1) || (b.length !== n && b.length !== 1)) return undefined;
  return Array.from({ length: n }, (_, k) => {
    const x = a[a.length === 1 ? 0 : k];
    const y = b[b.length === 1 ? 0 : k];
    if (typeof x !== 'number' || typeof y !== 'number') return null;
    switch (op) {
      case 'Add':
        return x + y;
      case 'Sub':
        return x - y;
      case 'Mul':
        return x * y;
      case 'Div':
        return y === 0 ? null : Math.trunc(x / y);
      default:
        return null;
    }
  });
}

/** Reshape's output dims: 0 copies the input dim (unless allowzero), -1 takes what is left. */
function reshapeDims(input: Dim[] | undefined, shape: Dim[], allowZero: boolean): Dim[] {
  const dims = shape.map((s, k) => (s === 0 && !allowZero ? (input?.[k] ?? null) : s === -1 ? -1 : s));
  const inferred = dims.indexOf(-1);
  if (inferred >= 0) {
    const total = input?.every((d) => typeof d === 'number') ? (input as number[]).reduce((p, d) => p * d, 1) : null;
    const rest = dims.filter((_, k) => k !== inferred);
    dims[inferred] = total !== null && rest.every((d) => typeof d === 'number') ? total / (rest as number[]).reduce((p, d) => p * d, 1) : null;
  }
  return dims;
}

/** Output size of a Conv/pool window along spatial axis k, when the input size is a number. */
function windowOutput(node: NodeProto, k: number, spatial: number, input: Dim | undefined, weight: Dim | undefined): Dim {
  const kernel = attrInts(node, 'kernel_shape')?.[k] ?? weight;
  if (typeof input !== 'number' || typeof kernel !== 'number') return null;
  const autoPad = new TextDecoder().decode(findAttribute(node, 'auto_pad')?.s ?? new Uint8Array());
  const stride = attrInts(node, 'strides')?.[k] ?? 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(input / stride);
  const pads = autoPad === 'VALID' ? [] : (attrInts(node, 'pads') ?? []);
  const dilation = attrInts(node, 'dilations')?.[k] ?? 1;
  const span = input + (pads[k] ?? 0) + (pads[k + spatial] ?? 0) - dilation * (kernel - 1) - 1;
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  return (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
}

/** The indices Slice picks from a dimension of `size` (ONNX clamping rules, any step). */
export function sliceIndices(size: number, start: number, end: number, step: number): number[] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + size : start;
  let e = end < 0 ? end + size : end;
  if (step > 0) {
    s = clamp(s, 0, size);
    e = clamp(e, 0, size);
  } else {
    s = clamp(s, -1, size - 1);
    e = clamp(e, -1, size - 1);
  }
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
  return out;
}
