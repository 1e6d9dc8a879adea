/**
 * Float tensors in whichever precision a model takes: exported Stable Diffusion models are often
 * fp16, while the engine computes on float32 arrays. (Node 20 has no Float16Array: ONNX Runtime
 * hands fp16 data over as the raw 16-bit patterns in a Uint16Array.)
 */
import * as ort from 'onnxruntime-node';
import { fromFloat16Bits, toFloat16Bits } from '../onnx/proto.ts';

export type FloatType = 'float32' | 'float16';

/** A tensor's values as float32; `what` names it in the error for a non-float tensor. */
export function float32Data(tensor: ort.Tensor, what: string): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') return Float32Array.from(tensor.data as Uint16Array, fromFloat16Bits);
  throw new Error(`${what} is ${tensor.type}, expected float32 or float16`);
}

/** A tensor of `type` holding `values`. */
export function floatTensor(type: FloatType, values: Float32Array, dims: readonly number[]): ort.Tensor {
  if (type === 'float32') return new ort.Tensor('float32', values, dims);
  return new ort.Tensor('float16', Uint16Array.from(values, toFloat16Bits), dims);
}
