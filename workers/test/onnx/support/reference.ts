/** Reads the PyTorch reference files (ref.json) the fixtures come with, and compares against them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

export interface RefTensor {
  dims: number[];
  data: number[];
  type?: string;
}

export interface UnetReference {
  inputs: Record<string, RefTensor>;
  loss: number;
  grad_loss_sample: RefTensor;
  out_sample: RefTensor;
  seed_out_sample: RefTensor;
  grad_weighted_out_sample: RefTensor;
  attn2_up: Record<string, RefTensor>;
}

export const REPO_ROOT = join(import.meta.dirname, '../../../..');
export const OPSET14_FIXTURE = join(REPO_ROOT, 'workers/test/fixtures/unet-opset14');
export const OPSET17_FIXTURE = join(REPO_ROOT, 'workers/test/fixtures/unet-opset17');

export function readReference(dir: string): UnetReference {
  return JSON.parse(readFileSync(join(dir, 'ref.json'), 'utf8')) as UnetReference;
}

export function toOrt(t: RefTensor): ort.Tensor {
  return t.type === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from(t.data.map(BigInt)), t.dims)
    : new ort.Tensor('float32', Float32Array.from(t.data), t.dims);
}

export function referenceFeeds(ref: UnetReference): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(ref.inputs).map(([k, v]) => [k, toOrt(v)]));
}

/** ||a - b|| / ||b|| */
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}
