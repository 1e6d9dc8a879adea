import * as ort from 'onnxruntime-node';
import type { RgbImage } from '../../image/rgb-image.ts';
import { centreSizeToCorners } from './box-format.ts';
import { COCO_CATEGORY_IDS } from './coco-labels.ts';
import type { ClassDetection, CocoFormat } from './coco.ts';
import { floatOutput, integerTensor, type ModelSession } from './onnx-session.ts';
import { resizeLikePil } from './pil-resize.ts';
import { IMAGENET_NORMALIZATION, pixelValues, toRgb8 } from './pixel-values.ts';
import { roundHalfEven } from './python-round.ts';

/*
 * DETR-style COCO detectors (facebook/detr-resnet-50 and kin, as optimum exports them): input
 * pixel_values (and pixel_mask, when the export has it), outputs logits [1, queries, 92] (91 class
 * slots indexed by COCO category id, then "no object") and pred_boxes [1, queries, 4] (centre-size in
 * [0, 1]). Pre- and post-processing follow Hugging Face's DetrImageProcessor.
 */

const SHORTEST_EDGE = 800;
const LONGEST_EDGE = 1333;
/** 91 category-id slots (0 to 90) and the no-object class */
const DETR_CLASS_SLOTS = 92;
/** COCO class index (0 to 79) by DETR class slot; the slots of unused category ids have none. */
const CLASS_OF_SLOT = new Map(COCO_CATEGORY_IDS.map((id, index) => [id, index]));

/**
 * The size DetrImageProcessor resizes to: shortest edge 800 unless that makes the longest edge pass
 * 1333 (a port of transformers' get_size_with_aspect_ratio, truncations and Python rounding included).
 */
export function detrResizeTarget(width: number, height: number): { width: number; height: number } {
  let size = SHORTEST_EDGE;
  let raw: number | undefined;
  const shorter = Math.min(width, height);
  const longer = Math.max(width, height);
  if ((longer / shorter) * size > LONGEST_EDGE) {
    raw = (LONGEST_EDGE * shorter) / longer;
    size = roundHalfEven(raw);
  }
  if ((height <= width && height === size) || (width <= height && width === size)) return { width, height };
  const scaled = raw ?? size;
  if (width < height) return { width: size, height: Math.trunc((scaled * height) / width) };
  return { width: Math.trunc((scaled * width) / height), height: size };
}

/** DetrImageProcessor's pixel_values: bilinear resize (Pillow's), rescale by 1/255, ImageNet mean/std. */
export function detrPixelValues(image: RgbImage): { data: Float32Array; width: number; height: number } {
  const { width, height } = detrResizeTarget(image.width, image.height);
  return { data: pixelValues(resizeLikePil(toRgb8(image), width, height, 'bilinear'), IMAGENET_NORMALIZATION), width, height };
}

/**
 * post_process_object_detection: softmax over all 92 classes, the best real class (no-object left
 * out) is the label and its probability the score; boxes scaled to the original image's pixels.
 * Category ids COCO leaves unused ("N/A") are dropped.
 */
export function decodeDetr(logits: Float32Array, boxes: Float32Array, width: number, height: number, threshold: number): ClassDetection[] {
  const queries = boxes.length / 4;
  const found: ClassDetection[] = [];
  for (let q = 0; q < queries; q++) {
    const row = logits.subarray(q * DETR_CLASS_SLOTS, (q + 1) * DETR_CLASS_SLOTS);
    const max = Math.max(...row);
    let total = 0;
    for (const logit of row) total += Math.exp(logit - max);
    let best = 0;
    for (let slot = 1; slot < DETR_CLASS_SLOTS - 1; slot++) if (row[slot] > row[best]) best = slot;
    const score = Math.exp(row[best] - max) / total;
    const classIndex = CLASS_OF_SLOT.get(best);
    if (classIndex === undefined || !(score > threshold)) continue;
    const [cx, cy, w, h] = boxes.subarray(q * 4, q * 4 + 4);
    found.push({ classIndex, score, box: centreSizeToCorners(cx, cy, w, h, width, height) });
  }
  return found;
}

export function detrFormat(model: ModelSession, threshold: number): CocoFormat {
  const wantsMask = model.session.inputNames.includes('pixel_mask');
  return {
    async detect(image) {
      const pixels = detrPixelValues(image);
      const feeds: Record<string, ort.Tensor> = { pixel_values: new ort.Tensor('float32', pixels.data, [1, 3, pixels.height, pixels.width]) };
      // One unpadded image: every pixel is real.
      if (wantsMask) feeds.pixel_mask = integerTensor(model, 'pixel_mask', new Array(pixels.width * pixels.height).fill(1), [1, pixels.height, pixels.width]);
      const outputs = await model.session.run(feeds);
      const logits = floatOutput(model, outputs, 'logits', [1, null, DETR_CLASS_SLOTS]);
      const boxes = floatOutput(model, outputs, 'pred_boxes', [1, logits.dims[1], 4]);
      return decodeDetr(logits.data, boxes.data, image.width, image.height, threshold);
    },
  };
}
