import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

/** Where a detector's files are: `PATH` is the model file itself, or a folder holding `model.onnx` (as optimum exports it). */
export function resolveModelPath(path: string): { modelFile: string; folder: string } {
  if (!existsSync(path)) throw new Error(`${path}: no such model file or folder`);
  if (!statSync(path).isDirectory()) return { modelFile: path, folder: dirname(path) };
  const modelFile = join(path, 'model.onnx');
  if (!existsSync(modelFile)) throw new Error(`${path}: the folder has no model.onnx`);
  return { modelFile, folder: path };
}

/** An ONNX Runtime session that knows its file, for error messages. */
export interface ModelSession {
  file: string;
  session: ort.InferenceSession;
}

/** Opens a model and checks that it has the named inputs and outputs. */
export async function openModel(file: string, required: { inputs: readonly string[]; outputs: readonly string[] }): Promise<ModelSession> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file);
  } catch (err) {
    throw new Error(`${file}: ONNX Runtime cannot load the model (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  for (const [kind, names, present] of [
    ['input', required.inputs, session.inputNames],
    ['output', required.outputs, session.outputNames],
  ] as const) {
    const missing = names.find((name) => !present.includes(name));
    if (missing) throw new Error(`${file}: the model has no ${kind} '${missing}' (its ${kind}s: ${present.join(', ')})`);
  }
  return { file, session };
}

/** The element type an input expects (e.g. 'int64'), or undefined when the model does not say. */
export function inputType(model: ModelSession, name: string): ort.Tensor.Type | undefined {
  const meta = model.session.inputMetadata.find((m) => m.name === name);
  return meta?.isTensor ? meta.type : undefined;
}

/** An input's dimensions as the model declares them: numbers where fixed, strings where symbolic. */
export function inputDims(model: ModelSession, name: string): readonly (number | string)[] {
  const meta = model.session.inputMetadata.find((m) => m.name === name);
  return meta?.isTensor ? meta.shape : [];
}

/** Integer token data as the tensor type the model wants (int64 unless it declares int32). */
export function integerTensor(model: ModelSession, input: string, values: readonly number[], dims: readonly number[]): ort.Tensor {
  if (inputType(model, input) === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims);
  return new ort.Tensor(
    'int64',
    BigInt64Array.from(values, (v) => BigInt(v)),
    dims,
  );
}

/** A float32 output with its dimensions checked against `expected` (null = any size), named in errors. */
export function floatOutput(
  model: ModelSession,
  outputs: ort.InferenceSession.OnnxValueMapType,
  name: string,
  expected: readonly (number | null)[],
): { data: Float32Array; dims: readonly number[] } {
  const tensor = outputs[name] as ort.Tensor;
  if (tensor.type !== 'float32') throw new Error(`${model.file}: output '${name}' is ${tensor.type}, expected float32`);
  const dims = tensor.dims;
  if (dims.length !== expected.length || expected.some((d, i) => d !== null && d !== dims[i])) {
    const want = expected.map((d) => d ?? '*').join(', ');
    throw new Error(`${model.file}: output '${name}' has shape [${dims.join(', ')}], expected [${want}]`);
  }
  return { data: tensor.data as Float32Array, dims };
}
