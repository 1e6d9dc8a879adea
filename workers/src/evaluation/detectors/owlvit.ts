import * as ort from 'onnxruntime-node';
import type { RgbImage } from '../../image/rgb-image.ts';
import { loadTokenizer, type Tokenizer } from '../../text/tokenizer.ts';
import type { Detection } from '../detection.ts';
import { centreSizeToCorners } from './box-format.ts';
import type { Detector, DetectorOptions } from './detector.ts';
import { floatOutput, integerTensor, openModel, resolveModelPath } from './onnx-session.ts';
import { resizeLikePil } from './pil-resize.ts';
import { CLIP_NORMALIZATION, pixelValues, toRgb8 } from './pixel-values.ts';

/*
 * OWL-ViT (google/owlvit-base-patch32) as an ONNX export with inputs input_ids, pixel_values,
 * attention_mask and outputs logits [1, patches, queries], pred_boxes [1, patches, 4], run the way
 * Hugging Face's OwlViTProcessor and post_process_object_detection run it (and so VISOR).
 */

export const OWLVIT_IMAGE_SIZE = 768;
/** OWL-ViT's text encoder reads 16 tokens; the processor pads every query to that. */
export const OWLVIT_QUERY_LENGTH = 16;

/** The text query VISOR gives OWL-ViT for an object name. */
export function owlVitQuery(name: string): string {
  return `a photo of a ${name}`;
}

/** The processor's pixel_values: bicubic resize to 768 x 768 (aspect not kept), rescale by 1/255, CLIP mean/std. */
export function owlVitPixelValues(image: RgbImage): Float32Array {
  return pixelValues(resizeLikePil(toRgb8(image), OWLVIT_IMAGE_SIZE, OWLVIT_IMAGE_SIZE, 'bicubic'), CLIP_NORMALIZATION);
}

/** input_ids and attention_mask for the queries, row after row, each padded or truncated to 16 tokens. */
export function owlVitTextInputs(tokenizer: Tokenizer, names: readonly string[]): { ids: number[]; mask: number[] } {
  const encodings = names.map((name) => tokenizer.encode(owlVitQuery(name), { length: OWLVIT_QUERY_LENGTH }));
  return { ids: encodings.flatMap((e) => e.ids), mask: encodings.flatMap((e) => e.attentionMask) };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Hugging Face's post-processing: per patch, the query with the highest logit (the first on a tie)
 * is its label and the sigmoid of that logit its score; patches scoring above the threshold become
 * boxes, centre-size in [0, 1] scaled to the original image's pixel corners. Highest score first.
 */
export function decodeOwlVit(
  logits: Float32Array,
  boxes: Float32Array,
  names: readonly string[],
  width: number,
  height: number,
  threshold: number,
): Detection[] {
  const patches = boxes.length / 4;
  if (logits.length !== patches * names.length)
    throw new Error(`OWL-ViT outputs disagree: ${logits.length} logits for ${patches} patches x ${names.length} queries`);
  const detections: Detection[] = [];
  for (let p = 0; p < patches; p++) {
    let best = 0;
    for (let q = 1; q < names.length; q++) if (logits[p * names.length + q] > logits[p * names.length + best]) best = q;
    const score = sigmoid(logits[p * names.length + best]);
    if (!(score > threshold)) continue;
    const [cx, cy, w, h] = boxes.subarray(p * 4, p * 4 + 4);
    detections.push({ label: names[best], score, box: centreSizeToCorners(cx, cy, w, h, width, height) });
  }
  return detections.sort((a, b) => b.score - a.score);
}

/** OWL-ViT from an export folder (model.onnx beside the tokenizer files) or a model file whose folder holds them. */
export async function loadOwlVitDetector(path: string, options: DetectorOptions): Promise<Detector> {
  const { modelFile, folder } = resolveModelPath(path);
  const tokenizer = loadTokenizer(folder);
  const model = await openModel(modelFile, { inputs: ['input_ids', 'pixel_values', 'attention_mask'], outputs: ['logits', 'pred_boxes'] });
  return {
    name: `owlvit:${path}`,
    threshold: options.threshold,
    async detect(image, queries) {
      if (queries.length === 0) return [];
      const { ids, mask } = owlVitTextInputs(tokenizer, queries);
      const textDims = [queries.length, OWLVIT_QUERY_LENGTH];
      const outputs = await model.session.run({
        input_ids: integerTensor(model, 'input_ids', ids, textDims),
        attention_mask: integerTensor(model, 'attention_mask', mask, textDims),
        pixel_values: new ort.Tensor('float32', owlVitPixelValues(image), [1, 3, OWLVIT_IMAGE_SIZE, OWLVIT_IMAGE_SIZE]),
      });
      const logits = floatOutput(model, outputs, 'logits', [1, null, queries.length]);
      const boxes = floatOutput(model, outputs, 'pred_boxes', [1, logits.dims[1], 4]);
      return decodeOwlVit(logits.data, boxes.data, queries, image.width, image.height, options.threshold);
    },
  };
}
