/**
 * The Gaussian smoothing the competitor methods apply to a token's attention map before reading it
 * (A&E utils/gaussian_smoothing.py:29-43 and its use at pipeline_attend_and_excite.py:216-219; the
 * same code in D&B, CONFORM and STORM): a depthwise convolution of the map padded by reflection by 1
 * on every side, whatever the kernel size (so kernel 5 shrinks a 16 x 16 map to 14 x 14).
 */
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import { DataType } from '../onnx/proto.ts';

const f32 = Math.fround;

/**
 * The kernel [size * size] as the references compute it, in float32: per axis
 * c exp(-((x - mu) / (2 sigma))^2), c = 1 / (sigma sqrt(2 pi)), x = 0 .. size - 1, mu = (size - 1) / 2
 * (2 sigma inside the square: a Gaussian of standard deviation sigma sqrt(2), not sigma), the outer
 * product divided by its sum. For size 3, sigma 0.5 the float32 sum of the result is 1.0000001, so a
 * saturated map smooths to a maximum above 1.
 */
export function referenceGaussianKernel(size: number, sigma: number): Float32Array {
  const mu = f32((size - 1) / 2);
  const c = f32(1 / (sigma * Math.sqrt(2 * Math.PI)));
  const twoSigma = f32(2 * sigma);
  const factor = Array.from({ length: size }, (_, x) => {
    const d = f32(f32(x - mu) / twoSigma);
    return f32(c * f32(Math.exp(-f32(d * d))));
  });
  const kernel = new Float32Array(size * size);
  for (let r = 0; r < size; r++) for (let col = 0; col < size; col++) kernel[r * size + col] = f32(factor[r]! * factor[col]!);
  let sum = 0;
  for (const v of kernel) sum = f32(sum + v);
  return kernel.map((v) => f32(v / sum));
}

/** The reflect padding of every map side (the references' F.pad(..., (1, 1, 1, 1), mode='reflect')). */
export const SMOOTHING_PADDING = 1;

/** The side of a smoothed map. */
export function smoothedSize(side: number, kernelSize: number): number {
  return side + 2 * SMOOTHING_PADDING - kernelSize + 1;
}

/**
 * Smooths maps [N, 1, H, W]: reflect padding of 1, then the reference kernel as a convolution, giving
 * [N, 1, H + 3 - size, W + 3 - size]. Reflect padding needs maps of at least 2 x 2.
 */
export function smoothMaps(b: GraphBuilder, maps: string, height: number, width: number, size: number, sigma: number): string {
  if (Math.min(height, width) < 2) throw new Error(`Gaussian smoothing pads by reflection, which needs maps of at least 2 x 2, not ${height} x ${width}`);
  if (smoothedSize(Math.min(height, width), size) < 1)
    throw new Error(`a ${size} x ${size} smoothing kernel does not fit a ${height} x ${width} map padded by ${SMOOTHING_PADDING}`);
  const p = SMOOTHING_PADDING;
  const padded = b.op('Pad', [maps, b.ints([0, 0, p, p, 0, 0, p, p])], { mode: 'reflect' });
  const kernel = b.constantTensor(DataType.FLOAT, [1, 1, size, size], [...referenceGaussianKernel(size, sigma)]);
  return b.op('Conv', [padded, kernel], { kernel_shape: [size, size] });
}
