/**
 * Reading and writing ONNX model files, including weights kept in external data files (every
 * Stable Diffusion U-Net is over protobuf's 2 GB limit and ships that way). External tensors are
 * not read into memory on load: their source is remembered, checked, and copied on save.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { DataLocation, ModelProtoSchema, StringStringEntryProtoSchema, create, fromBinary, toBinary, type ModelProto, type TensorProto } from './proto.ts';

export class OnnxFileError extends Error {}

interface ExternalSource {
  path: string;
  offset: number;
  length: number;
}

/** Where each externally stored tensor of a loaded model lives on disk. */
const externalSources = new WeakMap<TensorProto, ExternalSource>();

/** Tensors stored as initializers or in Constant nodes, at any depth of subgraphs. */
function* allTensors(model: ModelProto): Generator<TensorProto> {
  const stack = model.graph ? [model.graph] : [];
  while (stack.length) {
    const g = stack.pop()!;
    yield* g.initializer;
    for (const n of g.node) {
      for (const a of n.attribute) {
        if (a.t) yield a.t;
        yield* a.tensors;
        if (a.g) stack.push(a.g);
        stack.push(...a.graphs);
      }
    }
  }
}

function externalEntry(tensor: TensorProto, key: string): string | undefined {
  return tensor.externalData.find((e) => e.key === key)?.value;
}

/** Decodes an ONNX model from bytes; `source` names it in errors. */
export function parseModel(bytes: Uint8Array, source = 'model'): ModelProto {
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (err) {
    throw new OnnxFileError(`${source} is not a readable ONNX model (truncated or not protobuf: ${(err as Error).message})`);
  }
  if (!model.graph || model.irVersion === 0n || (model.graph.node.length === 0 && model.graph.output.length === 0)) {
    throw new OnnxFileError(`${source} is not an ONNX model (no ir_version or no graph)`);
  }
  return model;
}

/** Loads a model file; external data files are located and checked but not read. */
export function loadModel(path: string): ModelProto {
  if (!existsSync(path)) throw new OnnxFileError(`model file not found: ${path}`);
  const model = parseModel(readFileSync(path), path);
  const dir = dirname(resolve(path));
  for (const t of allTensors(model)) {
    if (t.dataLocation !== DataLocation.EXTERNAL) continue;
    const location = externalEntry(t, 'location');
    if (!location) throw new OnnxFileError(`${path}: tensor '${t.name}' is external but names no location`);
    if (isAbsolute(location) || location.split(/[\\/]/).includes('..')) {
      throw new OnnxFileError(`${path}: tensor '${t.name}' points outside the model folder (${location})`);
    }
    const file = join(dir, location);
    if (!existsSync(file)) throw new OnnxFileError(`missing external data file ${file} (tensor '${t.name}' of ${path})`);
    const offset = Number(externalEntry(t, 'offset') ?? 0);
    const size = statSync(file).size;
    const length = Number(externalEntry(t, 'length') ?? size - offset);
    if (offset + length > size) {
      throw new OnnxFileError(`external data file ${file} is too short for tensor '${t.name}' (needs bytes ${offset}..${offset + length}, has ${size})`);
    }
    externalSources.set(t, { path: file, offset, length });
  }
  return model;
}

/** The raw bytes of a tensor, read from its external file if it has one. */
export function tensorBytes(tensor: TensorProto): Uint8Array {
  const src = externalSources.get(tensor);
  if (!src) return tensor.rawData;
  const buf = new Uint8Array(src.length);
  const fd = openSync(src.path, 'r');
  try {
    let done = 0;
    while (done < src.length) done += readSync(fd, buf, done, src.length - done, src.offset + done);
  } finally {
    closeSync(fd);
  }
  return buf;
}

export function hasExternalData(model: ModelProto): boolean {
  for (const t of allTensors(model)) if (t.dataLocation === DataLocation.EXTERNAL) return true;
  return false;
}

/** Tensors at least this large go to the external file when one is written. */
const EXTERNAL_MIN_BYTES = 1024;
/** Protobuf cannot serialize a message over 2 GiB; stay well below it. */
const INLINE_LIMIT_BYTES = 1.5 * 2 ** 30;
const EXTERNAL_ALIGNMENT = 4096;

export interface SaveOptions {
  /** true: weights go to `<file>.data`; false: inline; 'auto' (default): external when the source had external data or the model is too large to inline. */
  externalData?: boolean | 'auto';
}

/**
 * Temporarily rewrites tensors (data location and bytes), runs `body`, and restores them, so the
 * caller's model is unchanged and tensors keep every field this code does not know about.
 */
function withTensorsRewritten<T>(
  rewrites: Array<{ tensor: TensorProto; rawData: Uint8Array; location: DataLocation; entries: Array<[string, string]> }>,
  body: () => T,
): T {
  const saved = rewrites.map(({ tensor }) => ({ tensor, rawData: tensor.rawData, dataLocation: tensor.dataLocation, externalData: tensor.externalData }));
  try {
    for (const r of rewrites) {
      r.tensor.rawData = r.rawData as Uint8Array<ArrayBuffer>;
      r.tensor.dataLocation = r.location;
      r.tensor.externalData = r.entries.map(([key, value]) => create(StringStringEntryProtoSchema, { key, value }));
    }
    return body();
  } finally {
    for (const s of saved) {
      s.tensor.rawData = s.rawData;
      s.tensor.dataLocation = s.dataLocation;
      s.tensor.externalData = s.externalData;
    }
  }
}

/** Serializes a model with all weights inline (reading external ones). */
export function serializeModel(model: ModelProto): Uint8Array {
  const inlined = [...allTensors(model)]
    .filter((t) => t.dataLocation === DataLocation.EXTERNAL)
    .map((tensor) => ({ tensor, rawData: tensorBytes(tensor), location: DataLocation.DEFAULT, entries: [] as Array<[string, string]> }));
  return withTensorsRewritten(inlined, () => toBinary(ModelProtoSchema, model));
}

/** Where each tensor of a weights file lies in it. */
export type WeightsLayout = Map<TensorProto, { offset: number; length: number }>;

/**
 * Where tensors go in an external data file, in the order given: those of at least
 * EXTERNAL_MIN_BYTES, or already external, each at an aligned offset. The same tensors (by content
 * and order) always get the same layout, so one file serves every model that references them.
 */
export function weightsLayout(tensors: Iterable<TensorProto>): WeightsLayout {
  const layout: WeightsLayout = new Map();
  let offset = 0;
  for (const tensor of tensors) {
    const length = externalSources.get(tensor)?.length ?? tensor.rawData.length;
    if (length < EXTERNAL_MIN_BYTES && tensor.dataLocation !== DataLocation.EXTERNAL) continue;
    const padded = Math.ceil(offset / EXTERNAL_ALIGNMENT) * EXTERNAL_ALIGNMENT;
    layout.set(tensor, { offset: padded, length });
    offset = padded + length;
  }
  return layout;
}

/** Writes a layout's tensors into `path`, atomically. */
export function writeWeightsFile(path: string, layout: WeightsLayout): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    for (const [tensor, { offset }] of layout) {
      const bytes = tensorBytes(tensor);
      writeSync(fd, bytes, 0, bytes.length, offset);
    }
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Writes a model (atomically) whose initializers in `layout` are references into `dataName`, a
 * weights file beside `path` that writeWeightsFile wrote (or will); every other tensor inline.
 * Only top-level initializers may be external (where every runtime looks for external weights).
 */
export function saveModelReferencing(model: ModelProto, path: string, dataName: string, layout: WeightsLayout): void {
  const initializers = new Set(model.graph?.initializer ?? []);
  const rewrites: Parameters<typeof withTensorsRewritten>[0] = [];
  for (const tensor of allTensors(model)) {
    const place = initializers.has(tensor) ? layout.get(tensor) : undefined;
    if (place)
      rewrites.push({
        tensor,
        rawData: new Uint8Array(),
        location: DataLocation.EXTERNAL,
        entries: [
          ['location', dataName],
          ['offset', String(place.offset)],
          ['length', String(place.length)],
        ],
      });
    else if (tensor.dataLocation === DataLocation.EXTERNAL)
      rewrites.push({ tensor, rawData: tensorBytes(tensor), location: DataLocation.DEFAULT, entries: [] });
  }
  writeFileAtomic(
    path,
    withTensorsRewritten(rewrites, () => toBinary(ModelProtoSchema, model)),
  );
}

/**
 * Writes a model atomically: nothing is left at `path` (or its data file) if writing fails.
 * Returns the paths written.
 */
export function saveModel(model: ModelProto, path: string, options: SaveOptions = {}): string[] {
  const tensors = [...allTensors(model)];
  const size = tensors.reduce((s, t) => s + (externalSources.get(t)?.length ?? t.rawData.length), 0);
  const mode = options.externalData ?? 'auto';
  const external = mode === true || (mode === 'auto' && (size > INLINE_LIMIT_BYTES || tensors.some((t) => t.dataLocation === DataLocation.EXTERNAL)));
  if (!external) {
    if (size > INLINE_LIMIT_BYTES)
      throw new OnnxFileError(`model weights (${(size / 2 ** 30).toFixed(2)} GiB) are too large to inline; save with external data`);
    writeFileAtomic(path, serializeModel(model));
    return [path];
  }
  const dataName = `${basename(path)}.data`;
  const dataPath = join(dirname(path), dataName);
  const layout = weightsLayout(model.graph?.initializer ?? []);
  writeWeightsFile(dataPath, layout);
  try {
    saveModelReferencing(model, path, dataName, layout);
  } catch (err) {
    rmSync(dataPath, { force: true });
    throw err;
  }
  return [path, dataPath];
}
