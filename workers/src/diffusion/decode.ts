/**
 * Latents to pictures: through the VAE decoder when the model has one (latent / scaling factor,
 * docs/method.md §1), else the latent is the picture itself (pixel-space models, first three channels).
 * Either way values in [-1, 1] map to [0, 1].
 */
import type * as ort from 'onnxruntime-node';
import { createRgbImage, type RgbImage } from '../image/rgb-image.ts';
import { float32Data, floatTensor, type FloatType } from './float-data.ts';
import type { VaeDecoderPart } from './model-folder.ts';

/** CHW values in [-1, 1] -> an RGB image in [0, 1]. */
function toImage(chw: Float32Array, channels: number, height: number, width: number): RgbImage {
  if (channels < 3) throw new Error(`cannot make an RGB picture from ${channels} channels`);
  const image = createRgbImage(width, height);
  const plane = height * width;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) image.data[p * 3 + c] = Math.min(Math.max(chw[c * plane + p]! / 2 + 0.5, 0), 1);
  }
  return image;
}

export async function decodeLatent(
  latent: Float32Array,
  dims: { channels: number; height: number; width: number },
  vae: { part: VaeDecoderPart; session: ort.InferenceSession } | null,
): Promise<RgbImage> {
  if (!vae) return toImage(latent, dims.channels, dims.height, dims.width);
  const scaled = latent.map((v) => v / vae.part.scalingFactor);
  const input = floatTensor(vae.part.latent.type as FloatType, scaled, [1, dims.channels, dims.height, dims.width]);
  const out = await vae.session.run({ [vae.part.latent.name]: input });
  const image = out[vae.part.image.name]!;
  const [, channels, height, width] = image.dims as number[];
  return toImage(float32Data(image, 'the VAE decoder output'), channels!, height!, width!);
}
