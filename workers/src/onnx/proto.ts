/**
 * The ONNX protobuf schema (the official onnx.proto, compiled for @bufbuild/protobuf by the
 * `onnx-buf` package) and small helpers to make and read its messages. protobuf-es keeps fields it
 * does not know on decode and writes them back on encode, so a round trip loses nothing.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType as AttributeType,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  TensorProto_DataLocation as DataLocation,
  TensorProto_DataType as DataType,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type TypeProto,
  type ValueInfoProto,
} from 'onnx-buf';

export {
  AttributeType,
  DataLocation,
  DataType,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  create,
  fromBinary,
  toBinary,
};
export type { AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, TypeProto, ValueInfoProto };

/** A dimension as ONNX states it: a number, a symbolic name, or unknown (null). */
export type Dim = number | string | null;

export const FLOAT_TYPES: ReadonlySet<DataType> = new Set([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16]);

export function isFloatType(t: DataType | undefined): boolean {
  return t !== undefined && FLOAT_TYPES.has(t);
}

export function dataTypeName(t: DataType): string {
  return DataType[t]?.toLowerCase() ?? `type ${t}`;
}

const BYTES_PER_ELEMENT: Partial<Record<DataType, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.DOUBLE]: 8,
  [DataType.FLOAT16]: 2,
  [DataType.BFLOAT16]: 2,
  [DataType.INT64]: 8,
  [DataType.INT32]: 4,
  [DataType.INT16]: 2,
  [DataType.INT8]: 1,
  [DataType.UINT64]: 8,
  [DataType.UINT32]: 4,
  [DataType.UINT16]: 2,
  [DataType.UINT8]: 1,
  [DataType.BOOL]: 1,
};

export function bytesPerElement(t: DataType): number {
  const n = BYTES_PER_ELEMENT[t];
  if (n === undefined) throw new Error(`no fixed element size for ONNX ${dataTypeName(t)}`);
  return n;
}

/** IEEE 754 binary16 encoding of a number (round to nearest even). */
export function toFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half += 1;
    return sign | half;
  }
  let half = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half += 1;
  return half;
}

export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Encodes numbers as the little-endian raw bytes of an ONNX tensor of type `t`. */
export function encodeRaw(t: DataType, values: ArrayLike<number | bigint>): Uint8Array<ArrayBuffer> {
  const n = values.length;
  const buf = new Uint8Array(n * bytesPerElement(t));
  const view = new DataView(buf.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    switch (t) {
      case DataType.FLOAT:
        view.setFloat32(i * 4, Number(v), true);
        break;
      case DataType.DOUBLE:
        view.setFloat64(i * 8, Number(v), true);
        break;
      case DataType.FLOAT16:
        view.setUint16(i * 2, toFloat16Bits(Number(v)), true);
        break;
      case DataType.BFLOAT16:
        view.setUint16(i * 2, new Uint32Array(new Float32Array([Number(v)]).buffer)[0]! >>> 16, true);
        break;
      case DataType.INT64:
        view.setBigInt64(i * 8, BigInt(v), true);
        break;
      case DataType.UINT64:
        view.setBigUint64(i * 8, BigInt(v), true);
        break;
      case DataType.INT32:
        view.setInt32(i * 4, Number(v), true);
        break;
      case DataType.UINT32:
        view.setUint32(i * 4, Number(v), true);
        break;
      case DataType.INT16:
        view.setInt16(i * 2, Number(v), true);
        break;
      case DataType.UINT16:
        view.setUint16(i * 2, Number(v), true);
        break;
      case DataType.INT8:
        view.setInt8(i, Number(v));
        break;
      case DataType.UINT8:
      case DataType.BOOL:
        view.setUint8(i, Number(v));
        break;
      default:
        throw new Error(`cannot encode ONNX ${dataTypeName(t)}`);
    }
  }
  return buf;
}

export function makeTensor(name: string, t: DataType, dims: readonly number[], values: ArrayLike<number | bigint>): TensorProto {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== values.length) throw new Error(`tensor ${name}: ${values.length} values for dims [${dims.join(', ')}]`);
  return create(TensorProtoSchema, { name, dataType: t, dims: dims.map(BigInt), rawData: encodeRaw(t, values) });
}

export function elementCount(tensor: TensorProto): number {
  return tensor.dims.reduce((a, d) => a * Number(d), 1);
}

/**
 * Decodes a tensor's values as numbers (int64 values beyond 2^53 lose precision, which never
 * matters for the shapes, axes and indices this is used for). External data must be loaded first.
 */
export function tensorValues(tensor: TensorProto): number[] {
  const n = elementCount(tensor);
  const t = tensor.dataType as DataType;
  if (tensor.dataLocation === DataLocation.EXTERNAL) throw new Error(`tensor ${tensor.name}: values are in external data`);
  if (tensor.rawData.length > 0) {
    const raw = tensor.rawData;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      switch (t) {
        case DataType.FLOAT:
          out[i] = view.getFloat32(i * 4, true);
          break;
        case DataType.DOUBLE:
          out[i] = view.getFloat64(i * 8, true);
          break;
        case DataType.FLOAT16:
          out[i] = fromFloat16Bits(view.getUint16(i * 2, true));
          break;
        case DataType.BFLOAT16:
          out[i] = new Float32Array(new Uint32Array([view.getUint16(i * 2, true) << 16]).buffer)[0]!;
          break;
        case DataType.INT64:
          out[i] = Number(view.getBigInt64(i * 8, true));
          break;
        case DataType.UINT64:
          out[i] = Number(view.getBigUint64(i * 8, true));
          break;
        case DataType.INT32:
          out[i] = view.getInt32(i * 4, true);
          break;
        case DataType.UINT32:
          out[i] = view.getUint32(i * 4, true);
          break;
        case DataType.INT16:
          out[i] = view.getInt16(i * 2, true);
          break;
        case DataType.UINT16:
          out[i] = view.getUint16(i * 2, true);
          break;
        case DataType.INT8:
          out[i] = view.getInt8(i);
          break;
        case DataType.UINT8:
        case DataType.BOOL:
          out[i] = view.getUint8(i);
          break;
        default:
          throw new Error(`tensor ${tensor.name}: cannot decode ${dataTypeName(t)}`);
      }
    }
    return out;
  }
  switch (t) {
    case DataType.FLOAT:
      return tensor.floatData.slice();
    case DataType.DOUBLE:
      return tensor.doubleData.slice();
    case DataType.INT64:
      return tensor.int64Data.map(Number);
    case DataType.UINT64:
    case DataType.UINT32:
      return tensor.uint64Data.map(Number);
    case DataType.FLOAT16:
      return tensor.int32Data.map(fromFloat16Bits);
    default:
      return tensor.int32Data.slice();
  }
}

/**
 * A shallow copy of a message with some fields replaced. protobuf-es keeps proto2 defaults on the
 * prototype (that is how it tracks field presence), so object spread would drop them.
 */
export function shallowCopy<T extends object>(message: T, changes: Partial<T>): T {
  return Object.assign(Object.create(Object.getPrototypeOf(message)) as T, message, changes);
}

// ---- attributes ----

export type AttributeValue = number | string | number[] | string[] | TensorProto | GraphProto;

/** Makes an attribute; integers and floats are told apart by `kind` since JS numbers are one type. */
export function makeAttribute(
  name: string,
  kind: 'int' | 'float' | 'string' | 'ints' | 'floats' | 'strings' | 'tensor' | 'graph',
  value: AttributeValue,
): AttributeProto {
  const enc = new TextEncoder();
  switch (kind) {
    case 'int':
      return create(AttributeProtoSchema, { name, type: AttributeType.INT, i: BigInt(value as number) });
    case 'float':
      return create(AttributeProtoSchema, { name, type: AttributeType.FLOAT, f: value as number });
    case 'string':
      return create(AttributeProtoSchema, { name, type: AttributeType.STRING, s: enc.encode(value as string) });
    case 'ints':
      return create(AttributeProtoSchema, { name, type: AttributeType.INTS, ints: (value as number[]).map(BigInt) });
    case 'floats':
      return create(AttributeProtoSchema, { name, type: AttributeType.FLOATS, floats: value as number[] });
    case 'strings':
      return create(AttributeProtoSchema, { name, type: AttributeType.STRINGS, strings: (value as string[]).map((s) => enc.encode(s)) });
    case 'tensor':
      return create(AttributeProtoSchema, { name, type: AttributeType.TENSOR, t: value as TensorProto });
    case 'graph':
      return create(AttributeProtoSchema, { name, type: AttributeType.GRAPH, g: value as GraphProto });
  }
}

/** Attributes written as plain JS values: integers (number), floats ({ f }), strings, lists, tensors. */
export type Attrs = Record<string, number | { f: number } | string | number[] | { floats: number[] } | string[] | TensorProto | undefined>;

export function attributesFrom(attrs: Attrs | undefined): AttributeProto[] {
  if (!attrs) return [];
  const out: AttributeProto[] = [];
  for (const [name, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (typeof v === 'number') out.push(makeAttribute(name, 'int', v));
    else if (typeof v === 'string') out.push(makeAttribute(name, 'string', v));
    else if (Array.isArray(v))
      out.push(v.length > 0 && typeof v[0] === 'string' ? makeAttribute(name, 'strings', v) : makeAttribute(name, 'ints', v as number[]));
    else if ('f' in v && typeof v.f === 'number') out.push(makeAttribute(name, 'float', v.f));
    else if ('floats' in v) out.push(makeAttribute(name, 'floats', v.floats));
    else out.push(makeAttribute(name, 'tensor', v as TensorProto));
  }
  return out;
}

export function findAttribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, fallback: number): number;
export function attrInt(node: NodeProto, name: string): number | undefined;
export function attrInt(node: NodeProto, name: string, fallback?: number): number | undefined {
  const a = findAttribute(node, name);
  return a ? Number(a.i) : fallback;
}

export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  const a = findAttribute(node, name);
  return a ? a.f : fallback;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = findAttribute(node, name);
  return a ? a.ints.map(Number) : undefined;
}

export function attrFloats(node: NodeProto, name: string): number[] | undefined {
  const a = findAttribute(node, name);
  return a ? a.floats.slice() : undefined;
}

export function attrString(node: NodeProto, name: string, fallback: string): string {
  const a = findAttribute(node, name);
  return a ? new TextDecoder().decode(a.s) : fallback;
}

// ---- types ----

export function tensorType(elemType: DataType, dims?: readonly Dim[]): TypeProto {
  const shape = dims
    ? create(TensorShapeProtoSchema, {
        dim: dims.map((d) =>
          create(TensorShapeProto_DimensionSchema, {
            value:
              typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : typeof d === 'string' ? { case: 'dimParam', value: d } : { case: undefined },
          }),
        ),
      })
    : undefined;
  return create(TypeProtoSchema, { value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType, shape }) } });
}

export function valueInfo(name: string, elemType: DataType, dims?: readonly Dim[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, { name, type: tensorType(elemType, dims) });
}

/** Element type and dims of a tensor-typed value info; dims undefined when the rank is unknown. */
export function describeValueInfo(info: ValueInfoProto): { elemType?: DataType; dims?: Dim[] } {
  const t = info.type?.value;
  if (t?.case !== 'tensorType') return {};
  const shape = t.value.shape;
  return {
    elemType: t.value.elemType as DataType,
    dims: shape?.dim.map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : null)),
  };
}
