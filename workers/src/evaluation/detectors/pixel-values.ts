import type { Rgb, RgbImage } from '../../image/rgb-image.ts';
import type { Rgb8Image } from './pil-resize.ts';

/** CLIP's (and so OWL-ViT's) per-channel normalisation. */
export const CLIP_NORMALIZATION = { mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] } as const satisfies Normalization;
/** ImageNet's, used by DETR. */
export const IMAGENET_NORMALIZATION = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const satisfies Normalization;

export interface Normalization {
  mean: Rgb;
  std: Rgb;
}

/** The image's 8-bit pixels; exact for images read from 8-bit PNGs, whose channels are multiples of 1/255. */
export function toRgb8(image: RgbImage): Rgb8Image {
  const data = new Uint8Array(image.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(Math.min(1, Math.max(0, image.data[i])) * 255);
  return { width: image.width, height: image.height, data };
}

/**
 * A 1 x 3 x H x W float32 `pixel_values` tensor's data, computed as Hugging Face image processors do:
 * rescaled by 1/255 (in float64, then stored as float32), then, when given, (value - mean) / std in
 * float32 arithmetic (Math.fround after each step rounds exactly as float32 would).
 */
export function pixelValues(image: Rgb8Image, normalization?: Normalization): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(normalization?.mean[c] ?? 0);
    const std = Math.fround(normalization?.std[c] ?? 1);
    for (let p = 0; p < plane; p++) {
      const rescaled = Math.fround(image.data[p * 3 + c] * (1 / 255));
      out[c * plane + p] = normalization ? Math.fround(Math.fround(rescaled - mean) / std) : rescaled;
    }
  }
  return out;
}
