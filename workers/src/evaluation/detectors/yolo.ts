import * as ort from 'onnxruntime-node';
import type { RgbImage } from '../../image/rgb-image.ts';
import { centreSizeToCorners } from './box-format.ts';
import { COCO_CLASSES } from './coco-labels.ts';
import type { ClassDetection, CocoFormat } from './coco.ts';
import { nonMaxSuppression } from './nms.ts';
import { inputDims, type ModelSession } from './onnx-session.ts';
import { resizeLikePil, type Rgb8Image } from './pil-resize.ts';
import { pixelValues, toRgb8 } from './pixel-values.ts';
import { roundHalfEven } from './python-round.ts';

/*
 * YOLO-style COCO detectors as Ultralytics exports them: input `images` [1, 3, S, S] (RGB in 0..1,
 * letterboxed), one output holding, per candidate, a centre-size box in input pixels and class
 * scores: YOLOv5 [1, N, 85] (box, objectness, 80 class scores; score = objectness x class) or
 * YOLOv8 and later [1, 84, N] (box, 80 class scores). Class-aware NMS as Ultralytics' defaults
 * (IoU 0.45 for v5, 0.7 for v8), at most 300 boxes. One difference from Ultralytics: the letterbox
 * resize is Pillow's bilinear, not OpenCV's, so pixel values (not the geometry) differ slightly.
 */

const DEFAULT_INPUT_SIZE = 640;
const PAD_LEVEL = 114;
const MAX_DETECTIONS = 300;
const CLASS_COUNT = COCO_CLASSES.length;

/** Where the image sits in the square input: scaled by `gain`, shifted by (left, top). */
export interface Letterbox {
  gain: number;
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Ultralytics' LetterBox(auto=False): scale to fit, centred, grey bars; the rounding is Python's. */
export function letterboxGeometry(width: number, height: number, size: number): Letterbox {
  const gain = Math.min(size / height, size / width);
  const scaledWidth = roundHalfEven(width * gain);
  const scaledHeight = roundHalfEven(height * gain);
  const left = roundHalfEven((size - scaledWidth) / 2 - 0.1);
  const top = roundHalfEven((size - scaledHeight) / 2 - 0.1);
  return { gain, left, top, width: scaledWidth, height: scaledHeight };
}

export function letterboxImage(image: Rgb8Image, size: number, box: Letterbox): Rgb8Image {
  const scaled = resizeLikePil(image, box.width, box.height, 'bilinear');
  const data = new Uint8Array(size * size * 3).fill(PAD_LEVEL);
  for (let y = 0; y < box.height; y++) {
    data.set(scaled.data.subarray(y * box.width * 3, (y + 1) * box.width * 3), ((y + box.top) * size + box.left) * 3);
  }
  return { width: size, height: size, data };
}

/** Reads candidate `i`'s value `k` (0-3 box, then scores) whatever the layout. */
type Reader = (i: number, k: number) => number;

export type YoloLayout = 'v5' | 'v8';

/** The layout an output's shape says, or an error naming the shape. */
export function yoloLayout(dims: readonly number[], file: string): YoloLayout {
  if (dims.length === 3 && dims[0] === 1 && dims[2] === 5 + CLASS_COUNT) return 'v5';
  if (dims.length === 3 && dims[0] === 1 && dims[1] === 4 + CLASS_COUNT) return 'v8';
  throw new Error(`${file}: YOLO output has shape [${dims.join(', ')}], expected [1, N, ${5 + CLASS_COUNT}] (YOLOv5) or [1, ${4 + CLASS_COUNT}, N] (YOLOv8)`);
}

/** Scores, class-aware NMS, and boxes mapped back from the letterbox to the original image (clipped to it). */
export function decodeYolo(
  output: Float32Array,
  dims: readonly number[],
  layout: YoloLayout,
  box: Letterbox,
  image: { width: number; height: number },
  threshold: number,
): ClassDetection[] {
  const count = layout === 'v5' ? dims[1] : dims[2];
  const read: Reader = layout === 'v5' ? (i, k) => output[i * dims[2] + k] : (i, k) => output[k * count + i];
  const firstClass = layout === 'v5' ? 5 : 4;
  const toImageX = (x: number) => Math.min(image.width, Math.max(0, (x - box.left) / box.gain));
  const toImageY = (y: number) => Math.min(image.height, Math.max(0, (y - box.top) / box.gain));
  const candidates: ClassDetection[] = [];
  for (let i = 0; i < count; i++) {
    let classIndex = 0;
    for (let c = 1; c < CLASS_COUNT; c++) if (read(i, firstClass + c) > read(i, firstClass + classIndex)) classIndex = c;
    const score = read(i, firstClass + classIndex) * (layout === 'v5' ? read(i, 4) : 1);
    if (!(score > threshold)) continue;
    const [x0, y0, x1, y1] = centreSizeToCorners(read(i, 0), read(i, 1), read(i, 2), read(i, 3));
    candidates.push({ classIndex, score, box: [toImageX(x0), toImageY(y0), toImageX(x1), toImageY(y1)] });
  }
  return nonMaxSuppression(candidates, layout === 'v5' ? 0.45 : 0.7, MAX_DETECTIONS);
}

export function yoloFormat(model: ModelSession, threshold: number): CocoFormat {
  const declared = inputDims(model, 'images');
  const size = typeof declared[2] === 'number' && declared[2] > 0 ? declared[2] : DEFAULT_INPUT_SIZE;
  const outputName = model.session.outputNames[0];
  return {
    async detect(image: RgbImage) {
      const box = letterboxGeometry(image.width, image.height, size);
      const input = pixelValues(letterboxImage(toRgb8(image), size, box));
      const outputs = await model.session.run({ images: new ort.Tensor('float32', input, [1, 3, size, size]) });
      const tensor = outputs[outputName] as ort.Tensor;
      if (tensor.type !== 'float32') throw new Error(`${model.file}: output '${outputName}' is ${tensor.type}, expected float32`);
      const layout = yoloLayout(tensor.dims, model.file);
      return decodeYolo(tensor.data as Float32Array, tensor.dims, layout, box, image, threshold);
    },
  };
}
