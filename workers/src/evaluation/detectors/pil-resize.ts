/*
 * Image resizing exactly as Pillow does it for 8-bit images (libImaging/Resample.c), which is what
 * Hugging Face image processors run when given 8-bit pixels: a separable convolution, horizontal
 * pass first, whose kernel is widened by the scale factor when shrinking (antialiasing), with
 * fixed-point weights and each pass rounded back to 8 bits.
 */

/** An 8-bit RGB image, HWC like RgbImage: channel c of pixel (x, y) is data[(y * width + x) * 3 + c]. */
export interface Rgb8Image {
  width: number;
  height: number;
  data: Uint8Array;
}

interface Filter {
  support: number;
  weight(x: number): number;
}

export const RESAMPLE_FILTERS = {
  bilinear: { support: 1, weight: (x) => Math.max(0, 1 - Math.abs(x)) },
  bicubic: {
    support: 2,
    // Keys' cubic with a = -0.5, as Pillow uses
    weight(x) {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
} as const satisfies Record<string, Filter>;

export type ResampleFilter = keyof typeof RESAMPLE_FILTERS;

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;

/** Which input samples each output sample reads (first, count) and with what fixed-point weights. */
interface Kernel {
  size: number;
  first: Int32Array;
  count: Int32Array;
  weights: Float64Array;
}

function kernel(inSize: number, outSize: number, filter: Filter): Kernel {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const size = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * size);
  const raw = new Float64Array(size);
  const inverseScale = 1 / filterScale; // multiplied, not divided, to round as Pillow does
  for (let out = 0; out < outSize; out++) {
    const centre = (out + 0.5) * scale;
    // Math.trunc is C's (int) cast, which Pillow uses to round these bounds
    const lo = Math.max(0, Math.trunc(centre - support + 0.5));
    const n = Math.min(inSize, Math.trunc(centre + support + 0.5)) - lo;
    let total = 0;
    for (let k = 0; k < n; k++) {
      raw[k] = filter.weight((k + lo - centre + 0.5) * inverseScale);
      total += raw[k];
    }
    for (let k = 0; k < n; k++) {
      const w = total !== 0 ? raw[k] / total : raw[k];
      weights[out * size + k] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    first[out] = lo;
    count[out] = n;
  }
  return { size, first, count, weights };
}

function clip8(sum: number): number {
  if (sum <= 0) return 0;
  if (sum >= ONE * 256) return 255;
  return Math.floor(sum / ONE);
}

/** One pass along x (`alongX`) or along y, to width x height. */
function resamplePass(image: Rgb8Image, width: number, height: number, alongX: boolean, filter: Filter): Rgb8Image {
  const k = alongX ? kernel(image.width, width, filter) : kernel(image.height, height, filter);
  const out = new Uint8Array(width * height * 3);
  const stride = alongX ? 3 : image.width * 3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = alongX ? x : y;
      const base = alongX ? (y * image.width + k.first[o]) * 3 : (k.first[o] * image.width + x) * 3;
      for (let c = 0; c < 3; c++) {
        let sum = ONE / 2;
        for (let i = 0; i < k.count[o]; i++) sum += image.data[base + i * stride + c] * k.weights[o * k.size + i];
        out[(y * width + x) * 3 + c] = clip8(sum);
      }
    }
  }
  return { width, height, data: out };
}

/** Resizes to width x height as Pillow's `Image.resize(size, resample)` does for an RGB image. */
export function resizeLikePil(image: Rgb8Image, width: number, height: number, filter: ResampleFilter): Rgb8Image {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0)
    throw new Error(`resize target must be positive integers, got ${width} x ${height}`);
  const f = RESAMPLE_FILTERS[filter];
  const horizontal = width === image.width ? image : resamplePass(image, width, image.height, true, f);
  return height === image.height ? horizontal : resamplePass(horizontal, width, height, false, f);
}
